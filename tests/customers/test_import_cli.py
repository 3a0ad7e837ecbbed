"""`kehu import customers FILE --as USERNAME …`, run as a user runs it (a real process on a
real SQLite file); a subprocess killed half-way through an import, then resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dataio.helpers import csv_bytes
from tests.test_cli import ROOT, kehu


@pytest.fixture(scope="module")
def var(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("var")
    kehu(path, "migrate", "-v", "0")
    kehu(path, "user", "create", "sales1", "--role", "sales", "--password", "Sales-Pass-2026")
    kehu(path, "user", "create", "member1", "--role", "member", "--password", "Member-Pass-2026")
    return path


def _count(var: Path, where: str = "1=1") -> int:
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        return db.execute(f"select count(*) from customers_customer where {where}").fetchone()[0]  # noqa: S608


def test_import_prints_a_json_summary(var, tmp_path):
    path = tmp_path / "客户.csv"
    path.write_bytes(
        csv_bytes(
            [["姓名", "手机"], ["张三", "13812345678"], ["李四", "bad"], ["张三", "13812345678"]],
            encoding="gbk",
        )
    )
    dry = json.loads(
        kehu(var, "import", "customers", str(path), "--as", "sales1", "--dry-run").stdout
    )
    assert (dry["created"], dry["skipped"], dry["rejected"], dry["dry_run"]) == (1, 1, 1, True)
    assert _count(var) == 0
    out = json.loads(kehu(var, "import", "customers", str(path), "--as", "sales1").stdout)
    assert (out["created"], out["updated"], out["skipped"], out["rejected"]) == (1, 0, 1, 1)
    report = Path(out["error_report"])
    assert report.is_file() and report.read_bytes().startswith(b"\xef\xbb\xbf")
    assert str(var) in out["error_report"] and "客户" not in report.name
    again = json.loads(
        kehu(
            var, "import", "customers", str(path), "--as", "sales1", "--on-duplicate", "update"
        ).stdout
    )
    assert (again["created"], again["updated"]) == (0, 2)
    assert _count(var) == 1


def test_columns_mapped_by_hand(var, tmp_path):
    # Headers kehu does not guess: mapped with --map; "COLUMN=" leaves a guessed one out.
    path = tmp_path / "crm-export.csv"
    path.write_bytes(
        csv_bytes(
            [["Kunde", "Handy", "Stadt"], ["王映射", "13712345670", "杭州"]], encoding="utf-8"
        )
    )
    args = ["import", "customers", str(path), "--as", "sales1"]
    refused = kehu(var, *args, check=False)
    assert refused.returncode == 2 and refused.stdout == ""  # no column for the name
    out = json.loads(
        kehu(var, *args, "--map", "Kunde=name", "--map", "Handy=mobile", "--map", "Stadt=").stdout
    )
    assert (out["created"], out["rejected"]) == (1, 0)
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        row = db.execute(
            "select mobile_digits, city from customers_customer where name = '王映射'"
        ).fetchone()
    assert row == ("13712345670", "")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["missing.csv", "--as", "sales1"], "missing.csv"),
        (["{file}", "--as", "nobody"], "nobody"),
        (["{file}", "--as", "member1"], "member1"),
        (["{bad}", "--as", "sales1"], ".csv"),
        (["{file}", "--as", "sales1", "--on-duplicate", "merge"], "merge"),
        (["{file}", "--as", "sales1", "--map", "name"], "COLUMN=FIELD"),
        (["{file}", "--as", "sales1", "--map", "nosuch=mobile"], "nosuch"),
        (["{file}", "--as", "sales1", "--map", "name=nosuch"], "nosuch"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(var, tmp_path, args, needle):
    good = tmp_path / "a.csv"
    good.write_text("name\nx\n")
    bad = tmp_path / "a.pdf"
    bad.write_text("x")
    args = [a.format(file=good, bad=bad) for a in args]
    result = kehu(var, "import", "customers", *args, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and needle in result.stderr
    assert result.stdout == ""


def test_subprocess_killed_mid_import_then_resumed_has_no_duplicates(var, tmp_path):
    rows = [["姓名", "手机"]] + [[f"客户{i}", f"139{i:08d}"] for i in range(6000)]
    path = tmp_path / "big.csv"
    path.write_bytes(csv_bytes(rows))
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({"KEHU_VAR_DIR": str(var), "KEHU_ENV": "test", "LANG": "C.UTF-8"})
    process = subprocess.Popen(
        [sys.executable, "-m", "kehu", "import", "customers", str(path), "--as", "sales1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _count(var, "mobile_digits like '139%'") < 2000 and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    loaded = _count(var, "mobile_digits like '139%'")
    assert 0 < loaded < 6000 and loaded % 1000 == 0  # whole batches only
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        job_id, status, done = db.execute(
            "select id, status, processed_rows from dataio_importjob order by id desc limit 1"
        ).fetchone()
        assert (status, done) == ("running", loaded)
        db.execute(
            "update dataio_importjob set heartbeat_at = '2000-01-01' where id = ?", (job_id,)
        )
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'kehu.settings');"
        "django.setup();"
        "from kehu.dataio import services;"
        f"print(services.resume_stale_jobs()); services.run_import({job_id})"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=300)
    assert _count(var, "mobile_digits like '139%'") == 6000
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        assert (
            db.execute(
                "select count(distinct mobile_digits) from customers_customer where mobile_digits like '139%'"
            ).fetchone()[0]
            == 6000
        )
        status, done, created = db.execute(
            f"select status, processed_rows, created_count from dataio_importjob where id = {job_id}"  # noqa: S608
        ).fetchone()
    assert (status, done, created) == ("done", 6000, 6000)
