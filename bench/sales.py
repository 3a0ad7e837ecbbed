"""``sales``: order import and the customer file of a big buyer.

Sections (``--sales-only``, default ``file,import``; ``demo`` is opt-in because of its size):

* ``demo``: ``kehu demo --seed 1 --customers C --orders O`` (default C = 1,000,000,
  O = 10,000,000, ``--sales-dataset C,O``) into a kept SQLite file under ``var/bench/sales/``
  and the PostgreSQL database ``<bench db>_sales``; wall time, rows/s and peak RSS of the
  load. Skipped when the database already holds that dataset.
* ``file``: in that dataset (or, without ``demo``, in a fresh database with
  ``--file-dataset C,O``, default 20,000,500,000), one customer is given 1,000 orders by the
  demo's own bulk writer; then the server time of ``GET /customers/<id>/`` (the whole file
  page, signed in as an administrator, through Django's test client: middleware, access
  check, audit of the view, the sales card) and of ``GET /api/v1/customers/<id>/sales``,
  30 times each after 3 warm-ups; p50/p95 and the statements per page.
* ``import``: a generated CSV of N order lines (``--order-lines``, default 1,000,000; about
  two lines per order, customers referred to by id, phone or email, a third of orders
  from walk-ins) imported with ``kehu.dataio.services.run_import`` (kind ``orders``) into
  a fresh database holding 20,000 demo customers; then the rows the import wrote
  (orders, lines, payments) read back, the tables emptied, and the same rows written again
  with one COPY (PostgreSQL) / executemany per 2,000 rows (SQLite): the ratio shows what
  the import's parsing, matching and checks cost. Peak RSS of the import process.

Results: the big demo's figures go under ``runs.<engine>.dataset_10m`` / ``file_10m`` /
``database_10m`` (headline "<engine> 10M-order demo customer file …"), the small file
dataset's under ``dataset`` / ``file``; a run keeps the previous figures of every section
it did not measure again (``previous_sections_from`` gives their date).

Each step runs in a child process (``python -m bench.sales --child ...``) with the
benchmark's environment; the runner never imports Django settings.
"""

from __future__ import annotations

import contextlib
import csv
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

NAME = "sales"
SEED = 1
VAR_DIR = REPO_DIR / "var" / "bench" / "sales"
SECTIONS = ("demo", "file", "import")
DEMO_DATASET = (1_000_000, 10_000_000)
FILE_DATASET = (20_000, 500_000)
ORDER_LINES = 1_000_000
BIG_BUYER_ORDERS = 1_000
REPS = 30


