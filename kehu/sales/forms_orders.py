"""Forms of the order and catalogue pages. They shape input; the services check it.

Order lines are not a Django formset: the page posts rows named ``line-<i>-<field>`` (a
row may be added or removed in the browser, leaving gaps), blank rows are skipped, and the
service's errors ``lines.<n>.<field>`` are put back on the row they came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.core.access import scoped
from kehu.core.forms import StyledForm, search_field, with_any
from kehu.core.permissions import Perm
from kehu.sales.choices import (
    DeliveryStatus,
    OrderChannel,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from kehu.sales.models import Order, Product

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount", "tax_rate")
LINE_KEY = re.compile(r"^line-(\d{1,4})-(" + "|".join(LINE_FIELDS) + r")$")
MIN_ROWS = 5


def plain(value: Any) -> str:
    """A Decimal without trailing zeros (``2.500`` → ``2.5``, ``3.000`` → ``3``)."""
    if value is None or value == "":
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_text(rate: Any) -> str:
    """A stored tax rate (0.1300) as the percentage the pages show (``13``)."""
    return plain(Decimal(rate) * 100) if rate not in (None, "") else ""


def rate_from_percent(text: str) -> str:
    """The fraction the services keep, from a percentage typed on a page; text that is
    not a number goes through unchanged for the service to refuse."""
    text = (text or "").strip().rstrip("%").strip()
    if not text:
        return ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return format(value / 100, "f") if value.is_finite() else text


TAX_PERCENT_ERROR = _("Enter the tax rate in percent with at most two decimals, such as 13.")


def _datetime_field(label: Any, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _date_filter(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def colleagues(actor: Any, perm: str) -> Any:
    """Active people the actor may credit (or see) sales of."""
    return scoped(actor, perm, get_user_model()).filter(is_active=True).order_by("name", "pk")


# --- The orders list ------------------------------------------------------------------------


class OrderFilterForm(StyledForm):
    q = search_field(_("Order number, walk-in consumer or customer"))
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=with_any(OrderChannel.choices)
    )
    payment_status = forms.ChoiceField(
        label=_("Payment"), required=False, choices=with_any(PaymentStatus.choices)
    )
    delivery_status = forms.ChoiceField(
        label=_("Delivery"), required=False, choices=with_any(DeliveryStatus.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=with_any(OrderStatus.choices)
    )
    buyer = forms.ChoiceField(
        label=_("Bought by"),
        required=False,
        choices=[
            ("", _("Anyone")),
            ("customers", _("Customers only")),
            ("anonymous", _("Walk-in consumers only")),
        ],
    )
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    date_from = _date_filter(_("Ordered from"))
    date_to = _date_filter(_("Ordered until"))
    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = colleagues(actor, Perm.VIEW_SALES) if actor is not None else []
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            *((u.pk, u.get_full_name()) for u in people),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date lies before the start date."))
        return data

    def filters(self) -> Any:
        """The valid part of the input as OrderFilters (call after is_valid())."""
        from kehu.sales.selectors import OrderFilters

        data = getattr(self, "cleaned_data", {})
        buyer = data.get("buyer") or ""
        return OrderFilters(
            q=data.get("q") or "",
            customer_id=data.get("customer"),
            owner_id=data.get("owner"),
            channel=data.get("channel") or "",
            status=data.get("status") or "",
            payment_status=data.get("payment_status") or "",
            delivery_status=data.get("delivery_status") or "",
            anonymous={"anonymous": True, "customers": False}.get(buyer),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


# --- Order header -----------------------------------------------------------------------------


class OrderForm(StyledForm):
    """The header of an order (new or edited) and, for a new one, a payment received now."""

    customer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    consumer_label = forms.CharField(
        label=_("Walk-in consumer"),
        required=False,
        help_text=_("What is known of a walk-in buyer without a file, e.g. “table 5”."),
        widget=forms.TextInput(attrs={"maxlength": "100"}),
    )
    ordered_at = _datetime_field(_("Ordered at"))
    channel = forms.ChoiceField(
        label=_("Channel"), choices=OrderChannel.choices, initial=OrderChannel.STORE
    )
    prices_include_tax = forms.BooleanField(
        label=_("Prices include tax"), required=False, initial=True
    )
    delivery_status = forms.ChoiceField(
        label=_("Delivery"), choices=DeliveryStatus.choices, initial=DeliveryStatus.PENDING
    )
    owner = forms.TypedChoiceField(label=_("Credited to"), coerce=int, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": "5000"}),
    )
    payment_amount = forms.CharField(
        label=_("Amount received now"),
        required=False,
        help_text=_("Leave empty if nothing has been paid yet."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    payment_method = forms.ChoiceField(
        label=_("Paid by"), choices=PaymentMethod.choices, initial=PaymentMethod.WECHAT_PAY
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    ERROR_FIELDS = {"amount": "payment_amount", "method": "payment_method"}

    def __init__(self, *args: Any, actor: Any, order: Order | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.order = order
        people = list(colleagues(actor, Perm.CHANGE_SALES))
        if order is not None and order.owner_id and all(u.pk != order.owner_id for u in people):
            people.append(order.owner)
        self.fields["owner"].choices = [(u.pk, u.get_full_name()) for u in people]
        self.fields["owner"].initial = order.owner_id if order is not None else actor.pk
        self.show_owner = len(people) > 1
        if order is None:
            del self.fields["version"]
            return
        for name in ("customer", "prices_include_tax", "payment_amount", "payment_method"):
            del self.fields[name]
        self.fields["version"].required = True
        if not order.is_anonymous:
            del self.fields["consumer_label"]

    def field_for_error(self, name: str) -> str | None:
        return self.ERROR_FIELDS.get(name)

    def header_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            "ordered_at": data.get("ordered_at"),
            "channel": data["channel"],
            "delivery_status": data["delivery_status"],
            "notes": data.get("notes") or "",
        }
        if "consumer_label" in self.fields:
            fields["consumer_label"] = data.get("consumer_label") or ""
        return fields

    def chosen_owner(self) -> int | None:
        """The owner picked, when it is not the default (the actor, or the order's)."""
        owner = self.cleaned_data.get("owner")
        return owner if owner and owner != self.fields["owner"].initial else None


def order_initial(order: Order) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "consumer_label": order.consumer_label,
        "ordered_at": timezone.localtime(order.ordered_at),
        "channel": order.channel,
        "delivery_status": order.delivery_status,
        "owner": order.owner_id,
        "notes": order.notes,
        "version": order.version,
    }


