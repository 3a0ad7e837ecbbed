"""API shapes for import jobs."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from kehu.core.api import StrictSchema


class ImportFieldOut(Schema):
    name: str
    label: str
    required: bool


class ImportJobOut(Schema):
    id: int
    kind: str
    status: str
    dry_run: bool
    original_name: str
    file_format: str
    encoding: str
    headers: list[str]
    mapping: dict[str, str]
    options: dict[str, str]
    fields: list[ImportFieldOut]
    total_rows: int | None
    processed_rows: int
    progress: int = Field(description="Per cent done, 0–100.")
    created: int
    updated: int
    skipped: int
    rejected: int
    message: str
    error_report: bool = Field(description="An error report of the rejected rows exists.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobPatch(StrictSchema):
    mapping: dict[str, str] | None = Field(
        None, description="Column header → field name; an empty name ignores the column."
    )
    options: dict[str, str] | None = Field(None, description='E.g. {"on_duplicate": "update"}.')


class ImportStartIn(StrictSchema):
    dry_run: bool = False


class RowErrorOut(Schema):
    row_number: int
    errors: list[str]
    values: dict[str, str]


class RowErrorPage(Schema):
    items: list[RowErrorOut]
    next_cursor: str | None
