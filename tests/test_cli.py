"""The ``kehu`` command, run as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def kehu(
    var: Path, *args: str, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    full_env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    full_env.update({"KEHU_VAR_DIR": str(var), "KEHU_ENV": "test", "LANG": "C.UTF-8"})
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "kehu", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def var(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("var")
    kehu(path, "migrate", "-v", "0")
    return path


def test_createadmin_uses_env_password_then_is_idempotent(var):
    out = kehu(var, "createadmin", env={"KEHU_ADMIN_PASSWORD": "Admin-Pass-2026"}).stdout
    assert "admin" in out and "Admin-Pass-2026" not in out
    again = kehu(var, "createadmin").stdout
    assert "already" in again


def test_demo_is_deterministic_and_loads_once(var, tmp_path):
    first = json.loads(kehu(var, "demo", "--seed", "7", "--users", "30", "--if-empty").stdout)
    assert first["users"] == 30 and first["teams"] == 8
    assert "already" in kehu(var, "demo", "--if-empty").stdout
    other = tmp_path / "other"
    kehu(other, "migrate", "-v", "0")
    kehu(other, "demo", "--seed", "7", "--users", "30")

    def names(path: Path) -> list:
        with sqlite3.connect(path / "kehu.sqlite3") as db:
            return db.execute(
                "select username, name, mobile from accounts_user where email like '%@demo.kehu.local' order by id"
            ).fetchall()

    assert names(var) == names(other)
    assert any("\u4e00" <= ch <= "\u9fff" for row in names(var) for ch in row[1])  # Chinese names


def test_user_and_token_create(var):
    out = kehu(
        var,
        "user",
        "create",
        "li.na",
        "--role",
        "sales",
        "--department",
        "sales",
        "--name",
        "李娜",
        "--password",
        "Li-Na-Pass-2026",
    ).stdout
    assert "li.na" in out
    token = kehu(var, "token", "create", "li.na", "--days", "30").stdout.strip()
    assert token.startswith("kehu_") and len(token) > 40


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("user", "create", "x1", "--role", "emperor"), "emperor"),
        (("user", "create", "x2", "--role", "sales", "--department", "nowhere"), "nowhere"),
        (("user", "create", "bad name", "--role", "sales"), ""),
        (("token", "create", "ghost"), "ghost"),
        (("frobnicate",), "frobnicate"),
        (("user", "create", "x3", "--role", "sales", "--password", "123"), ""),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(var, args, needle):
    result = kehu(var, *args, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 or (lines and lines[0].startswith("usage:")), result.stderr
    assert "Traceback" not in result.stderr
    assert needle in result.stderr


def test_help_follows_the_users_language(var):
    english = kehu(var, "user", "create", "--help", env={"KEHU_LANGUAGE": "en"}).stdout
    chinese = kehu(var, "user", "create", "--help", env={"LANG": "zh_CN.UTF-8"}).stdout
    traditional = kehu(var, "user", "create", "--help", env={"LANG": "zh_TW.UTF-8"}).stdout
    assert "Create a user." in english
    assert "创建" in chinese
    assert "建立" in traditional or "創建" in traditional


def test_audit_seal_and_verify(var):
    kehu(var, "audit", "seal")
    out = kehu(var, "audit", "verify").stdout
    assert "intact" in out
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        db.execute("DROP TRIGGER core_auditevent_guard")
        db.execute("UPDATE core_auditevent SET action = 'forged' WHERE seq = 1")
    result = kehu(var, "audit", "verify", check=False)
    assert result.returncode == 1
    assert "BROKEN" in result.stderr and "1" in result.stderr


def test_backup_and_restore_roundtrip(tmp_path):
    var = tmp_path / "v"
    kehu(var, "migrate", "-v", "0")
    kehu(var, "user", "create", "before", "--role", "sales", "--password", "Before-Pass-2026")
    (var / "attachments").mkdir()
    (var / "attachments" / "a1.pdf").write_bytes(b"%PDF-1.4 contract")
    backup = tmp_path / "b.sqlite3"
    kehu(var, "backup", "--out", str(backup))
    # Contract attachments go beside the backup and come back with a restore.
    assert (
        (tmp_path / "b.sqlite3.files" / "attachments" / "a1.pdf").read_bytes().startswith(b"%PDF")
    )
    (var / "attachments" / "a1.pdf").unlink()
    kehu(var, "user", "create", "after", "--role", "sales", "--password", "After-Pass-2026")
    refused = kehu(var, "restore", str(backup), check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    kehu(var, "restore", str(backup), "--yes")
    with sqlite3.connect(var / "kehu.sqlite3") as db:
        users = {row[0] for row in db.execute("select username from accounts_user")}
    assert "before" in users and "after" not in users
    assert (var / "attachments" / "a1.pdf").exists()
    missing = kehu(var, "restore", str(tmp_path / "nope"), "--yes", check=False)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
