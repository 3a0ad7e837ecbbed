"""``audit``: audit-log write throughput with 1 and 8 concurrent writers, then sealing and
verifying the chain.

Writers are processes (multiprocessing, spawn; django.setup() in each), not threads: on
two cores the GIL would otherwise measure Python, not the database. Each writer loops for
the configured duration over

    with transaction.atomic():
        audit_record(actor="bench", action="bench.write", object_type="bench",
                     object_id=i, changes={"f": [i, i + 1]})

timing every transaction. Then, in one more process, audit_seal(max_batches=10**6) seals
every event written and audit_verify() recomputes the whole chain.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from typing import Any

from bench.common import (
    bench_database,
    log,
    ms,
    percentile,
    result_skeleton,
    wait_quiet,
    write_result,
)

NAME = "audit"
WRITER_COUNTS = (1, 8)


def _django(env: dict[str, str]) -> None:
    if "DATABASE_URL" not in env:
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(env)
    import django

    django.setup()


def _writer(env: dict[str, str], index: int, duration: float, barrier: Any, queue: Any) -> None:
    try:
        _django(env)
        from django.db import DatabaseError, connection, transaction

        from kehu.core.audit import audit_record

        connection.ensure_connection()
        barrier.wait(timeout=180)
        latencies: list[float] = []
        errors: dict[str, int] = {}
        i = 0
        start = time.monotonic()
        end = start + duration
        while time.monotonic() < end:
            i += 1
            t0 = time.perf_counter()
            try:
                with transaction.atomic():
                    audit_record(
                        actor="bench",
                        action="bench.write",
                        object_type="bench",
                        object_id=i,
                        changes={"f": [i, i + 1]},
                    )
            except DatabaseError as exc:
                key = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:120]}"
                errors[key] = errors.get(key, 0) + 1
                continue
            latencies.append(time.perf_counter() - t0)
        finished = time.monotonic()
        connection.close()
        queue.put(
            {
                "index": index,
                "ok": True,
                "start": start,
                "end": finished,
                "latencies": latencies,
                "errors": errors,
            }
        )
    except Exception as exc:  # report, never hang the parent
        queue.put({"index": index, "ok": False, "error": f"{type(exc).__name__}: {exc}"})


def _seal_and_verify(env: dict[str, str], queue: Any) -> None:
    try:
        _django(env)
        from kehu.core.audit import audit_seal, audit_verify
        from kehu.core.models import AuditEvent

        events = AuditEvent.objects.count()
        unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
        t0 = time.perf_counter()
        sealed = audit_seal(max_batches=10**6)
        seal_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = audit_verify()
        verify_s = time.perf_counter() - t0
        queue.put(
            {
                "ok": True,
                "events": events,
                "unsealed_before": unsealed,
                "sealed": sealed,
                "seal_seconds": seal_s,
                "verified": report.checked,
                "verify_ok": report.ok,
                "verify_reason": report.reason,
                "unsealed_after": report.unsealed,
                "verify_seconds": verify_s,
            }
        )
    except Exception as exc:
        queue.put({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def _writers_phase(env: dict[str, str], writers: int, duration: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(env, i, duration, barrier, queue), daemon=True)
        for i in range(writers)
    ]
    for p in procs:
        p.start()
    reports = [queue.get(timeout=duration + 300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    failed = [r["error"] for r in reports if not r["ok"]]
    if failed:
        raise RuntimeError(f"audit writer failed: {failed[0]}")
    latencies = sorted(x for r in reports for x in r["latencies"])
    window = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    errors: dict[str, int] = {}
    for r in reports:
        for key, count in r["errors"].items():
            errors[key] = errors.get(key, 0) + count
    per_writer = sorted(len(r["latencies"]) for r in reports)
    return {
        "writers": writers,
        "events": len(latencies),
        "seconds": round(window, 3),
        "events_per_second": round(len(latencies) / window, 1),
        "latency_ms": {
            "p50": ms(percentile(latencies, 50)),
            "p95": ms(percentile(latencies, 95)),
            "p99": ms(percentile(latencies, 99)),
            "max": ms(latencies[-1]) if latencies else None,
            "mean": ms(sum(latencies) / len(latencies)) if latencies else None,
        },
        "events_per_writer_min_max": [per_writer[0], per_writer[-1]],
        "failed_transactions": sum(errors.values()),
        "errors": errors,
    }


def _seal_phase(env: dict[str, str]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_seal_and_verify, args=(env, queue), daemon=True)
    proc.start()
    report = queue.get(timeout=1800)
    proc.join(timeout=60)
    if not report["ok"]:
        raise RuntimeError(f"audit seal/verify failed: {report['error']}")
    return {
        "events": report["events"],
        "unsealed_before": report["unsealed_before"],
        "sealed": report["sealed"],
        "seal_seconds": round(report["seal_seconds"], 3),
        "sealed_per_second": round(report["sealed"] / report["seal_seconds"], 1)
        if report["seal_seconds"]
        else None,
        "verified": report["verified"],
        "verify_ok": report["verify_ok"],
        "verify_reason": report["verify_reason"],
        "unsealed_after": report["unsealed_after"],
        "verify_seconds": round(report["verify_seconds"], 3),
        "verified_per_second": round(report["verified"] / report["verify_seconds"], 1)
        if report["verify_seconds"]
        else None,
    }


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    result = result_skeleton(
        NAME,
        {
            "writers": list(WRITER_COUNTS),
            "writer_kind": "processes (multiprocessing spawn, django.setup() in each)",
            "duration_s_per_phase": opts.duration,
            "transaction": "with transaction.atomic(): audit_record(actor='bench', "
            "action='bench.write', object_type='bench', object_id=i, changes={'f': [i, i+1]})",
            "seal": "audit_seal(max_batches=10**6) (batch_size 2000), after both phases",
            "verify": "audit_verify()",
        },
    )
    result["skipped"] = skipped
    headline: dict[str, Any] = {}
    for kind in dbs:
        with bench_database(NAME, kind) as db:
            db.reset()
            env = db.env()
            run: dict[str, Any] = {"database": db.info(), "writers": {}}
            for writers in WRITER_COUNTS:
                machine_load = wait_quiet()
                log(f"audit: {kind}, {writers} writer(s), {opts.duration}s")
                phase = _writers_phase(env, writers, opts.duration)
                phase["machine_load_before"] = machine_load
                run["writers"][str(writers)] = phase
            machine_load = wait_quiet()
            log(f"audit: {kind}, seal and verify")
            run["seal_verify"] = _seal_phase(env)
            run["seal_verify"]["machine_load_before"] = machine_load
            run["dataset"] = {
                **db.query_counts(),
                "note": "events written by both phases (plus any from migrate), all sealed",
            }
            one, eight = run["writers"]["1"], run["writers"]["8"]
            run["scaling_8_over_1"] = round(
                eight["events_per_second"] / one["events_per_second"], 2
            )
            result["runs"][kind] = run
            headline[kind] = {
                "events_per_s_1_writer": one["events_per_second"],
                "events_per_s_8_writers": eight["events_per_second"],
                "scaling_8_over_1": run["scaling_8_over_1"],
                "p50_p95_ms_1_writer": [one["latency_ms"]["p50"], one["latency_ms"]["p95"]],
                "p50_p95_ms_8_writers": [eight["latency_ms"]["p50"], eight["latency_ms"]["p95"]],
                "failed_transactions": one["failed_transactions"] + eight["failed_transactions"],
                "sealed_per_s": run["seal_verify"]["sealed_per_second"],
                "verified_per_s": run["seal_verify"]["verified_per_second"],
                "events_total": run["seal_verify"]["events"],
            }
    result["headline"] = headline
    write_result(NAME, result)
    return result
