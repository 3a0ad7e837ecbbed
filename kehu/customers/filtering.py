"""The customer list's filters as URL parameters: which exist, how they read, how they sort.

One vocabulary for the list page, saved filters, exports and the ``kehu export`` command,
so a filter saved on the page means the same everywhere. Pages validate through their
form (per-field errors); the CLI and the saved-filter service through
:func:`parse_filters`, with the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db.models import CharField, F, OrderBy, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.customers.choices import Source, Stage, Tier

# Every parameter the list understands, in the order a saved query keeps them.
FILTER_PARAMS: tuple[str, ...] = (
    "q",
    "owner",
    "team",
    "stage",
    "tier",
    "source",
    "tag",
    "province",
    "city",
    "district",
    "created_from",
    "created_to",
    "contact_from",
    "contact_to",
    "stale",
    "sort",
)

# Sorts offered on the list page: value → (label, ORDER BY). The default comes first.
DEFAULT_SORT = "-updated"
SORTS: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "-updated": (gettext_lazy("Recently updated first"), ("-updated_at", "-id")),
    "updated": (gettext_lazy("Least recently updated first"), ("updated_at", "id")),
    "-created": (gettext_lazy("Newest first"), ("-created_at", "-id")),
    "created": (gettext_lazy("Oldest first"), ("created_at", "id")),
    "name": (gettext_lazy("Name A→Z"), ("name", "id")),
    "-name": (gettext_lazy("Name Z→A"), ("-name", "-id")),
    "-last_contact": (
        gettext_lazy("Recently contacted first"),
        (F("last_contact_at").desc(nulls_last=True), "-id"),
    ),
    "last_contact": (
        gettext_lazy("Longest without contact first"),
        (F("last_contact_at").asc(nulls_first=True), "id"),
    ),
}
SORT_CHOICES: list[tuple[str, Any]] = [(value, label) for value, (label, _o) in SORTS.items()]

# Longest text each text parameter accepts (as the model fields store them).
TEXT_LIMITS: dict[str, int] = {
    "q": 100,
    "tag": 50,
    "province": 50,
    "city": 50,
    "district": 50,
}
DATE_PARAMS = ("created_from", "created_to", "contact_from", "contact_to")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE = {"1", "on", "true", "yes"}


# Sorts whose order the matches of a search cluster in (every 张… sits together by name):
# walking their index for a common term meets its matches only after half the table, so
# a search sorted this way reads its matches and sorts them (kehu.customers.search,
# ``walkable``).
CLUSTERED_SORTS = frozenset({"name", "-name"})


def name_order(*, descending: bool) -> OrderBy:
    """The name order as an expression no index provides, for a search: ordered by the bare
    column, PostgreSQL still walked the name index for a common term ("王" sorted A→Z:
    2 s) instead of sorting its matches. Same order: the column with "" appended keeps its
    collation."""
    expression = Concat(F("name"), Value(""), output_field=CharField())
    return expression.desc() if descending else expression.asc()


def order_for(sort: str, *, searching: bool = False) -> tuple[Any, ...]:
    """ORDER BY for a sort value; anything unknown sorts by the default. ``searching``:
    the list is narrowed by a search (see ``name_order``)."""
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])[1]
    if searching and sort in CLUSTERED_SORTS:
        return (name_order(descending=sort == "-name"), order[1])
    return order


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the current time zone."""
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def day_after(day: date) -> datetime:
    """The first moment after ``day`` in the current time zone (an exclusive bound)."""
    return day_start(day + timedelta(days=1))


def _date(name: str, value: str, errors: dict[str, list[str]]) -> date | None:
    if _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.setdefault(name, []).append(_("Enter a date in the form YYYY-MM-DD."))
    return None


