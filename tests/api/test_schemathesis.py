"""Schemathesis against the live schema: every operation, all checks, a modest budget.

Zero 5xx and zero schema violations, with an administrator's token (so every operation
is reachable) on whichever database this run uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import factories
from tests.conftest import seed_reference_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("KEHU_SCHEMATHESIS_EXAMPLES", "12")


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_errors_or_schema_violations(live_server, tmp_path):
    seed_reference_data()
    admin = factories.user("st-admin", role_code="administrator")
    factories.team("st-team", "sales")
    _token, secret = factories.api_token(admin)
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "2026",
        "--generation-deterministic",
        "-H",
        f"Authorization: Bearer {secret}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        "--no-color",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
