"""Raw bulk inserts for large loads: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

Used where the ORM's ``bulk_create`` costs more than the rows themselves: the demo data
(a million customers) and file imports (hundreds of thousands of rows). Rows are plain
tuples in the order of the columns given; ids are reserved first (from the table's
sequence on PostgreSQL; on SQLite after the highest id ever given, inside the caller's
IMMEDIATE transaction, so no one else writes meanwhile), so related rows can point at
them in the same batch. Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model


class BulkWriter:
    """Bulk inserts on the default connection."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.naive_utc = self.vendor != "postgresql"

    # --- values ----------------------------------------------------------------------------

    def when(self, value: datetime | None) -> Any:
        """A datetime as this database stores it (SQLite: naive UTC text, as Django)."""
        if value is None or not self.naive_utc:
            return value
        return connection.ops.adapt_datetimefield_value(value)

    def day(self, value: date | None) -> Any:
        if value is None or not self.naive_utc:
            return value
        return connection.ops.adapt_datefield_value(value)

    def defaults(self, model: type[Model], skip: Iterable[str]) -> tuple[list[str], tuple]:
        """(columns, values): every concrete column of ``model`` whose attribute name is not
        in ``skip``, with its model default as the database stores it."""
        skipped = set(skip)
        columns: list[str] = []
        values: list[Any] = []
        for field in model._meta.concrete_fields:
            if field.attname in skipped:
                continue
            default = field.get_default()
            if field.get_internal_type() == "JSONField":
                value: Any = json.dumps(default if default is not None else {})
            else:
                value = field.get_db_prep_save(default, connection)
            columns.append(str(field.column))
            values.append(value)
        return columns, tuple(values)

    @staticmethod
    def columns_of(model: type[Model], attnames: Sequence[str]) -> list[str]:
        by_name = {field.attname: str(field.column) for field in model._meta.concrete_fields}
        return [by_name[name] for name in attnames]

    # --- ids -------------------------------------------------------------------------------

    def reserve_ids(self, model: type[Model], count: int) -> list[int]:
        """``count`` fresh primary keys for ``model``, never given before."""
        if count <= 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite (AUTOINCREMENT): after the highest id ever given, deleted ones too.
            cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
            start = cursor.fetchone()[0]
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
            )
            if cursor.fetchone() is not None:
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                if row is not None and row[0] is not None:
                    start = max(start, int(row[0]))
            return list(range(start + 1, start + 1 + count))

    # --- writing ---------------------------------------------------------------------------

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(
                    f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})",  # noqa: S608
                    rows,
                )

    @contextmanager
    def fts_in_bulk(
        self, table: str, fts_table: str, first_id: int, last_id: int
    ) -> Iterator[None]:
        """SQLite: index rows ``first_id``..``last_id`` of ``table`` in its FTS5 table with
        one INSERT … SELECT instead of the per-row insert trigger ``<fts_table>_ai``
        (2–3x faster). The trigger is dropped and re-created inside the caller's
        transaction, so no one ever sees the table without it. A no-op elsewhere."""
        trigger = None
        if self.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                    [f"{fts_table}_ai"],
                )
                row = cursor.fetchone()
                trigger = row[0] if row else None
                if trigger:
                    cursor.execute(f"DROP TRIGGER {fts_table}_ai")
        yield
        if trigger:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {fts_table}(rowid, search_text) "  # noqa: S608
                    f"SELECT id, search_text FROM {table} WHERE id BETWEEN %s AND %s",
                    [first_id, last_id],
                )
                cursor.execute(trigger)
