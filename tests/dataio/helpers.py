"""Helpers for import tests: upload bytes as a job and run it in-process."""

from __future__ import annotations

import csv
import io
from typing import Any

from kehu.dataio import services
from kehu.dataio.models import ImportJob


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def upload(actor, name: str, data: bytes, *, kind: str = "customers", **config: Any) -> ImportJob:
    job = services.job_create(
        actor=actor, kind=kind, original_name=name, chunks=iter([data]), language="en"
    )
    if config:
        job = services.job_configure(
            actor=actor, job=job, mapping=config.get("mapping"), options=config.get("options")
        )
    return job


def run(actor, job: ImportJob, *, dry_run: bool = False, batch_size: int | None = None):
    services.job_start(actor=actor, job=job, dry_run=dry_run, enqueue=False)
    services.run_import(job.pk, batch_size=batch_size)
    job.refresh_from_db()
    return job


def import_file(actor, name: str, data: bytes, *, dry_run: bool = False, **config: Any):
    return run(actor, upload(actor, name, data, **config), dry_run=dry_run)
