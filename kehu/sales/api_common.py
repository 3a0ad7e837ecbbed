"""What the sales API modules share: keyset pages and visible-customer lookups."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from kehu.core.errors import validation_fields
from kehu.core.models import RuleViolation
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_get

MAX_ID = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A cursor is "<key>_<id>" of the last row of the previous page: the key is the sort
# column (microseconds since 1970 for a time, YYYY-MM-DD for a day, "null", or text).
TIME_CURSOR = r"^([0-9]{1,20}_[0-9]{1,19})?$"
DAY_CURSOR = r"^(([0-9]{4}-[0-9]{2}-[0-9]{2}|null)_[0-9]{1,19})?$"


def visible_customer(request: HttpRequest, customer_id: int, field: str = "customer_id"):
    """The customer if the caller may see it; otherwise 404 naming ``field``."""
    try:
        return customer_get(actor=request.user, pk=customer_id)
    except (Customer.DoesNotExist, OverflowError):
        raise HttpError(404, field) from None


@contextmanager
def api_field_names(**names: str) -> Iterator[None]:
    """Name the fields in a service's errors as the API does (``owner`` → ``owner_id``)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict") or not set(names) & set(exc.error_dict):
            raise
        fields = {names.get(k, k): v for k, v in validation_fields(exc).items()}
        if isinstance(exc, RuleViolation):
            raise RuleViolation(fields, code=exc.code) from None
        raise ValidationError(fields) from None


def not_found() -> HttpError:
    return HttpError(404, "not found")


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": _("This cursor is not valid; start from the first page.")})


def _key(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        delta = value - EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse(key: str, kind: str) -> Any:
    try:
        if kind == "time":
            return EPOCH + timedelta(microseconds=int(key))
        if kind == "day":
            return date.fromisoformat(key)
    except (ValueError, OverflowError):
        raise _bad_cursor() from None
    return key


def keyset_page(
    queryset: QuerySet,
    *,
    cursor: str,
    limit: int,
    field: str,
    kind: str,
    descending: bool = False,
    id_descending: bool | None = None,
    nulls_last: bool = False,
    prepare: Callable[[QuerySet], QuerySet] | None = None,
) -> dict[str, Any]:
    """One page of ``queryset`` (already ordered by ``field`` then id) after ``cursor``.

    The next page starts strictly after the last row shown, so rows added meanwhile never
    shift it; deep pages cost as little as the first.
    """
    id_descending = descending if id_descending is None else id_descending
    if cursor:
        key, _sep, raw_pk = cursor.rpartition("_")
        if not key or not raw_pk.isdigit() or int(raw_pk) > MAX_ID:
            raise _bad_cursor()
        pk = int(raw_pk)
        id_after = Q(id__lt=pk) if id_descending else Q(id__gt=pk)
        if nulls_last and key == "null":
            queryset = queryset.filter(Q(**{f"{field}__isnull": True}) & id_after)
        else:
            value = _parse(key, kind)
            op = "lt" if descending else "gt"
            condition = Q(**{f"{field}__{op}": value}) | (Q(**{field: value}) & id_after)
            if nulls_last:
                condition |= Q(**{f"{field}__isnull": True})
            queryset = queryset.filter(condition)
    if prepare is not None:
        queryset = prepare(queryset)
    items = list(queryset[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    next_cursor = f"{_key(getattr(last, field))}_{last.pk}" if more and last is not None else None
    return {"items": items, "next_cursor": next_cursor}
