"""``demo``: how long ``kehu demo --seed 1 --users N`` takes on a freshly migrated database.

Wall time is measured here around the whole command (interpreter and Django start-up
included); the command's own JSON summary (rows, seconds, rows_per_second, measured inside
load_demo) is recorded beside it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import bench_database, kehu, log, result_skeleton, wait_quiet, write_result

NAME = "demo"
SEED = 1


def run(dbs: list[str], skipped: dict[str, str], opts: Any) -> dict[str, Any]:
    sizes = opts.demo_users
    result = result_skeleton(
        NAME,
        {
            "command": f"kehu demo --seed {SEED} --users N",
            "users": sizes,
            "fresh_database_per_size": True,
        },
    )
    result["skipped"] = skipped
    headline: dict[str, Any] = {}
    for kind in dbs:
        with bench_database(NAME, kind) as db:
            run: dict[str, Any] = {"database": db.info(), "sizes": {}}
            for n in sizes:
                migrate_s = db.reset()
                # Start-up cost alone: ``kehu --help`` runs django.setup() and builds the
                # parser, then stops; demo's wall time minus this is roughly the work.
                t0 = time.perf_counter()
                kehu(["--help"], db.env())
                startup_s = time.perf_counter() - t0
                machine_load = wait_quiet()
                log(f"demo: {kind} --users {n}")
                t0 = time.perf_counter()
                out = kehu(["demo", "--seed", str(SEED), "--users", str(n)], db.env())
                wall_s = time.perf_counter() - t0
                summary = json.loads(out.strip().splitlines()[-1])
                counts = db.query_counts()
                rows = summary["rows"]
                figure = {
                    "wall_seconds": round(wall_s, 3),
                    "rows_per_second_wall": round(rows / wall_s, 1),
                    "rows": rows,
                    "summary_seconds": summary["seconds"],
                    "summary_rows_per_second": summary["rows_per_second"],
                    "startup_seconds_kehu_help": round(startup_s, 3),
                    "machine_load_before": machine_load,
                    "migrate_seconds": round(migrate_s, 2),
                    "dataset_after": counts,
                    "summary": {k: summary[k] for k in ("seed", "teams", "users", "rows")},
                }
                run["sizes"][str(n)] = figure
                headline[f"{kind} users={n}"] = {
                    "wall_s": figure["wall_seconds"],
                    "rows_per_s_wall": figure["rows_per_second_wall"],
                    "rows_per_s_summary": figure["summary_rows_per_second"],
                }
            result["runs"][kind] = run
    result["headline"] = headline
    write_result(NAME, result)
    return result
