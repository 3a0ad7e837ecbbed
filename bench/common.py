"""What every benchmark shares: the machine and commit it ran on, a throw-away database
(SQLite in a temporary KEHU_VAR_DIR, or a PostgreSQL database created and dropped here),
running ``kehu`` commands against it, and writing bench/results/<name>.json.

The runner process never imports Django settings: kehu runs in child processes whose
environment points at the benchmark's own KEHU_VAR_DIR, so the developer's var/ is never
touched.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_DIR / "bench" / "results"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/kehu_bench"

# Variables from the developer's shell that would change what is measured.
_SCRUB = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "KEHU_ENV",
    "KEHU_VAR_DIR",
    "DEBUG",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "KEHU_TASK_BACKEND",
    "PYTHONDONTWRITEBYTECODE",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pg_url() -> str:
    return os.environ.get("KEHU_BENCH_DATABASE_URL") or DEFAULT_PG_URL


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --- Facts recorded with every result -----------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _filesystem(path: Path) -> str | None:
    """The filesystem type holding ``path`` (tmpfs would make SQLite fsyncs free)."""
    try:
        best, fstype = "", None
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            mount = fields[1]
            if str(path).startswith(mount) and len(mount) > len(best):
                best, fstype = mount, fields[2]
        return fstype
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    memory = _memory_bytes()
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "memory_gib": round(memory / 2**30, 1) if memory else None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "temp_filesystem": _filesystem(Path(tempfile.gettempdir()).resolve()),
    }


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, check=False
        ).stdout.rstrip("\n")

    # -z: exact paths; only trailing newlines are stripped, not the status column
    status = git("status", "--porcelain", "-z", "--untracked-files=all", "--", "kehu")
    changed = [entry[3:] for entry in status.split("\0") if entry]
    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(changed),
        "uncommitted_app_files": changed,
    }


# --- Other load on the machine -------------------------------------------------------------


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return idle, sum(fields[:8])


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of all cores busy over ``seconds`` (Linux /proc/stat), None elsewhere."""
    try:
        idle0, total0 = _cpu_times()
        time.sleep(seconds)
        idle1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round(1 - (idle1 - idle0) / total, 3) if total else None


QUIET = {"threshold": 0.25, "max_wait": 15.0}  # set from --quiet-wait by bench.run


def wait_quiet() -> dict[str, Any]:
    """Wait (up to QUIET["max_wait"] s) until other processes leave the CPUs mostly idle,
    so a neighbour's test run does not land in a measurement; report what was seen."""
    threshold, max_wait = QUIET["threshold"], QUIET["max_wait"]
    started = time.monotonic()
    busy = cpu_busy()
    while busy is not None and busy > threshold and time.monotonic() - started < max_wait:
        busy = cpu_busy()
    waited = round(time.monotonic() - started, 1)
    if busy is not None and busy > threshold:
        log(f"machine still {busy:.0%} busy after {waited}s; measuring anyway")
    return {"background_cpu_busy": busy, "waited_s": waited, "loadavg_1m": os.getloadavg()[0]}


def package_versions(*names: str) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- Figures -------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def ms(seconds: float | None, digits: int = 3) -> float | None:
    return None if seconds is None else round(seconds * 1000, digits)


def _busy_values(node: Any) -> Iterator[float]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "background_cpu_busy" and isinstance(value, int | float):
                yield float(value)
            else:
                yield from _busy_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _busy_values(value)


