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

* ``selector``: ``customer_list(actor, CustomerFilters(q=term))[:50]`` with the tags
  prefetched and every row turned into the API's ``CustomerOut`` — the page's default
  order ``-updated_at, -id``;
* ``api``: ``GET /api/v1/customers?q=term`` through Django's test client in the same
  process (token auth, middleware, keyset order ``-id``, JSON) — server time, no network;
* ``*_bare_sql``: the very statements the ORM sent for that page (captured with an
  execute wrapper), run again with the raw DB-API cursor and fetched — what the page
  costs the database, so ``ratio`` = ORM path / bare SQL shows the framework's share.

Actors: an administrator (sees every customer) and a manager (one department).

Import and export sections are placeholders (``TODO(lead)``) until those features land.

The measurement runs in a child process (``python -m bench.customers --child``) with
the benchmark's environment; this runner never imports Django settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO_DIR,
    BenchDatabase,
    _pg_execute,
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
    out = kehu(["demo", "--seed", str(SEED), "--customers", str(count)], db.env(), timeout=6 * 3600)
    wall = time.perf_counter() - started
    load = {
        "command": f"kehu demo --seed {SEED} --customers {count}",
        "wall_seconds": round(wall, 1),
        "summary": json.loads(out.strip().splitlines()[-1]),
        "machine_load_before": machine_load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    marker.write_text(json.dumps(load, ensure_ascii=False, indent=2))
    return {"loaded_now": True, "customers": _child(db, "count")["customers"], "load": load}


def import_section(db: BenchDatabase, opts: Any) -> dict[str, Any]:
    """TODO(lead): import rows/s for a 200,000-row CSV (validation + duplicate checks) and
    its peak memory, beside a plain COPY (PostgreSQL) / executemany (SQLite) of the same
    rows in the same run. Wire to kehu.dataio's run_import once it has landed."""
    return {"todo": "import benchmark not wired yet"}


def export_section(db: BenchDatabase, opts: Any) -> dict[str, Any]:
    """TODO(lead): export rows/s for 200,000 rows to CSV and to XLSX through
    kehu.customers.exports (the same scope and masking as the pages)."""
    return {"todo": "export benchmark not wired yet"}


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    count = int(getattr(opts, "customers", None) or CUSTOMERS)
    terms = 12 if getattr(opts, "quick", False) else 40
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
            "modes": {
                "selector": "customer_list + [:50] + tags prefetched + CustomerOut, "
                "order -updated_at,-id",
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
        run_["dataset"] = ensure_loaded(db, count)
        run_["machine_load_before"] = wait_quiet()
        log(f"customers: {kind}: measuring search")
        run_["search"] = _child(db, "search", str(terms), timeout=3 * 3600)
        run_["import"] = import_section(db, opts)
        run_["export"] = export_section(db, opts)
        result["runs"][kind] = run_
        for actor, kinds in run_["search"]["actors"].items():
            for k in HEADLINE_KINDS:
                figures = kinds[k]
                headline[f"{kind} {actor} {k}"] = {
                    "selector_p50_ms": figures["selector"]["p50_ms"],
                    "selector_p95_ms": figures["selector"]["p95_ms"],
                    "api_p95_ms": figures["api"]["p95_ms"],
                    "bare_sql_p95_ms": figures["selector_bare_sql"]["p95_ms"],
                    "ratio_p50": figures["ratio_selector_over_bare_p50"],
                }
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
    from kehu.customers.schemas import CustomerOut
    from kehu.customers.selectors import CustomerFilters, customer_list

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
                        page = list(
                            customer_list(
                                actor=actor, filters=CustomerFilters(q=word)
                            ).prefetch_related("tags")[:PAGE]
                        )
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


def child_main(argv: list[str]) -> None:
    import django

    django.setup()
    from kehu.customers.models import Customer

    if argv[0] == "count":
        print(json.dumps({"customers": Customer.all_objects.count()}))
    elif argv[0] == "search":
        print(json.dumps(child_search(int(argv[1])), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown child command {argv[0]!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
        child_main(sys.argv[2:])
    else:
        raise SystemExit("run through the runner: python -m bench.run customers")
