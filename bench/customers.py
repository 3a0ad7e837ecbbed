"""``customers``: the customer file at 1,000,000 customers from ``kehu demo``.

Data: ``kehu demo --seed 1 --customers N`` (default N = 1,000,000) into a SQLite file under
``var/bench/customers/`` and into the PostgreSQL database of KEHU_BENCH_DATABASE_URL
(default ``kehu_bench_customers``, i.e. the bench database's name + ``_customers``). Loading is skipped when the database already holds exactly N
customers; otherwise it is emptied and loaded again, and the load's wall time is recorded
(and kept in ``var/bench/customers/load-<engine>.json`` for later runs that skip it).
Unlike the other benchmarks these databases are kept, because loading takes many minutes.

Search: for each query kind (name, pinyin initials, phone fragment, tag, and also full
pinyin and one Chinese character), many varied terms drawn from the data with a fixed seed;
for each term, the server time of the first page

* ``selector``: ``customer_list(actor, CustomerFilters(q=term))[:50]`` read as the API
  reads a page (no owner/team prefetch, tag names in one query: ``with_tag_names``) and
  every row turned into the API's ``CustomerOut`` — in the list page's default order
  ``-updated_at, -id``;
* ``api``: ``GET /api/v1/customers?q=term`` through Django's test client in the same
  process (token auth, middleware, keyset order ``-id``, JSON) — server time, no network;
* ``*_bare_sql``: the very statements the ORM sent for that page (captured with an
  execute wrapper), run again with the raw DB-API cursor and fetched — what the page
  costs the database, so ``ratio`` = ORM path / bare SQL shows the framework's share.

Actors: an administrator (sees every customer) and a manager (one department).

Import and export (``--only import,export`` runs just these): a generated 200,000-row CSV
imported with ``run_import`` into a fresh, empty database of their own, beside a plain
COPY / executemany of the same rows; then exported to CSV and XLSX; each step in its own
child process for its peak RSS. See bench/README.md.

Tags (``--only tags``): on the 1M dataset, ``tag_rename`` of a tag on ~1% of the customers
(Newsletter) and of the most common one (VIP, ~11%) to another name and back, each way
timed: every carrier's tags, search keys, history entry and version change in one
transaction. The names are back as they were afterwards.

The measurement runs in a child process (``python -m bench.customers --child``) with
the benchmark's environment; this runner never imports Django settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_DIR,
    BenchDatabase,
    _pg_execute,
    keep_previous,
    kehu,
    log,
    ms,
    percentile,
    result_skeleton,
    wait_quiet,
    write_result,
)

NAME = "customers"
SEED = 1
CUSTOMERS = 1_000_000
VAR_DIR = REPO_DIR / "var" / "bench" / "customers"
PAGE = 50
KINDS = ("name", "pinyin_initials", "phone_fragment", "tag", "pinyin_full", "han_1char")
HEADLINE_KINDS = ("name", "pinyin_initials", "phone_fragment", "tag")


# --- Runner side ----------------------------------------------------------------------------


def _database(kind: str) -> BenchDatabase:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    db = BenchDatabase(kind, VAR_DIR)
    if db.url:
        # Its own database: the other benches drop theirs, and a million customers take
        # minutes to load, so they are kept between runs.
        base, _sep, name = db.url.rpartition("/")
        db.url = f"{base}/{name.split('?')[0]}_customers"
    return db


def _child(db: BenchDatabase, *args: str, timeout: float = 3600) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.customers", "--child", *args],
        env=db.env(),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.customers --child {' '.join(args)}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _empty(db: BenchDatabase) -> None:
    if db.kind == "postgres":
        _pg_execute(db.url or "", "DROP DATABASE IF EXISTS {} WITH (FORCE)")
        _pg_execute(db.url or "", "CREATE DATABASE {}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db.sqlite_path}{suffix}").unlink(missing_ok=True)


def ensure_loaded(db: BenchDatabase, count: int) -> dict[str, Any]:
    """The benchmark data: loaded now (timed) or found from an earlier run."""
    marker = VAR_DIR / f"load-{db.kind}.json"
    if db.kind == "postgres":
        with contextlib.suppress(Exception):  # it exists: keep it
            _pg_execute(db.url or "", "CREATE DATABASE {}")
    kehu(["migrate", "-v", "0"], db.env(), timeout=3600)
    found = _child(db, "count")["customers"]
    if found == count:
        previous = json.loads(marker.read_text()) if marker.exists() else {}
        return {"loaded_now": False, "customers": found, "previous_load": previous}
    log(f"customers: {db.kind} holds {found} customers, not {count}: loading {count}")
    _empty(db)
    kehu(["migrate", "-v", "0"], db.env(), timeout=3600)
    machine_load = wait_quiet()
    started = time.perf_counter()
    # No orders: the search reads customers only, and 5M demo orders would add an hour.
    args = ["demo", "--seed", str(SEED), "--customers", str(count), "--orders", "0"]
    out = kehu(args, db.env(), timeout=6 * 3600)
    wall = time.perf_counter() - started
    load = {
        "command": "kehu " + " ".join(args),
        "wall_seconds": round(wall, 1),
        "summary": json.loads(out.strip().splitlines()[-1]),
        "machine_load_before": machine_load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    marker.write_text(json.dumps(load, ensure_ascii=False, indent=2))
    return {"loaded_now": True, "customers": _child(db, "count")["customers"], "load": load}


IMPORT_ROWS = 200_000
SECTIONS = ("search", "import", "export", "tags")
# Renamed and renamed back on the 1M dataset (kehu.customers.tags): a tag on ~1% of the
# customers and the most common one (~11%).
TAG_RENAMES = ("Newsletter", "VIP")


def _scratch_database(kind: str) -> BenchDatabase:
    """A fresh, empty database for the import and export figures (its own temporary
    KEHU_VAR_DIR; on PostgreSQL the bench database's name + ``_customers_import``)."""
    db = BenchDatabase(kind, Path(tempfile.mkdtemp(prefix=f"kehu-bench-import-{kind}-")))
    if db.url:
        base, _sep, name = db.url.rpartition("/")
        db.url = f"{base}/{name.split('?')[0]}_customers_import"
    return db


def import_export_sections(kind: str, rows: int, sections: set[str]) -> dict[str, Any]:
    """Import a generated CSV of ``rows`` customers into a fresh database (rows/s, peak
    RSS), then export them to CSV and XLSX (rows/s, peak RSS), then time a plain
    COPY / executemany of the very rows the import wrote into the emptied table. Each
    step runs in its own child process, so each peak RSS is that step's own."""
    db = _scratch_database(kind)
    out: dict[str, Any] = {"database": db.info() if kind == "postgres" else {"vendor": "sqlite"}}
    try:
        out["migrate_seconds"] = round(db.reset(), 1)
        out["machine_load_before_import"] = wait_quiet()
        log(f"customers: {kind}: importing {rows} rows")
        imported = _child(db, "import", str(rows), timeout=6 * 3600)
        if "export" in sections:
            out["export"] = {}
            for fmt in ("csv", "xlsx"):
                load = wait_quiet()
                log(f"customers: {kind}: exporting {fmt}")
                out["export"][fmt] = {**_child(db, "export", fmt, timeout=3600),
                                      "machine_load_before": load}  # fmt: skip
        if "import" in sections:
            load = wait_quiet()
            log(f"customers: {kind}: plain bulk insert of the same rows")
            baseline = _child(db, "baseline", timeout=3600)
            ratio = imported["rows_per_second"] / baseline["rows_per_second"]
            out["import"] = {
                **imported,
                "machine_load_before": out.pop("machine_load_before_import"),
                "plain_insert": {**baseline, "machine_load_before": load},
                "ratio_import_over_plain": round(ratio, 3),
            }
    finally:
        db.drop()
        shutil.rmtree(db.var_dir, ignore_errors=True)
    return out


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    count = int(getattr(opts, "customers", None) or CUSTOMERS)
    terms = 12 if getattr(opts, "quick", False) else 40
    only = getattr(opts, "only", None) or ",".join(SECTIONS)
    sections = {part.strip() for part in only.split(",") if part.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise ValueError(f"--only: unknown section(s) {sorted(unknown)}; use {SECTIONS}")
    import_rows = int(getattr(opts, "import_rows", None) or IMPORT_ROWS)
    result = result_skeleton(
        NAME,
        {
            "dataset": f"kehu demo --seed {SEED} --customers {count}",
            "sqlite_path": str(VAR_DIR.relative_to(REPO_DIR) / "kehu.sqlite3"),
            "page_size": PAGE,
            "terms_per_kind": terms,
            "repetitions_per_term": 2,
            "kinds": list(KINDS),
            "actors": ["administrator (all customers)", "manager (one department)"],
            "sections": sorted(sections),
            "import_rows": import_rows,
            "import": "generated CSV (seed 1) -> kehu.dataio.services.run_import (validation, "
            "duplicate checks, policy skip) into a fresh empty database, as an administrator; "
            "plain_insert: the rows the import wrote, read back and inserted again into the "
            "emptied table with one COPY (PostgreSQL) / executemany per 2,000 (SQLite)",
            "export": "kehu.customers.exports.customer_export(DEFAULT_COLUMNS) of every "
            "imported customer, as an administrator",
            "tags": f"kehu.customers.tags.tag_rename of {', '.join(TAG_RENAMES)} on the 1M "
            "dataset to another name and back, as an administrator (every carrier's tags, "
            "search keys, history and version)",
            "modes": {
                "selector": "customer_list + [:50] + with_tag_names + CustomerOut (the API's "
                "path), order -updated_at,-id",
                "api": "GET /api/v1/customers?q= via django.test.Client (token), order -id",
                "*_bare_sql": "the same statements, raw DB-API cursor, fetchall",
            },
        },
    )
    result["skipped"] = skipped
    headline: dict[str, Any] = {}
    for kind in dbs:
        db = _database(kind)
        run_: dict[str, Any] = {"database": db.info()}
        if sections & {"import", "export"}:
            scratch = import_export_sections(kind, import_rows, sections)
            run_["import"] = scratch.get("import")
            run_["export"] = scratch.get("export")
            run_["import_database"] = scratch["database"]
            if run_["import"]:
                figures = run_["import"]
                headline[f"{kind} import"] = {
                    "rows": figures["rows"],
                    "rows_per_second": figures["rows_per_second"],
                    "plain_insert_rows_per_second": figures["plain_insert"]["rows_per_second"],
                    "ratio_import_over_plain": figures["ratio_import_over_plain"],
                    "peak_rss_mb": figures["peak_rss_mb"],
                }
            for fmt, figures in (run_["export"] or {}).items():
                headline[f"{kind} export {fmt}"] = {
                    "rows_per_second": figures["rows_per_second"],
                    "peak_rss_mb": figures["peak_rss_mb"],
                }
        result["runs"][kind] = run_
        if not sections & {"search", "tags"}:
            continue
        run_["dataset"] = ensure_loaded(db, count)
        run_["machine_load_before"] = wait_quiet()
        if "search" in sections:
            log(f"customers: {kind}: measuring search")
            run_["search"] = _child(db, "search", str(terms), timeout=3 * 3600)
        for actor, kinds in run_.get("search", {}).get("actors", {}).items():
            for k in HEADLINE_KINDS:
                figures = kinds[k]
                headline[f"{kind} {actor} {k}"] = {
                    "selector_p50_ms": figures["selector"]["p50_ms"],
                    "selector_p95_ms": figures["selector"]["p95_ms"],
                    "api_p95_ms": figures["api"]["p95_ms"],
                    "bare_sql_p95_ms": figures["selector_bare_sql"]["p95_ms"],
                    "ratio_p50": figures["ratio_selector_over_bare_p50"],
                }
        if "tags" in sections:
            run_["tags"] = _child(db, "tags", timeout=3 * 3600)
            for name, figures in run_["tags"].items():
                if name == "list_page":
                    continue
                headline[f"{kind} tag rename {name}"] = {
                    "customers": figures["customers"],
                    "seconds": figures["seconds"],
                    "customers_per_second": figures["customers_per_second"],
                }
    if sections != set(SECTIONS):
        keep_previous(NAME, result, headline)
    result["headline"] = headline
    write_result(NAME, result)
    return result


# --- Child side (Django loaded) -------------------------------------------------------------


def _stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "max_ms": ms(ordered[-1]) if ordered else None,
    }


def _terms(kind: str, n: int, rng: random.Random) -> list[str]:
    from kehu.customers.models import Customer, Tag

    top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    picked: list[Any] = []
    tries = 0
    while len(picked) < n and tries < n * 50:
        tries += 1
        row = (
            Customer.objects.filter(id__gte=rng.randrange(1, top + 1))
            .order_by("id")
            .values("name", "company", "mobile_digits", "name_pinyin", "name_initials")
            .first()
        )
        if row is None:
            continue
        if kind == "tag":
            names = list(Tag.objects.values_list("name", flat=True).order_by("name"))
            name = rng.choice(names)
            picked.append(rng.choice([name, name.lower(), name.upper()]))
        elif kind == "name" and not row["company"]:
            picked.append(row["name"])
        elif kind == "pinyin_initials" and row["name_initials"] and not row["company"]:
            picked.append(row["name_initials"])
        elif kind == "pinyin_full" and row["name_pinyin"] and not row["company"]:
            picked.append(row["name_pinyin"])
        elif kind == "han_1char" and row["name_initials"] and not row["company"]:
            picked.append(row["name"][rng.randrange(len(row["name"]))])
        elif kind == "phone_fragment" and len(row["mobile_digits"]) >= 11:
            digits = row["mobile_digits"][-11:]
            picked.append(digits[-4:] if rng.random() < 0.5 else digits[:7])
    return picked


class _Recorder:
    """Every (sql, params) the ORM sends while active."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.active = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.active:
            self.statements.append((sql, params))
        return execute(sql, params, many, context)


def _bare(statements: list[tuple[str, Any]]) -> float:
    from django.db import connection

    raw = connection.cursor().cursor  # psycopg cursor, or SQLite's DB-API cursor
    started = time.perf_counter()
    for sql, params in statements:
        raw.execute(sql, params)
        raw.fetchall()
    return time.perf_counter() - started


def _explain(sql: str, params: Any) -> list[str]:
    from django.db import connection

    raw = connection.cursor().cursor
    if connection.vendor == "postgresql":
        raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    else:
        raw.execute("EXPLAIN QUERY PLAN " + sql, params)
    return [" | ".join(str(c) for c in row) for row in raw.fetchall()]


def _actors() -> dict[str, Any]:
    from kehu.accounts.models import Role, User

    admin, _ = User.objects.get_or_create(
        username="bench_admin",
        defaults={"name": "Bench Admin", "role": Role.objects.get(code="administrator")},
    )
    manager = (
        User.objects.filter(role__code="manager", department__isnull=False).order_by("pk").first()
    )
    actors = {"administrator": admin}
    if manager is not None:
        actors["manager"] = manager
    return actors


def child_search(terms_per_kind: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from kehu.accounts.services import token_create
    from kehu.core.runtime import settle
    from kehu.customers.schemas import CustomerOut
    from kehu.customers.selectors import CustomerFilters, customer_list, with_tag_names

    settle()  # as a server process starts (kehu/wsgi.py): views loaded, start-up heap frozen
    rng = random.Random(SEED)
    terms = {kind: _terms(kind, terms_per_kind, rng) for kind in KINDS}
    recorder = _Recorder()
    out: dict[str, Any] = {"terms": {k: v[:10] for k, v in terms.items()}, "actors": {}}
    with connection.execute_wrapper(recorder):
        for label, actor in _actors().items():
            _token, secret = token_create(actor=actor, user=actor, name="bench", days=1)
            client = Client(headers={"Authorization": f"Bearer {secret}"})
            per_kind: dict[str, Any] = {}
            for kind, words in terms.items():
                samples: dict[str, list[float]] = {
                    "selector": [],
                    "selector_bare_sql": [],
                    "api": [],
                    "api_bare_sql": [],
                }
                statements = {"selector": 0, "api": 0}
                plans: dict[str, list[str]] = {}
                for word in words[:3]:  # warm-up
                    list(customer_list(actor=actor, filters=CustomerFilters(q=word))[:PAGE])
                for rep in range(2):
                    for word in words:
                        recorder.statements, recorder.active = [], True
                        t0 = time.perf_counter()
                        # As the API reads a page (kehu.customers.api.list_customers),
                        # in the list page's order (the API's own is measured below).
                        found = customer_list(actor=actor, filters=CustomerFilters(q=word))
                        page = with_tag_names(list(found.prefetch_related(None)[:PAGE]))
                        [CustomerOut.from_orm(c).dict() for c in page]
                        samples["selector"].append(time.perf_counter() - t0)
                        recorder.active = False
                        sel = list(recorder.statements)
                        statements["selector"] = len(sel)
                        samples["selector_bare_sql"].append(_bare(sel))
                        if rep == 0 and word == words[0]:
                            main = max(sel, key=lambda s: len(s[0]))
                            plans["first_term_main_query"] = _explain(*main)

                        recorder.statements, recorder.active = [], True
                        t0 = time.perf_counter()
                        response = client.get("/api/v1/customers", {"q": word})
                        samples["api"].append(time.perf_counter() - t0)
                        recorder.active = False
                        if response.status_code != 200:
                            raise RuntimeError(f"api {word!r}: {response.status_code}")
                        api = [
                            s for s in recorder.statements if s[0].lstrip().upper()[:6] == "SELECT"
                        ]
                        statements["api"] = len(api)
                        samples["api_bare_sql"].append(_bare(api))
                figures = {mode: _stats(values) for mode, values in samples.items()}
                for mode in ("selector", "api"):
                    bare = figures[f"{mode}_bare_sql"]["p50_ms"] or 0
                    figures[f"ratio_{mode}_over_bare_p50"] = (
                        round(figures[mode]["p50_ms"] / bare, 2) if bare else None
                    )
                figures["statements_per_page"] = statements
                figures["plans"] = plans
                per_kind[kind] = figures
            out["actors"][label] = per_kind
    return out


def _rss_mb(key: str) -> float | None:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _admin() -> Any:
    return _actors()["administrator"]


def write_import_csv(path: Path, rows: int, seed: int = SEED) -> None:
    """A customer list as a Chinese SMB would export it: mostly unique Chinese names,
    mobiles written in several ways, half with an email, a fifth with a company, some
    tags, gender, city, notes; about 0.5 % repeats of an earlier mobile (duplicates)
    and 0.5 % invalid mobiles (rejected)."""
    import csv

    from kehu.demo.names import CITIES, GIVEN, SURNAMES, mobile_number

    rng = random.Random(seed)
    tags = ["VIP", "展会2026", "老客户", "转介绍", "价格敏感", "团购", "会员", "线上客户"]
    parts = ["明珠", "华强", "天成", "恒信", "锦程", "宏达", "金桥", "新锐", "东方", "长青"]
    kinds = ["贸易有限公司", "电子科技有限公司", "餐饮管理有限公司", "美容美发店", "建材有限公司"]
    recent: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "手机", "邮箱", "公司", "城市", "性别", "标签", "备注"])
        for i in range(rows):
            given = "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))
            name = rng.choice(SURNAMES) + given
            mobile = mobile_number(rng)
            roll = rng.random()
            if roll < 0.005 and recent:
                mobile = rng.choice(recent)
            elif roll < 0.01:
                mobile = "12" + mobile[2:]  # no such mobile range
            if len(recent) < 1000:
                recent.append(mobile)
            else:
                recent[i % 1000] = mobile
            style = rng.random()
            if style < 0.3:
                mobile = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
            elif style < 0.4:
                mobile = "+86 " + mobile
            letters = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
            email = f"{letters}{i}@example.cn" if rng.random() < 0.5 else ""
            city = rng.choice(CITIES[:9])
            company = f"{city}{rng.choice(parts)}{rng.choice(kinds)}" if rng.random() < 0.2 else ""
            chosen = ",".join(rng.sample(tags, rng.choice([0, 0, 1, 1, 2])))
            writer.writerow(
                [name, mobile, email, company, city, rng.choice(["男", "女", ""]), chosen,
                 "老客户介绍" if rng.random() < 0.1 else ""]
            )  # fmt: skip


def child_import(rows: int) -> dict[str, Any]:
    import resource

    from django.conf import settings

    from kehu.dataio import services

    path = Path(settings.VAR_DIR) / "bench-import.csv"
    started = time.perf_counter()
    write_import_csv(path, rows)
    generate_seconds = time.perf_counter() - started
    actor = _admin()
    with open(path, "rb") as handle:
        job = services.job_create(
            actor=actor,
            kind="customers",
            original_name=path.name,
            chunks=iter(lambda: handle.read(1 << 20), b""),
            language="en",
        )
    services.job_start(actor=actor, job=job, dry_run=False, enqueue=False)
    rss_before = _rss_mb("VmRSS")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    services.run_import(job.pk)
    wall = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    job.refresh_from_db()
    if job.status != "done":
        raise RuntimeError(f"import ended {job.status}: {job.message}")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "rows": job.processed_rows,
        "created": job.created_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "seconds": round(wall, 2),
        "rows_per_second": round(job.processed_rows / wall),
        "python_cpu_seconds": round(cpu, 2),
        "csv_bytes": path.stat().st_size,
        "csv_generate_seconds": round(generate_seconds, 1),
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb("VmHWM"),
    }


def child_export(fmt: str) -> dict[str, Any]:
    import resource

    from kehu.customers import exports
    from kehu.customers.selectors import CustomerFilters

    actor = _admin()
    rss_before = _rss_mb("VmRSS")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = exports.customer_export(
        actor=actor, filters=CustomerFilters(), columns=list(exports.DEFAULT_COLUMNS), fmt=fmt
    )
    wall = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    size = os.path.getsize(result.path)
    os.unlink(result.path)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "rows": result.rows,
        "columns": result.columns,
        "seconds": round(wall, 2),
        "rows_per_second": round(result.rows / wall),
        "python_cpu_seconds": round(cpu, 2),
        "file_bytes": size,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb("VmHWM"),
    }


def child_baseline() -> dict[str, Any]:
    """The rows the import wrote, read back, the tables emptied, and the same rows
    inserted again with nothing else: one COPY (PostgreSQL), executemany per 2,000 rows
    in one transaction (SQLite; the FTS trigger fires as for any insert)."""
    from django.db import connection, transaction

    from kehu.customers.models import Customer

    table = Customer._meta.db_table
    columns = [str(f.column) for f in Customer._meta.concrete_fields]
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copied = bytearray()
            raw = cursor.cursor
            with raw.copy(f"COPY (SELECT {names} FROM {table} ORDER BY id) TO STDOUT") as copy:  # noqa: S608
                for data in copy:
                    copied += data
            rows = None
            count = Customer.all_objects.count()
            cursor.execute(f"TRUNCATE {table} CASCADE")
        else:
            cursor.execute(f"SELECT {names} FROM {table} ORDER BY id")  # noqa: S608
            rows = cursor.fetchall()
            count = len(rows)
            for through in ("customers_customer_tags", "customers_customerchange",
                            "customers_contact"):  # fmt: skip
                cursor.execute(f"DELETE FROM {through}")  # noqa: S608
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if rows is None:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                view = memoryview(copied)
                for offset in range(0, len(view), 1 << 20):
                    copy.write(view[offset : offset + (1 << 20)])
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
            for offset in range(0, count, 2000):
                cursor.executemany(sql, rows[offset : offset + 2000])
    wall = time.perf_counter() - started
    return {
        "method": "COPY FROM STDIN" if rows is None else "executemany (2,000 rows a call)",
        "rows": count,
        "seconds": round(wall, 2),
        "rows_per_second": round(count / wall),
    }


def child_tags() -> dict[str, Any]:
    """Rename each of TAG_RENAMES and back; the time of each way."""
    from kehu.customers import tags
    from kehu.customers.models import Tag

    admin = _admin()
    out: dict[str, Any] = {"list_page": {}}
    for label, actor in _actors().items():  # the Tags page's query, with counts
        samples = []
        for _rep in range(5):
            started = time.perf_counter()
            list(tags.tag_list(actor=actor))
            samples.append(time.perf_counter() - started)
        out["list_page"][label] = _stats(samples)
    for name in TAG_RENAMES:
        tag = Tag.objects.get(name=name)
        customers = tag.customers.count()
        seconds = []
        for new_name in (f"{name}·bench", name):
            started = time.perf_counter()
            tags.tag_rename(actor=admin, tag=tag, name=new_name)
            seconds.append(time.perf_counter() - started)
        out[name] = {
            "customers": customers,
            "seconds": [round(s, 2) for s in seconds],
            "customers_per_second": round(customers / (sum(seconds) / 2)),
        }
    return out


def child_main(argv: list[str]) -> None:
    import django

    django.setup()
    from kehu.customers.models import Customer

    if argv[0] == "count":
        print(json.dumps({"customers": Customer.all_objects.count()}))
    elif argv[0] == "search":
        print(json.dumps(child_search(int(argv[1])), ensure_ascii=False))
    elif argv[0] == "import":
        print(json.dumps(child_import(int(argv[1])), ensure_ascii=False))
    elif argv[0] == "export":
        print(json.dumps(child_export(argv[1]), ensure_ascii=False))
    elif argv[0] == "tags":
        print(json.dumps(child_tags(), ensure_ascii=False))
    elif argv[0] == "baseline":
        print(json.dumps(child_baseline(), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown child command {argv[0]!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
        child_main(sys.argv[2:])
    else:
        raise SystemExit("run through the runner: python -m bench.run customers")
