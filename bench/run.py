"""Run kehu's benchmarks: ``python -m bench.run [NAME ...] [--db sqlite|postgres|both]``.

NAME is any of http, demo, audit, customers, sales (default: all, in that order). Each writes
bench/results/<NAME>.json and prints its headline figures. Benchmarks measure; they never
pass or fail on a time. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import audit_bench, customers, demo_bench, http_bench, sales
from bench.common import QUIET, RESULTS_DIR, log, preflight, selected_databases

BENCHMARKS: dict[str, Callable[[list[str], dict[str, str], Any], dict[str, Any]]] = {
    "http": http_bench.run,
    "demo": demo_bench.run,
    "audit": audit_bench.run,
    "customers": customers.run,
    "sales": sales.run,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="database(s) to run on (default: both; PostgreSQL from KEHU_BENCH_DATABASE_URL, "
        "default postgres://postgres@127.0.0.1:5432/kehu_bench)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds of load per measurement (http, audit; default 10)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of warm-up load before each http measurement (default 3)",
    )
    parser.add_argument(
        "--demo-users",
        default="2000,20000",
        help="comma-separated --users sizes for the demo benchmark (default 2000,20000)",
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="http load generator (auto: wrk if installed, else Python threads)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=15.0,
        help="before each measurement, wait up to this many seconds for other processes to "
        "leave the CPUs under 25%% busy (default 15; 0: do not wait, only record)",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=1_000_000,
        help="customers in the customers benchmark's dataset (default 1000000; loaded once "
        "with kehu demo and kept under var/bench/customers and in the PostgreSQL database)",
    )
    parser.add_argument(
        "--only",
        default="search,import,export,tags",
        help="customers benchmark: comma-separated sections to run, of search, import, "
        "export, tags (default: all; a partial run keeps the other sections' last figures), "
        "e.g. --only import,export",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=200_000,
        help="rows of the CSV the customers benchmark imports and exports (default 200000)",
    )
    parser.add_argument(
        "--sales-only",
        default="file,import",
        help="sales benchmark: comma-separated sections of demo, file, import (default "
        "file,import; demo loads --sales-dataset and the file is then measured in it)",
    )
    parser.add_argument(
        "--sales-dataset",
        default="1000000,10000000",
        help="sales benchmark, demo section: CUSTOMERS,ORDERS (default 1000000,10000000)",
    )
    parser.add_argument(
        "--file-dataset",
        default="20000,500000",
        help="sales benchmark, file section without demo: CUSTOMERS,ORDERS of the fresh "
        "database (default 20000,500000)",
    )
    parser.add_argument(
        "--order-lines",
        type=int,
        default=1_000_000,
        help="sales benchmark: order lines in the imported CSV (default 1000000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 s loads, 1 s warm-up, demo sizes 200,2000 (figures not comparable)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.demo_users = 2.0, 1.0, "200,2000"
    args.demo_users = [int(n) for n in str(args.demo_users).split(",") if n.strip()]
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    args.names = args.names or list(BENCHMARKS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    QUIET["max_wait"] = args.quiet_wait
    broken = preflight()
    if broken:
        log(f"kehu does not load from this working tree, so nothing is measured: {broken}")
        return 1
    dbs, skipped = selected_databases(args.db)
    for reason in skipped.values():
        log(f"skipping PostgreSQL: {reason}")
    if not dbs:
        log("no database to run on")
        return 1
    code = 0 if args.db != "postgres" or not skipped else 1
    started = time.perf_counter()
    for name in args.names:
        t0 = time.perf_counter()
        log(f"{name}: starting on {', '.join(dbs)}")
        try:
            result = BENCHMARKS[name](dbs, skipped, args)
        except Exception as exc:
            log(f"{name}: FAILED: {type(exc).__name__}: {exc}")
            code = 1
            continue
        log(f"{name}: done in {time.perf_counter() - t0:.0f}s -> {RESULTS_DIR / (name + '.json')}")
        print(json.dumps({name: result.get("headline")}, indent=2, ensure_ascii=False))
    log(f"all done in {time.perf_counter() - started:.0f}s")
    return code


if __name__ == "__main__":
    sys.exit(main())