def _parse_pair(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if not text:
        return default
    a, b = (int(x) for x in str(text).split(","))
    return a, b


def _child(db: BenchDatabase, *args: str, timeout: float = 6 * 3600) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.sales", "--child", *args],
        # A million order lines make a CSV of ~80 MB, above the 50 MB default.
        env=db.env(KEHU_IMPORT_MAX_MB="1000"),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.sales --child {' '.join(args)}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _kept_database(kind: str) -> BenchDatabase:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    db = BenchDatabase(kind, VAR_DIR)
    if db.url:
        base, _sep, name = db.url.rpartition("/")
        db.url = f"{base}/{name.split('?')[0]}_sales"
    return db


def _scratch_database(kind: str, suffix: str) -> BenchDatabase:
    db = BenchDatabase(kind, Path(tempfile.mkdtemp(prefix=f"kehu-bench-sales-{kind}-")))
    if db.url:
        base, _sep, name = db.url.rpartition("/")
        db.url = f"{base}/{name.split('?')[0]}_sales_{suffix}"
    return db


def _demo(db: BenchDatabase, customers: int, orders: int) -> dict[str, Any]:
    """Load the dataset with ``kehu demo`` (timed, under /usr/bin/time for the peak RSS)
    unless the database already holds it."""
    marker = db.var_dir / f"load-{db.kind}.json"
    if db.kind == "postgres":
        with contextlib.suppress(Exception):
            _pg_execute(db.url or "", "CREATE DATABASE {}")
    kehu(["migrate", "-v", "0"], db.env(), timeout=3600)
    found = _child(db, "count")
    if found["customers"] == customers and found["orders"] >= orders:
        previous = json.loads(marker.read_text()) if marker.exists() else {}
        return {"loaded_now": False, **found, "previous_load": previous}
    log(f"sales: {db.kind}: loading {customers} customers and {orders} orders")
    db.reset()
    machine_load = wait_quiet()
    started = time.perf_counter()
    command = ["demo", "--seed", str(SEED), "--customers", str(customers), "--orders", str(orders)]
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "kehu", *command],
        env=db.env(),
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        timeout=12 * 3600,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"kehu demo: {proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    load = {
        "command": "kehu " + " ".join(command),
        "wall_seconds": round(wall, 1),
        "rows_per_second": round(summary["rows"] / wall),
        "orders_per_second": round(summary["orders"] / wall),
        "peak_rss_mb": round(int(proc.stderr.strip().splitlines()[-1]) / 1024, 1),
        "summary": summary,
        "machine_load_before": machine_load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    marker.write_text(json.dumps(load, ensure_ascii=False, indent=2))
    return {"loaded_now": True, **_child(db, "count"), "load": load}


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    only = getattr(opts, "sales_only", None) or "file,import"
    sections = {part.strip() for part in only.split(",") if part.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise ValueError(f"--sales-only: unknown section(s) {sorted(unknown)}; use {SECTIONS}")
    quick = bool(getattr(opts, "quick", False))
    demo_set = _parse_pair(getattr(opts, "sales_dataset", None), DEMO_DATASET)
    file_set = _parse_pair(getattr(opts, "file_dataset", None), FILE_DATASET)
    lines = int(getattr(opts, "order_lines", None) or ORDER_LINES)
    if quick:
        demo_set, file_set, lines = (2_000, 20_000), (2_000, 20_000), 20_000
    result = result_skeleton(
        NAME,
        {
            "sections": sorted(sections),
            "demo_dataset": f"kehu demo --seed {SEED} --customers {demo_set[0]} "
            f"--orders {demo_set[1]}",
            "file_dataset": "the demo dataset"
            if "demo" in sections
            else f"kehu demo --seed {SEED} --customers {file_set[0]} --orders {file_set[1]}",
            "big_buyer_orders": BIG_BUYER_ORDERS,
            "file_repetitions": REPS,
            "order_lines": lines,
            "import": "generated CSV -> kehu.dataio.services.run_import(kind=orders) into a "
            "fresh database with 20,000 demo customers, as an administrator; plain_insert: "
            "the orders, lines and payments the import wrote, read back and written again "
            "into the emptied tables with COPY (PostgreSQL) / executemany per 2,000 (SQLite)",
        },
    )
    result["skipped"] = skipped
    headline: dict[str, Any] = {}
    for kind in dbs:
        run_: dict[str, Any] = {}
        # The big demo's figures live beside those of the small file dataset.
        big = "demo" in sections
        suffix, label = ("_10m", f"{kind} 10M-order demo") if big else ("", kind)
        if sections & {"demo", "file"}:
            if big:
                db = _kept_database(kind)
                run_["dataset_10m"] = _demo(db, *demo_set)
                cleanup = False
            else:
                db = _scratch_database(kind, "file")
                db.reset()
                log(f"sales: {kind}: loading {file_set[0]} customers, {file_set[1]} orders")
                kehu(
                    ["demo", "--seed", str(SEED), "--customers", str(file_set[0]),
                     "--orders", str(file_set[1])],
                    db.env(),
                    timeout=6 * 3600,
                )  # fmt: skip
                run_["dataset"] = _child(db, "count")
                cleanup = True
            run_["database" + suffix] = db.info()
            try:
                if "file" in sections:
                    run_["machine_load_before_file" + suffix] = wait_quiet()
                    log(f"sales: {kind}: customer file with {BIG_BUYER_ORDERS} orders")
                    figures = run_["file" + suffix] = _child(db, "file", timeout=3600)
                    for page in ("page", "api"):
                        headline[f"{label} customer file {page}"] = {
                            "orders_of_customer": figures["orders_of_customer"],
                            "p50_ms": figures[page]["p50_ms"],
                            "p95_ms": figures[page]["p95_ms"],
                        }
            finally:
                if cleanup:
                    db.drop()
                    shutil.rmtree(db.var_dir, ignore_errors=True)
        if "import" in sections:
            run_["import"] = _import_section(kind, lines)
            figures = run_["import"]
            headline[f"{kind} order import"] = {
                "lines": figures["lines"],
                "lines_per_second": figures["lines_per_second"],
                "plain_insert_rows_per_second": figures["plain_insert"]["rows_per_second"],
                "ratio_import_over_plain": figures["ratio_import_over_plain"],
                "peak_rss_mb": figures["peak_rss_mb"],
            }
        result["runs"][kind] = run_
    keep_previous(NAME, result, headline)
    result["headline"] = headline
    write_result(NAME, result)
    return result


def _import_section(kind: str, lines: int) -> dict[str, Any]:
    db = _scratch_database(kind, "import")
    try:
        db.reset()
        kehu(["demo", "--seed", str(SEED), "--customers", "20000", "--orders", "0"], db.env(),
             timeout=3600)  # fmt: skip
        load = wait_quiet()
        log(f"sales: {kind}: importing {lines} order lines")
        imported = _child(db, "import", str(lines))
        load_plain = wait_quiet()
        log(f"sales: {kind}: plain bulk insert of the same rows")
        plain = _child(db, "baseline")
        rows_written = imported["orders"] + imported["order_lines"] + imported["payments"]
        import_rows_per_second = rows_written / imported["seconds"]
        return {
            **imported,
            "rows_written": rows_written,
            "machine_load_before": load,
            "plain_insert": {**plain, "machine_load_before": load_plain},
            "ratio_import_over_plain": round(import_rows_per_second / plain["rows_per_second"], 3),
        }
    finally:
        db.drop()
        shutil.rmtree(db.var_dir, ignore_errors=True)


# --- Child side (Django loaded) -------------------------------------------------------------


def _stats(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "max_ms": ms(ordered[-1]) if ordered else None,
    }


def _rss_mb(key: str) -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def _admin() -> Any:
    from kehu.accounts.models import Role, User

    admin, _ = User.objects.get_or_create(
        username="bench_admin",
        defaults={"name": "Bench Admin", "role": Role.objects.get(code="administrator")},
    )
    return admin


def child_count() -> dict[str, Any]:
    from kehu.customers.models import Customer
    from kehu.sales.models import Order, OrderLine

    return {
        "customers": Customer.all_objects.count(),
        "orders": Order.all_objects.count(),
        "order_lines": OrderLine.objects.count(),
    }


def child_file() -> dict[str, Any]:
    """Give one customer 1,000 orders (the demo's bulk writer), then time its file."""
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.accounts.models import User
    from kehu.customers.models import Customer
    from kehu.demo.sales import _Orders, ensure_products
    from kehu.sales.models import Order

    customer = Customer.objects.filter(owner__isnull=False).order_by("pk").first()
    have = Order.objects.filter(customer=customer).count()
    if have < BIG_BUYER_ORDERS:
        seller = User.objects.get(pk=customer.owner_id)
        builder = _Orders(random.Random(SEED), ensure_products(), [seller])
        missing = BIG_BUYER_ORDERS - have
        with transaction.atomic():
            builder.write([(customer.pk, seller)] * missing)
    count = Order.objects.filter(customer=customer).count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_order")
    admin = _admin()
    client = Client()
    client.force_login(admin)
    out: dict[str, Any] = {"customer_id": customer.pk, "orders_of_customer": count}
    for label, url in (
        ("page", f"/customers/{customer.pk}/"),
        ("api", f"/api/v1/customers/{customer.pk}/sales"),
    ):
        for _n in range(3):
            response = client.get(url)
        if response.status_code != 200:
            out[label] = {"status": response.status_code}
            continue
        samples = []
        for _n in range(REPS):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        out[label] = {**_stats(samples), "statements": len(queries), "bytes": len(response.content)}
    return out


def write_orders_csv(path: Path, lines: int, seed: int = SEED) -> None:
    """Order lines as a Chinese spreadsheet would have them: GB-style headers, dates as
    2024/3/5, amounts with ¥ and thousands separators, customers by id, phone or email."""
    from kehu.customers.models import Customer
    from kehu.sales.models import Product

    rng = random.Random(seed)
    customers = list(Customer.objects.values_list("pk", "mobile", "email")[:20000])
    products = list(Product.objects.values_list("code", "list_price"))
    headers = ["订单号", "下单日期", "客户编号", "手机", "邮箱", "顾客", "渠道",
               "商品编码", "数量", "单价", "优惠", "实收"]  # fmt: skip
    channels = ["门店", "线上", "小程序", "电话", "地推"]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        written, number = 0, 0
        while written < lines:
            number += 1
            day = f"{rng.randrange(2019, 2026)}/{rng.randrange(1, 13)}/{rng.randrange(1, 29)}"
            pk, mobile, email = rng.choice(customers)
            who = rng.random()
            ref = (
                ["", "", "", "散客"]
                if who < 1 / 3
                else [str(pk), "", "", ""]
                if who < 0.6
                else ["", mobile, "", ""]
                if who < 0.85 or not email
                else ["", "", email, ""]
            )
            channel = rng.choice(channels)
            n_lines = min(rng.choice((1, 1, 2, 2, 3)), lines - written)
            for line_no in range(n_lines):
                code, price = rng.choice(products)
                quantity = rng.choice((1, 1, 2, 3, 5))
                paid = f"¥{price * quantity:,.2f}" if line_no == 0 else ""
                writer.writerow(
                    [f"BENCH-{number:08d}", day, *ref, channel, code, quantity,
                     f"¥{price:,.2f}", "0", paid]
                )  # fmt: skip
                written += 1


def child_import(lines: int) -> dict[str, Any]:
    import resource

    from django.conf import settings

    from kehu.dataio import services
    from kehu.dataio.models import ImportJob
    from kehu.sales.models import Order, OrderLine, Payment

    path = Path(settings.VAR_DIR) / "bench-orders.csv"
    started = time.perf_counter()
    write_orders_csv(path, lines)
    generate_seconds = time.perf_counter() - started
    actor = _admin()
    with open(path, "rb") as handle:
        job = services.job_create(
            actor=actor,
            kind="orders",
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
    job = ImportJob.objects.get(pk=job.pk)
    if job.status != "done":
        raise RuntimeError(f"import ended {job.status}: {job.message}")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "lines": job.processed_rows,
        "created": job.created_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "orders": Order.objects.count(),
        "order_lines": OrderLine.objects.count(),
        "payments": Payment.objects.count(),
        "seconds": round(wall, 2),
        "lines_per_second": round(job.processed_rows / wall),
        "python_cpu_seconds": round(cpu, 2),
        "csv_bytes": path.stat().st_size,
        "csv_generate_seconds": round(generate_seconds, 1),
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb("VmHWM"),
    }


def child_baseline() -> dict[str, Any]:
    """The orders, lines and payments the import wrote, read back, their tables emptied,
    and the same rows inserted again with nothing else, in one transaction."""
    from django.db import connection, transaction

    from kehu.sales.models import Order, OrderLine, Payment

    models = [Order, OrderLine, Payment]
    saved: list[tuple[str, str, Any, int, int]] = []
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            columns = [str(f.column) for f in model._meta.concrete_fields]
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            if connection.vendor == "postgresql":
                copied = bytearray()
                with cursor.cursor.copy(
                    f"COPY (SELECT {names} FROM {table} ORDER BY id) TO STDOUT"  # noqa: S608
                ) as copy:
                    for data in copy:
                        copied += data
                count = model._base_manager.count()
                saved.append((table, names, copied, count, len(columns)))
            else:
                cursor.execute(f"SELECT {names} FROM {table} ORDER BY id")  # noqa: S608
                rows = cursor.fetchall()
                saved.append((table, names, rows, len(rows), len(columns)))
        for table, *_rest in reversed(saved):
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {table} CASCADE")
            else:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    started = time.perf_counter()
    total = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table, names, data, count, width in saved:
            total += count
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    view = memoryview(data)
                    for offset in range(0, len(view), 1 << 20):
                        copy.write(view[offset : offset + (1 << 20)])
            else:
                marks = ", ".join(["%s"] * width)
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
                for offset in range(0, count, 2000):
                    cursor.executemany(sql, data[offset : offset + 2000])
    wall = time.perf_counter() - started
    return {
        "method": "COPY FROM STDIN"
        if connection.vendor == "postgresql"
        else "executemany (2,000 rows a call)",
        "rows": total,
        "tables": [t for t, *_r in saved],
        "seconds": round(wall, 2),
        "rows_per_second": round(total / wall),
    }


def child_main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "count":
        print(json.dumps(child_count()))
    elif argv[0] == "file":
        print(json.dumps(child_file()))
    elif argv[0] == "import":
        print(json.dumps(child_import(int(argv[1]))))
    elif argv[0] == "baseline":
        print(json.dumps(child_baseline()))
    else:
        raise SystemExit(f"unknown child command {argv[0]!r}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
        child_main(sys.argv[2:])
    else:
        raise SystemExit("run through the runner: python -m bench.run sales")