# --- Order lines ------------------------------------------------------------------------------


@dataclass
class LineRow:
    index: int
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def is_blank(self) -> bool:
        return not any(
            self.value(name).strip()
            for name in ("product", "description", "unit_price", "discount")
        )

    def for_service(self) -> dict[str, Any]:
        raw = self.value("product").strip()
        line: dict[str, Any] = {
            "description": self.value("description"),
            "quantity": self.value("quantity").strip() or "1",
            "unit_price": self.value("unit_price").strip(),
            "discount": self.value("discount").strip() or "0",
            "tax_rate": rate_from_percent(self.value("tax_rate")),
        }
        if raw:
            # A select sends a product id; anything else can only name no product.
            line["product_id"] = int(raw) if raw.isdigit() and len(raw) < 12 else -1
        return line


class LineRows:
    """The rows of the line editor, as typed (or as stored), with their errors."""

    def __init__(self, rows: list[LineRow] | None = None) -> None:
        self.rows: list[LineRow] = rows or []
        self.errors: list[str] = []
        self._sent: list[LineRow] = []

    @classmethod
    def from_post(cls, data: Any) -> LineRows:
        found: dict[int, LineRow] = {}
        for key in data:
            match = LINE_KEY.match(key)
            if match:
                index = int(match.group(1))
                row = found.setdefault(index, LineRow(index))
                row.values[match.group(2)] = data.get(key, "")
        return cls([found[i] for i in sorted(found)])

    @classmethod
    def from_order(cls, order: Order) -> LineRows:
        rows = []
        for n, line in enumerate(order.lines.all()):
            rows.append(
                LineRow(
                    n,
                    {
                        "product": str(line.product_id or ""),
                        "description": line.description,
                        "quantity": plain(line.quantity),
                        "unit_price": plain(line.unit_price),
                        "discount": plain(line.discount) if line.discount else "",
                        "tax_rate": percent_text(line.tax_rate),
                    },
                )
            )
        return cls(rows)

    def next_index(self) -> int:
        return max((row.index for row in self.rows), default=-1) + 1

    def add_blank(self) -> None:
        self.rows.append(LineRow(self.next_index(), {"quantity": "1"}))

    def remove(self, index: Any) -> None:
        self.rows = [row for row in self.rows if str(row.index) != str(index)]

    def padded(self, minimum: int = MIN_ROWS) -> list[LineRow]:
        """The rows to show: the filled ones as typed, then blank rows up to ``minimum``."""
        self.rows = [row for row in self.rows if not row.is_blank or row.errors]
        while len(self.rows) < minimum:
            self.add_blank()
        return self.rows

    def for_service(self) -> list[dict[str, Any]]:
        self._sent = [row for row in self.rows if not row.is_blank]
        return [row.for_service() for row in self._sent]

    def product_ids(self) -> set[int]:
        return {int(r.value("product")) for r in self.rows if r.value("product").isdigit()}

    def take_errors(self, exc: ValidationError) -> ValidationError | None:
        """Put the service's ``lines…`` errors on the rows; return what is left (or None)."""
        if not hasattr(exc, "error_dict"):
            return exc
        rest: dict[str, list[str]] = {}
        for name, messages in exc.message_dict.items():
            parts = name.split(".")
            if parts[0] != "lines":
                rest[name] = messages
            elif len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(self._sent):
                row = self._sent[int(parts[1])]
                target = parts[2] if parts[2] in LINE_FIELDS else "product"
                if target == "tax_rate":
                    messages = [str(TAX_PERCENT_ERROR)]
                row.errors.setdefault(target, []).extend(messages)
            else:
                self.errors.extend(messages)
        return ValidationError(rest) if rest else None

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(row.errors for row in self.rows)


