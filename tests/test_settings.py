"""Settings come from the environment; production refuses unsafe or missing values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOD_KEY = "k" * 20 + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0123456789"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KEHU_", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"))
    }
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_requires_a_secret_key(tmp_path):
    result = manage(
        "check", KEHU_ENV="production", ALLOWED_HOSTS="crm.example.com", KEHU_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_requires_allowed_hosts(tmp_path):
    result = manage("check", KEHU_ENV="production", SECRET_KEY=GOOD_KEY, KEHU_VAR_DIR=str(tmp_path))
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_debug(tmp_path):
    result = manage(
        "check",
        KEHU_ENV="production",
        DEBUG="true",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="crm.example.com",
        KEHU_VAR_DIR=str(tmp_path),
    )
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        KEHU_ENV="production",
        SECRET_KEY=GOOD_KEY,
        ALLOWED_HOSTS="crm.example.com",
        KEHU_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_default_generates_a_secret_key_once(tmp_path):
    assert manage("check", KEHU_VAR_DIR=str(tmp_path)).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    assert manage("check", KEHU_VAR_DIR=str(tmp_path)).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_sqlite_is_tuned_for_no_lost_writes(tmp_path):
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='kehu.settings'; django.setup();"
        "from django.db import connection; c=connection.cursor();"
        "print(c.execute('pragma journal_mode').fetchone()[0], c.execute('pragma synchronous').fetchone()[0],"
        " c.execute('pragma busy_timeout').fetchone()[0], connection.settings_dict['OPTIONS']['transaction_mode'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KEHU_VAR_DIR"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["wal", "2", "20000", "IMMEDIATE"]


def test_bad_typed_values_stop_startup_clearly(tmp_path):
    result = manage("check", KEHU_VAR_DIR=str(tmp_path), DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be true or false" in result.stderr
