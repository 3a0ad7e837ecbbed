"""Export the customer list to CSV or XLSX: the actor's scoped, filtered list, the columns
they chose, masked fields masked (unless they may reveal them and asked to), every cell
safe to open in a spreadsheet, and an audit event with the exact row count.

Pure: a queryset-producing filter, the columns and the actor in, a file out. Pages, the API
and ``kehu export customers`` all call :func:`customer_export`.

**File, then serve.** The rows are written to a temporary file first and the audit event
is recorded when the file is complete, so its row count is exact (a streamed response
could be cut off half-way by the client, and would have to be audited before anyone knew
how many rows went out). At 200,000 customers the file is tens of megabytes on disk while
memory stays flat: rows come from one server-side cursor in chunks, tags are fetched per
chunk, and XLSX goes through openpyxl's write-only (streaming) mode.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.access import AccessDenied, has_perm
from kehu.core.audit import audit_record
from kehu.core.exports import spreadsheet_safe
from kehu.core.permissions import Perm
from kehu.customers import masking
from kehu.customers.choices import FieldKind, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.filtering import DEFAULT_SORT
from kehu.customers.models import Customer, CustomField, Tag
from kehu.customers.selectors import CustomerFilters, customer_list

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 2000
CUSTOM_PREFIX = "custom."
MAX_COLUMNS = 100


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    fields: tuple[str, ...] = ()  # what values_list must fetch
    kind: str = "text"  # text, choice, masked, date, datetime, user, tags, custom
    choices: dict[str, Any] = field(default_factory=dict)
    custom_kind: str = ""  # for custom fields: text, number, date or choice


def _choice(key: str, label: Any, choices: Any) -> Column:
    return Column(key, label, (key,), "choice", dict(choices.choices))


BUILT_IN: tuple[Column, ...] = (
    Column("id", gettext_lazy("ID"), ("id",)),
    Column("name", gettext_lazy("Name"), ("name",)),
    _choice("kind", gettext_lazy("Kind"), Kind),
    Column("company", gettext_lazy("Company"), ("company",)),
    Column("credit_code", gettext_lazy("Unified social credit code"), ("credit_code",)),
    Column("industry", gettext_lazy("Industry"), ("industry",)),
    _choice("size", gettext_lazy("Size"), Size),
    Column("mobile", gettext_lazy("Mobile"), ("mobile",), "masked"),
    Column("phone", gettext_lazy("Phone"), ("phone",), "masked"),
    Column("email", gettext_lazy("Email"), ("email",)),
    Column("wechat", gettext_lazy("WeChat ID"), ("wechat",)),
    Column("id_number", gettext_lazy("ID number"), ("id_number",), "masked"),
    Column("province", gettext_lazy("Province"), ("province",)),
    Column("city", gettext_lazy("City"), ("city",)),
    Column("district", gettext_lazy("District"), ("district",)),
    Column("street", gettext_lazy("Street address"), ("street",), "masked"),
    Column("address_text", gettext_lazy("Address (free form)"), ("address_text",), "masked"),
    Column("birthday", gettext_lazy("Birthday"), ("birthday",), "date"),
    _choice("gender", gettext_lazy("Gender"), Gender),
    _choice("source", gettext_lazy("Source"), Source),
    Column("referrer", gettext_lazy("Referred by"), ("referrer__name",)),
    Column("tags", gettext_lazy("Tags"), (), "tags"),
    Column("notes", gettext_lazy("Notes"), ("notes",)),
    Column("owner", gettext_lazy("Owner"), ("owner__name", "owner__username"), "user"),
    Column("team", gettext_lazy("Team"), ("team__name",)),
    _choice("stage", gettext_lazy("Stage"), Stage),
    _choice("tier", gettext_lazy("Tier"), Tier),
    Column("tier_reason", gettext_lazy("Reason for the tier"), ("tier_reason",)),
    Column("last_contact_at", gettext_lazy("Last contact"), ("last_contact_at",), "datetime"),
    Column("verified_at", gettext_lazy("Last verified"), ("verified_at",), "datetime"),
    Column("created_at", gettext_lazy("Created"), ("created_at",), "datetime"),
    Column("updated_at", gettext_lazy("Updated"), ("updated_at",), "datetime"),
)
DEFAULT_COLUMNS: tuple[str, ...] = (
    "name",
    "company",
    "mobile",
    "email",
    "city",
    "stage",
    "tier",
    "owner",
    "tags",
    "last_contact_at",
)


def available_columns() -> list[Column]:
    """Every column an export offers now: the built-in ones, then the active custom
    fields (definitions read at export time, so a new field is exportable at once)."""
    columns = list(BUILT_IN)
    for custom in CustomField.objects.filter(is_active=True).order_by("position", "key"):
        columns.append(
            Column(
                CUSTOM_PREFIX + custom.key,
                custom.label,
                ("custom",),
                "custom",
                custom_kind=custom.kind,
            )
        )
    return columns


def column_choices() -> list[tuple[str, str]]:
    return [(column.key, str(column.label)) for column in available_columns()]


def resolve_columns(keys: Sequence[str]) -> list[Column]:
    """The chosen columns in the order given; an unknown or repeated key is an error."""
    by_key = {column.key: column for column in available_columns()}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ValidationError(
            {"columns": [_("Unknown column: %(keys)s.") % {"keys": ", ".join(unknown[:10])}]}
        )
    if not keys:
        raise ValidationError({"columns": [_("Choose at least one column.")]})
    if len(set(keys)) != len(keys) or len(keys) > MAX_COLUMNS:
        raise ValidationError({"columns": [_("Choose each column once.")]})
    return [by_key[key] for key in keys]


@dataclass
class ExportResult:
    path: str
    rows: int
    format: str
    columns: list[str]
    filename: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


# --- Rows ---------------------------------------------------------------------------------


def _tag_names() -> dict[int, str]:
    # Tags are few (hundreds): one read, then only (customer, tag) ids per chunk.
    return dict(Tag.objects.values_list("id", "name"))


def _tags_by_customer(ids: list[int], names: dict[int, str]) -> dict[int, str]:
    through = Customer.tags.through
    found: dict[int, list[str]] = {}
    for customer_id, tag_id in through.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "tag_id"
    ):
        name = names.get(tag_id)
        if name is None:  # a tag created during the export
            name = names[tag_id] = Tag.objects.get(pk=tag_id).name
        found.setdefault(customer_id, []).append(name)
    return {customer_id: ", ".join(sorted(tags)) for customer_id, tags in found.items()}


def _custom_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == FieldKind.NUMBER and isinstance(value, str):
        try:
            return Decimal(value)  # stored exact as a string; a number cell in XLSX
        except InvalidOperation:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value)
    return value


def iter_rows(
    customers: Any, columns: Sequence[Column], *, revealed: bool, text_dates: bool
) -> Iterator[list[Any]]:
    """The cells of each customer, in order, masked and spreadsheet-safe.

    ``customers`` is a queryset (already scoped and filtered). Reads go through one
    cursor in chunks of CHUNK rows; tags are fetched once per chunk.
    """
    fields: list[str] = ["id"]
    for column in columns:
        for name in column.fields:
            if name not in fields:
                fields.append(name)
    index = {name: i for i, name in enumerate(fields)}
    want_tags = any(column.kind == "tags" for column in columns)
    tag_names = _tag_names() if want_tags else {}
    masked = [(column.key, index[column.key]) for column in columns if column.kind == "masked"]
    zone = timezone.get_current_timezone()
    # One (kind, position, extra) per column, worked out once rather than per cell.
    plan: list[tuple[str, int, Any]] = []
    for column in columns:
        if column.kind == "choice":
            labels = {value: str(label) for value, label in column.choices.items()}
            plan.append(("choice", index[column.key], labels))
        elif column.kind == "user":
            plan.append(("user", index["owner__name"], index["owner__username"]))
        elif column.kind == "custom":
            key = column.key[len(CUSTOM_PREFIX) :]
            plan.append(("custom", index["custom"], (key, column.custom_kind)))
        elif column.kind in ("masked", "tags"):
            plan.append((column.kind, 0, column.key))
        else:
            plan.append((column.kind, index[column.fields[0]], None))

    def cells(row: tuple[Any, ...], tags: dict[int, str]) -> list[Any]:
        shown = (
            masking.masked_values(
                types.SimpleNamespace(**{key: row[i] for key, i in masked}), revealed=revealed
            )
            if masked
            else {}
        )
        out: list[Any] = []
        for kind, i, extra in plan:
            if kind == "text":
                value = row[i]
            elif kind == "masked":
                value = shown[extra]
            elif kind == "choice":
                value = extra.get(row[i], row[i]) if row[i] else ""
            elif kind == "datetime":
                value = row[i]
                if value is not None:
                    value = value.astimezone(zone).replace(tzinfo=None, microsecond=0)
                    if text_dates:
                        value = value.strftime("%Y-%m-%d %H:%M")
            elif kind == "date":
                value = row[i]
                if text_dates and value is not None:
                    value = value.isoformat()
            elif kind == "user":
                value = row[i] or row[extra] or ""
            elif kind == "tags":
                value = tags.get(row[0], "")
            else:  # custom
                value = _custom_value((row[i] or {}).get(extra[0]), extra[1])
            out.append(spreadsheet_safe(value))
        return out

    chunk: list[tuple[Any, ...]] = []
    for row in customers.values_list(*fields).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            tags = _tags_by_customer([r[0] for r in chunk], tag_names) if want_tags else {}
            for item in chunk:
                yield cells(item, tags)
            chunk = []
    if chunk:
        tags = _tags_by_customer([r[0] for r in chunk], tag_names) if want_tags else {}
        for item in chunk:
            yield cells(item, tags)


# --- Writers ------------------------------------------------------------------------------


def write_csv(out: IO[bytes], header: list[str], rows: Iterable[list[Any]]) -> int:
    """UTF-8 with a byte-order mark (so Excel in China opens it as UTF-8), CRLF lines,
    every field quoted when needed. Returns the number of data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    text.flush()
    text.detach()
    return count


