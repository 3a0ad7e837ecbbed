"""Backups: SQLite's online backup API (consistent while kehu runs); pg_dump / pg_restore
for PostgreSQL. Files kehu keeps beside the database (contract attachments, under
``VAR_DIR/attachments``) are copied to a folder next to the backup file,
``<backup>.files/``, and copied back on restore (their names are unique and never reused,
so nothing newer is overwritten)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _


class BackupError(Exception):
    pass


def _default_path(suffix: str) -> Path:
    folder = settings.VAR_DIR / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"kehu-{timezone.now():%Y%m%d-%H%M%S}.{suffix}"


def _pg_env() -> tuple[dict[str, str], list[str]]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []  # unset host/port: libpq's own defaults (PGHOST, the Unix socket) apply
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return env, args


FILE_FOLDERS = ("attachments",)


def files_of(path: Path) -> Path:
    """The folder beside a backup file that holds the kept files."""
    return path.with_name(path.name + ".files")


def _copy_files(source_root: Path, target_root: Path) -> None:
    for name in FILE_FOLDERS:
        source = source_root / name
        if source.is_dir():
            target = target_root / name
            target.mkdir(parents=True, exist_ok=True)
            for item in source.iterdir():
                if item.is_file() and not (target / item.name).exists():
                    shutil.copy2(item, target / item.name)


def backup(out: Path | None = None) -> Path:
    path = _backup_database(out)
    _copy_files(Path(settings.VAR_DIR), files_of(path))
    return path


def _backup_database(out: Path | None) -> Path:
    vendor = connection.vendor
    if vendor == "sqlite":
        path = out or _default_path("sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return path
    if vendor == "postgresql":
        if not shutil.which("pg_dump"):
            raise BackupError(_("pg_dump was not found; install the PostgreSQL client tools."))
        path = out or _default_path("pgdump")
        env, args = _pg_env()
        result = subprocess.run(
            [
                "pg_dump",
                "-Fc",
                "--no-owner",
                *args,
                "-f",
                str(path),
                settings.DATABASES["default"]["NAME"],
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(
                result.stderr.strip().splitlines()[-1] if result.stderr else "pg_dump failed"
            )
        return path
    raise BackupError(_("Backups are supported for SQLite and PostgreSQL only."))


def restore(path: Path) -> None:
    _restore_database(path)
    if files_of(path).is_dir():
        _copy_files(files_of(path), Path(settings.VAR_DIR))


def _restore_database(path: Path) -> None:
    if not path.is_file():
        raise BackupError(_("No such file: %(path)s") % {"path": path})
    vendor = connection.vendor
    if vendor == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM django_migrations").fetchone()
        except sqlite3.DatabaseError:
            raise BackupError(_("%(path)s is not a kehu SQLite backup.") % {"path": path}) from None
        connection.close()
        target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return
    if vendor == "postgresql":
        if not shutil.which("pg_restore"):
            raise BackupError(_("pg_restore was not found; install the PostgreSQL client tools."))
        connection.close()
        env, args = _pg_env()
        result = subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                "-d",
                settings.DATABASES["default"]["NAME"],
                str(path),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(
                result.stderr.strip().splitlines()[-1] if result.stderr else "pg_restore failed"
            )
        return
    raise BackupError(_("Backups are supported for SQLite and PostgreSQL only."))