def parse_filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate list parameters (a dict or QueryDict of strings) into keyword arguments of
    ``CustomerFilters``. Empty values are ignored; unknown parameters are refused.

    Raises ValidationError naming each bad parameter.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in params:
        if name not in FILTER_PARAMS:
            errors.setdefault(name, []).append(_("Unknown filter."))
    for name in FILTER_PARAMS:
        raw = params.get(name)
        if raw is None:
            continue
        text = str(raw).strip()
        if not text:
            continue
        if name in TEXT_LIMITS:
            if len(text) > TEXT_LIMITS[name]:
                errors.setdefault(name, []).append(
                    _("At most %(n)d characters.") % {"n": TEXT_LIMITS[name]}
                )
            else:
                values[name] = text
        elif name in ("owner", "team"):
            if text.isdigit() and 0 < int(text) < 2**63:
                values[f"{name}_id"] = int(text)
            else:
                errors.setdefault(name, []).append(_("Enter a record id (a positive number)."))
        elif name in ("stage", "tier", "source"):
            allowed = {"stage": Stage, "tier": Tier, "source": Source}[name].values
            if text in allowed and text:
                values[name] = text
            else:
                errors.setdefault(name, []).append(
                    _("Choose one of: %(choices)s.")
                    % {"choices": ", ".join(v for v in allowed if v)}
                )
        elif name in DATE_PARAMS:
            day = _date(name, text, errors)
            if day is not None:
                values[name] = day
        elif name == "stale":
            values["stale_only"] = text.lower() in _TRUE
        elif name == "sort":
            if text in SORTS:
                values["sort"] = text
            else:
                errors.setdefault(name, []).append(
                    _("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}
                )
    for start, end in (("created_from", "created_to"), ("contact_from", "contact_to")):
        if values.get(start) and values.get(end) and values[start] > values[end]:
            errors.setdefault(end, []).append(_("The end date lies before the start date."))
    if errors:
        raise ValidationError(errors)
    return values


def clean_query(query: str) -> str:
    """A list query string with only the known filter parameters, validated, in a fixed
    order, without empty values or the page number. Raises ValidationError on a bad value
    of a known parameter."""
    pairs: dict[str, str] = {}
    for name, value in parse_qsl(query or "", keep_blank_values=False):
        if name in FILTER_PARAMS and value.strip():
            pairs[name] = value.strip()
    if pairs.get("sort") == DEFAULT_SORT:
        del pairs["sort"]  # the default needs no saving
    parse_filters(pairs)
    return urlencode([(name, pairs[name]) for name in FILTER_PARAMS if name in pairs])


# --- Keyset pages (the API) ----------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """What a sort orders by before its id tie-breaker, so that a page can start strictly
    after the last row of the previous one (keyset pages: no OFFSET, rows added meanwhile
    shift nothing)."""

    field: str
    descending: bool
    # Where empty values go in a column that may be NULL: "first" or "last"; "" for a
    # column that is never NULL.
    nulls: str = ""

    def order_by(self) -> tuple[Any, ...]:
        """The ORDER BY this key pages through: the list page's (SORTS; a test compares
        them), which customer_list applies."""
        sign = "-" if self.descending else ""
        if not self.nulls:
            return (f"{sign}{self.field}", f"{sign}id")
        where: dict[str, bool] = {f"nulls_{self.nulls}": True}
        column = F(self.field)
        return (column.desc(**where) if self.descending else column.asc(**where), f"{sign}id")

    def after(self, value: Any, pk: int) -> Q:
        """The rows that come after the row with this sort value and id."""
        field = self.field
        beyond = "lt" if self.descending else "gt"
        later_id = Q(**{f"id__{beyond}": pk})
        if value is None:  # only in a column that may be NULL
            rows = Q(**{f"{field}__isnull": True}) & later_id
            if self.nulls == "first":
                rows |= Q(**{f"{field}__isnull": False})
            return rows
        # The inclusive bound, redundant as logic, lets the database start its index walk
        # at the cursor instead of reading and discarding every earlier row.
        rows = Q(**{f"{field}__{beyond}e": value}) & (
            Q(**{f"{field}__{beyond}": value}) | (Q(**{field: value}) & later_id)
        )
        if self.nulls == "last":
            rows |= Q(**{f"{field}__isnull": True})
        return rows


SORT_KEYS: dict[str, SortKey] = {
    "-updated": SortKey("updated_at", descending=True),
    "updated": SortKey("updated_at", descending=False),
    "-created": SortKey("created_at", descending=True),
    "created": SortKey("created_at", descending=False),
    "name": SortKey("name", descending=False),
    "-name": SortKey("name", descending=True),
    # Never contacted: last when the recent come first, first when the longest idle do.
    "-last_contact": SortKey("last_contact_at", descending=True, nulls="last"),
    "last_contact": SortKey("last_contact_at", descending=False, nulls="first"),
}
