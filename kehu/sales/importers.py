"""Importing historical orders from CSV and XLSX files (``kind="orders"``).

Registered with kehu.dataio's job runner in ``SalesConfig.ready()``; the runner streams
the file and hands this importer batches (2,000 rows) inside one transaction each, so a
batch is all-or-nothing and a resumed job starts after the last committed batch.

**A row is an order line.** Lines with the same order number form one order. The
order-level values (date, customer, channel, owner, delivery) are those of the order's
first line. Rows without an order number are each an order of their own, numbered
``IMP-<first 10 hex digits of the file's SHA-256>-<row>``: the number depends only on the
file and the row, so a resumed job, a dry run followed by the real run and a second import
of the same file all give the same numbers and nothing is loaded twice (``SO-<id>``, the
number of orders entered by hand, would differ on each import of the same file).

**Duplicates.** An order whose number already exists (entered by hand, or loaded by
another import, or deleted) is skipped with all its lines. An order created by *this*
job in an earlier batch (its lines span a batch boundary) gets the later lines appended
and its totals recomputed.

**Bad rows.** A row is rejected with its reasons in the job's language, each naming the
column as the file calls it: malformed date, amount or quantity; zero or negative
quantity; unknown product; unknown customer (with ``unmatched=reject``); a line total
(金额) that is not quantity × unit price − discount to the cent; an owner who is not an
active colleague the importing user may credit. An order with a bad line is not loaded
at all: its other lines are rejected too ("another line of order … was rejected"), so
the error report holds whole orders that can be fixed and imported again. (If the order
was already begun in an earlier batch, the lines loaded then stay.)

**Customers** are matched, among the customers the importing user may see, by the
customer code (kehu customers have no code field: a code is read as the customer's id in
kehu, ``C000123`` → 123), else the mobile (normalised as the customers app stores it:
``mobile_digits``), else the email (lower-cased). An unmatched row becomes an anonymous
consumer's order labelled with the consumer column or the masked mobile
(``unmatched=anonymous``, the default) or is rejected (``unmatched=reject``).

**Money.** Prices include tax (the product's tax rate, else 0); line and order totals
come from ``kehu.sales.money``. An empty unit price is the product's list price, or the
line total (+ discount) ÷ quantity when that is exact to the cent; a file without a
quantity column sells one of each. A paid amount (已付/实收) is the order's: give it on one
line or repeat it on each (different values reject the order); it becomes one payment
dated at the order. Imported orders count as delivered unless a delivery column says
otherwise.

**Writing** is in bulk: one query per batch for each kind of look-up (customer ids,
mobiles, emails; products and colleagues are cached for the job), orders with reserved
ids, lines and payments as raw rows (COPY on PostgreSQL, executemany on SQLite:
``kehu.core.bulk``), and one audit event per batch. Nothing is written in a dry run.
Reading the cells is :mod:`kehu.sales.parsing`; the columns and the row-by-row work are
in :mod:`kehu.sales.importer_rows`.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core import bulk
from kehu.core.audit import audit_record
from kehu.core.permissions import Perm
from kehu.dataio import registry
from kehu.dataio.registry import BatchResult, OptionSpec
from kehu.sales.importer_rows import (
    FIELDS,
    LABELS,
    SYNONYMS,
    Line,
    State,
    choices,
    parse_row,
    resolve,
    text,
)
from kehu.sales.models import Order, OrderLine, Payment
from kehu.sales.money import order_amounts, payment_status


class OrderImporter(registry.Importer):
    kind = "orders"
    label = gettext_lazy("Orders")
    permission = Perm.IMPORT_ORDERS
    fields = FIELDS
    options = (
        OptionSpec(
            "unmatched",
            gettext_lazy("When no customer matches a row"),
            (
                ("anonymous", gettext_lazy("Record an anonymous consumer's order")),
                ("reject", gettext_lazy("Reject the row")),
            ),
            "anonymous",
        ),
    )
    batch_size = 2000
    result_url_name = "sales:orders"

    def start(self, job: Any, *, dry_run: bool) -> State:
        from kehu.dataio.models import ImportRowError
        from kehu.dataio.services import job_file

        digest = hashlib.sha256()
        with open(job_file(job), "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        columns = {name: header for header, name in job.mapping.items() if name}
        state = State(
            actor=job.actor,
            unmatched=job.options.get("unmatched", "anonymous"),
            tz=zoneinfo.ZoneInfo(job.actor.time_zone or settings.TIME_ZONE),
            columns=columns,
            choices={enum: choices(enum) for enum in SYNONYMS},
            file_key=digest.hexdigest()[:10],
        )
        # A resumed job: orders with a line rejected before the crash stay rejected.
        header = columns.get("number")
        if header:
            for values in ImportRowError.objects.filter(job=job).values_list("values", flat=True):
                number = text((values or {}).get(header, ""))
                if number:
                    state.failed.add(number)
        return state

    # --- one batch -------------------------------------------------------------------------

    def process_batch(
        self,
        job: Any,
        rows: list[tuple[int, dict[str, str]]],
        *,
        state: State,
        dry_run: bool,
    ) -> BatchResult:
        result = BatchResult()
        lines = [parse_row(number, values, state) for number, values in rows]
        resolve(lines, state)
        orders: dict[str, list[Line]] = {}
        for line in lines:
            orders.setdefault(line.number, []).append(line)
        existing = {
            number: (pk, job_id, deleted, totals)
            for pk, number, job_id, deleted, *totals in Order.all_objects.filter(
                number__in=list(orders)
            ).values_list(
                "pk", "number", "import_job_id", "deleted_at", "subtotal", "discount_total",
                "tax_total", "total", "paid_total", "refunded_total",
            )
        }  # fmt: skip
        new: list[tuple[str, list[Line], Any]] = []
        appended: list[tuple[int, list[Line], list[Decimal], Decimal | None]] = []
        for number, group in orders.items():
            found = existing.get(number)
            if found is not None and (found[1] != job.pk or found[2] is not None):
                result.skipped += len(group)  # entered by hand or loaded before
                continue
            bad = [ln for ln in group if ln.errors]
            paid = {ln.paid for ln in group if ln.paid}
            total = sum((ln.amounts.total for ln in group if ln.amounts), Decimal(0))
            if found is not None:
                total += found[3][3]
            if paid and not bad:
                problem = None
                if len(paid) > 1 or (found is not None and found[3][4] not in (0, max(paid))):
                    problem = _("The lines of this order give different paid amounts.")
                elif max(paid) > total:
                    problem = _("More than the order's total %(total)s.") % {"total": total}
                if problem:
                    for ln in group:
                        if ln.paid:
                            ln.errors["paid"] = problem
                    bad = [ln for ln in group if ln.errors]
            if bad or number in state.failed:
                self._reject(number, group, bad, state, result)
                continue
            amount = max(paid) if paid else None
            result.created += len(group)
            if found is not None:
                appended.append((found[0], group, found[3], amount))
            elif dry_run and number in state.seen:
                continue
            else:
                new.append((number, group, amount))
        if dry_run:
            state.seen.update(number for number, _g, _a in new)
            return result
        now = timezone.now()
        self._write_new(job, new, state, now)
        for pk, group, totals, amount in appended:
            self._append(pk, group, totals, amount, state, now)
        if result.created:
            audit_record(
                actor=state.actor,
                action="sales.order.import",
                object_type="sales.order",
                object_label=f"{job.original_name} (#{job.pk})"[:200],
                row_count=result.created,
                changes={
                    "job": [None, job.pk],
                    "orders": [None, len(new)],
                    "appended_to": [None, len(appended)],
                    "lines": [None, result.created],
                    "rows": [None, [rows[0][0], rows[-1][0]]],
                },
            )
        return result

    def _reject(
        self, number: str, group: list[Line], bad: list[Line], state: State, result: Any
    ) -> None:
        state.failed.add(number)
        first = bad[0].row if bad else None
        for line in group:
            if line.errors:
                messages = [
                    f"{state.columns.get(name) or LABELS.get(name, name)}: {message}"
                    for name, message in line.errors.items()
                ]
            elif first is not None:
                messages = [
                    _("Not loaded: another line of order %(number)s was rejected (row %(row)d).")
                    % {"number": number, "row": first}
                ]
            else:
                messages = [
                    _("Not loaded: another line of order %(number)s was rejected earlier.")
                    % {"number": number}
                ]
            result.rejected.append((line.row, line.values, messages))

    # --- writing ---------------------------------------------------------------------------

    def _write_new(
        self, job: Any, new: list[tuple[str, list[Line], Any]], state: State, now: Any
    ) -> None:
        if not new:
            return
        writer = bulk.BulkWriter()
        layout = _layout(writer)
        when = writer.when
        stamp = when(now)
        ids = writer.reserve_ids(Order, len(new))
        orders, lines, payments = [], [], []
        for pk, (number, group, paid) in zip(ids, new, strict=True):
            head = group[0]
            totals = order_amounts(ln.amounts for ln in group)
            paid = paid or Decimal(0)
            status = payment_status(total=totals.total, paid=paid, refunded=Decimal(0))
            user = head.user
            notes = "\n".join(dict.fromkeys(ln.notes for ln in group if ln.notes))
            ordered_at = when(head.ordered_at)
            orders.append(
                (pk, stamp, stamp, user.pk, user.team_id, user.department_id, number,
                 head.customer, "" if head.customer else head.label, ordered_at, head.channel,
                 totals.subtotal, totals.discount_total, totals.tax_total, totals.total, paid,
                 status, head.delivery, notes[:5000], job.pk, *layout.constants)
            )  # fmt: skip
            for ln in group:
                a = ln.amounts
                lines.append((pk, ln.product_id, ln.description, ln.quantity, ln.unit_price,
                              a.discount, ln.tax_rate, a.net, a.tax, a.total))  # fmt: skip
            if paid:
                payments.append((pk, paid, ordered_at, head.method, "", state.actor.pk, stamp))
        writer.write(Order._meta.db_table, layout.order_columns, orders)
        writer.write(OrderLine._meta.db_table, layout.line_columns, lines)
        writer.write(Payment._meta.db_table, layout.payment_columns, payments)

    def _append(
        self, pk: int, group: list[Line], totals: list[Decimal], paid: Any, state: State, now: Any
    ) -> None:
        """Lines of an order this job created in an earlier batch; totals recomputed."""
        subtotal, discount, tax, total, paid_total, refunded = totals
        more = order_amounts(ln.amounts for ln in group)
        values: dict[str, Any] = {
            "subtotal": subtotal + more.subtotal,
            "discount_total": discount + more.discount_total,
            "tax_total": tax + more.tax_total,
            "total": total + more.total,
        }
        OrderLine.objects.bulk_create(
            OrderLine(
                order_id=pk, product_id=ln.product_id, description=ln.description,
                quantity=ln.quantity, unit_price=ln.unit_price, discount=ln.amounts.discount,
                tax_rate=ln.tax_rate, net=ln.amounts.net, tax=ln.amounts.tax,
                total=ln.amounts.total,
            )
            for ln in group
        )  # fmt: skip
        if paid and not paid_total:
            Payment.objects.create(
                order_id=pk,
                amount=paid,
                paid_at=group[0].ordered_at,
                method=group[0].method,
                recorded_by=state.actor,
                created_at=now,
            )
            paid_total = paid
        values["paid_total"] = paid_total
        values["payment_status"] = payment_status(
            total=values["total"], paid=paid_total, refunded=refunded
        )
        Order.all_objects.filter(pk=pk).update(version=F("version") + 1, updated_at=now, **values)


@dataclass
class _Layout:
    order_columns: list[str]
    constants: tuple[Any, ...]
    line_columns: list[str]
    payment_columns: list[str]


_layouts: dict[str, _Layout] = {}
ORDER_FIELDS = (
    "id", "created_at", "updated_at", "owner_id", "team_id", "department_id", "number",
    "customer_id", "consumer_label", "ordered_at", "channel", "subtotal", "discount_total",
    "tax_total", "total", "paid_total", "payment_status", "delivery_status", "notes",
    "import_job_id",
)  # fmt: skip
LINE_FIELDS = ("order_id", "product_id", "description", "quantity", "unit_price", "discount",
               "tax_rate", "net", "tax", "total")  # fmt: skip
PAYMENT_FIELDS = ("order_id", "amount", "paid_at", "method", "reference", "recorded_by_id",
                  "created_at")  # fmt: skip


def _layout(writer: bulk.BulkWriter) -> _Layout:
    """Columns of the raw rows; every other column of an order gets its model default
    (status confirmed, currency CNY, prices including tax, version 1, nothing refunded)."""
    if writer.vendor not in _layouts:
        columns, constants = writer.defaults(Order, ORDER_FIELDS)
        _layouts[writer.vendor] = _Layout(
            order_columns=writer.columns_of(Order, ORDER_FIELDS) + columns,
            constants=tuple(str(v) if isinstance(v, str) else v for v in constants),
            line_columns=writer.columns_of(OrderLine, LINE_FIELDS),
            payment_columns=writer.columns_of(Payment, PAYMENT_FIELDS),
        )
    return _layouts[writer.vendor]


def register() -> None:
    registry.register(OrderImporter())