def keep_previous(name: str, result: dict[str, Any], headline: dict[str, Any]) -> None:
    """A partial run keeps the figures of the last run that it did not measure again:
    every ``runs.<engine>.<key>`` and headline entry it has not set itself."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return
    previous = json.loads(path.read_text())
    result["previous_sections_from"] = previous.get("date")
    for kind, old in previous.get("runs", {}).items():
        run_ = result["runs"].setdefault(kind, {})
        for key, value in old.items():
            if run_.get(key) is None:
                run_[key] = value
    for key, value in (previous.get("headline") or {}).items():
        headline.setdefault(key, value)


def write_result(name: str, data: dict[str, Any]) -> Path:
    busy = list(_busy_values(data))
    data["machine_load_summary"] = {
        "measurements": len(busy),
        "max_background_cpu_busy": max(busy) if busy else None,
        "measurements_over_threshold": sum(b > QUIET["threshold"] for b in busy),
        "threshold": QUIET["threshold"],
        "note": "background_cpu_busy: share of all cores busy in the 1 s before a "
        "measurement, while the benchmark itself was idle; high values mean other work "
        "shared the machine and the figures are pessimistic",
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def result_skeleton(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmark": name,
        "date": now_iso(),
        "git": git_info(),
        "machine": machine_info(),
        "software": package_versions("django", "gunicorn", "psycopg", "django-ninja"),
        "config": config,
        "runs": {},
    }


# --- Databases -----------------------------------------------------------------------------


def _pg_admin_conninfo(url: str) -> tuple[str, str]:
    """(URL of the maintenance database 'postgres', name of the benchmark database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise ValueError(f"No database name in {redact(url)}")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    return admin, name


def _pg_execute(url: str, sql: str) -> None:
    import psycopg
    from psycopg import sql as pgsql

    admin, name = _pg_admin_conninfo(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(pgsql.SQL(sql).format(pgsql.Identifier(name)))


def postgres_available(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg

        admin, _name = _pg_admin_conninfo(url)
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


def postgres_version(url: str) -> dict[str, Any]:
    import psycopg

    admin, _name = _pg_admin_conninfo(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        full = conn.execute("SELECT version()").fetchone()[0]
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers")
        }
    return {
        "vendor": "postgresql",
        "version": settings.pop("server_version"),
        "full": full,
        "settings": settings,
    }


def sqlite_version() -> dict[str, Any]:
    return {
        "vendor": "sqlite",
        "version": sqlite3.sqlite_version,
        "settings": {
            "journal_mode": "WAL",
            "synchronous": "FULL",
            "transaction_mode": "IMMEDIATE",
            "busy_timeout_s": 20,
            "cache_size_mb": int(os.environ.get("SQLITE_CACHE_MB", "64")),
            "mmap_size_mb": int(os.environ.get("SQLITE_MMAP_MB", "0")),
        },
    }


class BenchDatabase:
    """One benchmark's database: its temporary KEHU_VAR_DIR and, for PostgreSQL, its own
    database (dropped and created here, dropped again at the end)."""

    def __init__(self, kind: str, var_dir: Path) -> None:
        if kind not in {"sqlite", "postgres"}:
            raise ValueError(kind)
        self.kind = kind
        self.var_dir = var_dir
        self.url = pg_url() if kind == "postgres" else None

    @property
    def sqlite_path(self) -> Path:
        return self.var_dir / "kehu.sqlite3"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update(
            KEHU_VAR_DIR=str(self.var_dir),
            KEHU_ENV="development",
            DEBUG="0",
            DJANGO_SETTINGS_MODULE="kehu.settings",
            LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        if self.url:
            env["DATABASE_URL"] = self.url
        env.update(extra)
        return env

    def info(self) -> dict[str, Any]:
        if self.kind == "postgres":
            assert self.url
            return {**postgres_version(self.url), "url": redact(self.url)}
        return {**sqlite_version(), "path": "<KEHU_VAR_DIR>/kehu.sqlite3"}

    def reset(self) -> float:
        """Start from an empty database and migrate it; return the migrate seconds."""
        if self.kind == "postgres":
            assert self.url
            _pg_execute(self.url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
            _pg_execute(self.url, "CREATE DATABASE {}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)
        (self.var_dir / "static").mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        kehu(["migrate", "-v", "0"], self.env())
        return time.perf_counter() - started

    def drop(self) -> None:
        if self.kind == "postgres" and self.url:
            try:
                _pg_execute(self.url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
            except Exception as exc:  # a benchmark's figures matter more than the cleanup
                log(f"could not drop the PostgreSQL benchmark database: {exc}")

    def query_counts(self) -> dict[str, int]:
        """Row counts of the tables a benchmark writes (read in a child process)."""
        code = (
            "import django, json; django.setup();"
            "from kehu.accounts.models import User, Team;"
            "from kehu.core.models import AuditEvent;"
            "print(json.dumps({'users': User.objects.count(), 'teams': Team.objects.count(),"
            "'audit_events': AuditEvent.objects.count()}))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=self.env(),
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])


@contextmanager
def bench_database(name: str, kind: str) -> Iterator[BenchDatabase]:
    """A temporary KEHU_VAR_DIR (and PostgreSQL database) for one benchmark on one engine."""
    var_dir = Path(tempfile.mkdtemp(prefix=f"kehu-bench-{name}-{kind}-"))
    db = BenchDatabase(kind, var_dir)
    try:
        yield db
    finally:
        db.drop()
        shutil.rmtree(var_dir, ignore_errors=True)


def kehu(args: list[str], env: dict[str, str], *, timeout: float = 600) -> str:
    """Run ``python -m kehu ARGS``; return its stdout; raise with its stderr on failure."""
    proc = subprocess.run(
        [sys.executable, "-m", "kehu", *args],
        env=env,
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"kehu {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
        )
    return proc.stdout


def selected_databases(choice: str) -> tuple[list[str], dict[str, str]]:
    """(engines to run, {engine: why skipped}) for --db sqlite|postgres|both."""
    wanted = ["sqlite", "postgres"] if choice == "both" else [choice]
    skipped: dict[str, str] = {}
    if "postgres" in wanted:
        reason = postgres_available(pg_url())
        if reason:
            skipped["postgres"] = f"PostgreSQL at {redact(pg_url())} unreachable: {reason}"
            wanted.remove("postgres")
    return wanted, skipped


def preflight() -> str | None:
    """None when the working tree's kehu imports and its URLconf loads, else the error.
    (The tree may be mid-edit; measuring a broken app would record 500s as figures.)"""
    with tempfile.TemporaryDirectory(prefix="kehu-bench-preflight-") as tmp:
        env = BenchDatabase("sqlite", Path(tmp)).env()
        proc = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); import kehu.urls"],
            env=env,
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit {proc.returncode}"
    return None