def product_options(actor: Any, rows: LineRows) -> list[Product]:
    """The active catalogue for the product selects, plus any product a row already uses."""
    from kehu.sales.selectors import product_list

    products = list(product_list(actor=actor, active_only=True)[:1000])
    wanted = rows.product_ids() - {p.pk for p in products}
    if wanted:
        products += list(product_list(actor=actor).filter(pk__in=wanted))
    for product in products:
        product.tax_percent = percent_text(product.tax_rate)  # type: ignore[attr-defined]
    return products


# --- Actions on an order ---------------------------------------------------------------------


class PaymentForm(StyledForm):
    amount = forms.CharField(
        label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    method = forms.ChoiceField(
        label=_("Paid by"), choices=PaymentMethod.choices, initial=PaymentMethod.WECHAT_PAY
    )
    paid_at = _datetime_field(_("Paid at"))
    reference = forms.CharField(
        label=_("Reference"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )


class RefundForm(StyledForm):
    amount = forms.CharField(
        label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.TextInput(attrs={"maxlength": "200"}))
    goods_returned = forms.BooleanField(label=_("Goods returned"), required=False)
    refunded_at = _datetime_field(_("Refunded at"))


class DeliveryForm(StyledForm):
    delivery_status = forms.ChoiceField(label=_("Delivery"), choices=DeliveryStatus.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CancelForm(StyledForm):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.TextInput(attrs={"maxlength": "200"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class LinkForm(forms.Form):
    customer = forms.IntegerField(min_value=1, error_messages={"required": _("Choose a customer.")})
    version = forms.IntegerField(min_value=1)