def write_xlsx(out: IO[bytes], header: list[str], rows: Iterable[list[Any]], title: str) -> int:
    """openpyxl write-only mode: rows stream to disk, memory stays flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    bold = Font(bold=True)
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=spreadsheet_safe(name))
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    sheet.freeze_panes = "A2"
    count = 0
    for row in rows:
        # A text cell is never a formula here: neutralised, and openpyxl only treats a
        # string starting with "=" as one, which spreadsheet_safe never returns.
        sheet.append(row)
        count += 1
    workbook.save(out)
    return count


# --- The export ---------------------------------------------------------------------------


def customer_export(
    *,
    actor: Any,
    filters: CustomerFilters,
    columns: Sequence[str],
    fmt: str,
    reveal: bool = False,
    directory: str | None = None,
) -> ExportResult:
    """Write the actor's filtered customer list to a temporary file and audit it.

    The caller serves (or moves) ``result.path`` and removes it afterwards. Raises
    AccessDenied without Perm.EXPORT_CUSTOMERS (or, with ``reveal``, without
    Perm.REVEAL_CUSTOMER_PII), ValidationError for a bad format or column.
    """
    if not has_perm(actor, Perm.EXPORT_CUSTOMERS):
        raise AccessDenied
    if reveal and not masking.can_reveal(actor):
        raise AccessDenied
    if fmt not in FORMATS:
        raise ValidationError({"format": [_("Choose CSV or XLSX.")]})
    chosen = resolve_columns(list(columns))
    customers = customer_list(actor=actor, filters=filters)
    header = [str(column.label) for column in chosen]
    handle, path = tempfile.mkstemp(prefix="kehu-export-", suffix=f".{fmt}", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            rows = iter_rows(customers, chosen, revealed=reveal, text_dates=fmt == "csv")
            if fmt == "csv":
                count = write_csv(out, header, rows)
            else:
                count = write_xlsx(out, header, rows, title=_("Customers"))
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="customer.export",
                object_type="customers.customer",
                object_label=_("Customer list"),
                row_count=count,
                changes={
                    "format": fmt,
                    "columns": [column.key for column in chosen],
                    "filters": _filters_for_audit(filters),
                    "unmasked": bool(reveal),
                },
            )
    except BaseException:
        os.unlink(path)
        raise
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportResult(
        path=path,
        rows=count,
        format=fmt,
        columns=[column.key for column in chosen],
        filename=f"customers-{stamp}.{fmt}",
    )


def _filters_for_audit(filters: CustomerFilters) -> dict[str, Any]:
    """The filters that were set, as JSON values."""
    out: dict[str, Any] = {}
    for name, value in vars(filters).items():
        if value in ("", None, False) or (name == "sort" and value == DEFAULT_SORT):
            continue
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out
