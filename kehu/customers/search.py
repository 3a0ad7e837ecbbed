"""The customer search box: what a query matches, and how it stays fast at a million rows.

What matches (the same on SQLite and PostgreSQL):

* three characters or more: any substring of the customer's search keys (name, company,
  their pinyin and initials, phone digits, email, WeChat ID, city); a phone fragment typed
  with spaces or dashes (``138-1234``) also as bare digits;
* one or two characters: any substring of a Chinese word (``张``, ``华强``) or of its
  pinyin initials (``zs``, ``hq``), through the n-gram words ``search_keys.search_text``
  adds (so also the start of the initials, or of a Chinese name); and the start of the
  full pinyin or of a name in other scripts (``li`` → lina, ``Jo`` → John; the name as
  typed, case-sensitive), through B-tree range conditions;
* tags are words of search_text too (``services.search_key_values``), so a tag is found
  like a name: by any substring of three characters or more in any case, by one or two
  Chinese characters of it (``会员``), and tagged customers come from the same index.

How it stays fast: substrings go through a trigram index (pg_trgm GIN on PostgreSQL, an
FTS5 ``trigram`` table on SQLite, migration customers/0007). The list is ordered by
``-updated_at`` (or ``-id`` in the API) with LIMIT 50, and a planner left alone can walk
the ordering index row by row hoping to meet 50 matches — fast for a common term, a scan
of the whole table for a rare one; or it collects every match of a common term before
sorting. So the matching ids are first fetched from the index with a cap:

* at most ``CANDIDATE_CAP`` matches: the list filters on ``id IN (those ids)`` — sorting
  a few thousand rows is cheap;
* more: the term is common, and walking the ordering index meets 50 matches within a few
  thousand rows; the condition is then written so that no planner prefers the trigram
  index (``strpos``/``instr``).

Probing a common term is the expensive part: the index hands over every match and each
one is fetched to be rechecked (5,000 heap rows for "王" or "wl" before the cap says
"common"). So when the caller passes the actor's scope (``within``), the first
``SAMPLE_ROWS`` customers of that scope, newest first, are checked with the walk's
condition first — a bounded walk of one index, about a millisecond. Their share of
matches estimates how many customers match in all (over the highest id); a term expected
to match ``WALK_FROM`` or more goes straight to the walk, and so does any term in a scope
smaller than the sample (walking all of it is cheap). A term the sample leaves in doubt
is judged again on a sample five times larger (``_common_within``). Any other term needs
no probe: the list filters with a condition the database serves from the trigram index in
the same statement (``_indexed_condition``), written so that the planner reads the
index's matches and sorts them rather than walking an ordering index, whatever the sort.
Walking costs about 50 / share rows, reading the matches about one visit each, so the two
meet near sqrt(50 × customers) matches: ~7,000-9,000 at a million (measured: 5,300
matches read and sorted in 13 ms on PostgreSQL, walked in 54 ms; 18,000 read in 43 ms). A
term mistaken for a rarer one costs one visit per match; the sample of 500 makes a large
mistake unlikely. The probe with its cap remains for callers that pass no scope. The
choice changes the plan, never the result.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import connection, connections
from django.db.models import (
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan, Lookup

from kehu.customers import search_keys
from kehu.customers.models import Customer

log = logging.getLogger("kehu.customers")

FTS_TABLE = "customers_customer_fts"  # SQLite only (migration customers/0007)
_FTS_ROWIDS = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
CANDIDATE_CAP = 5000
SAMPLE_ROWS = 500  # 0: never sample (always probe first)
EXTEND_SAMPLE = 5  # a term in doubt after SAMPLE_ROWS is judged on this many times more
WALK_FROM = 8000
MAX_QUERY_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_PHONE_LIKE = re.compile(r"[\d\s\-()+.]+")

_fts_available: dict[tuple[str, str], bool] = {}


def clean_query(q: str) -> str:
    """The query as searched: control characters dropped, spaces collapsed, trimmed."""
    q = _CONTROL.sub(" ", q or "")
    return _SPACES.sub(" ", q).strip()[:MAX_QUERY_LENGTH]


def fts_available(alias: str = "default") -> bool:
    """Whether this SQLite database has the FTS5 trigram table (checked once per file)."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return False
    key = (alias, str(connection.settings_dict["NAME"]))
    if key not in _fts_available:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
            )
            found = cursor.fetchone() is not None
        if not found:
            log.warning("No FTS5 trigram table %s: customer search uses LIKE.", FTS_TABLE)
        _fts_available[key] = found
    return _fts_available[key]


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def substrings(q: str) -> list[str]:
    """The substrings of search_text that a query looks for, each one a trigram index
    can serve (three characters or more)."""
    lowered = q.lower()
    if len(lowered) < 3:
        return [search_keys.short_pattern(lowered)]
    found = [lowered]
    digits = search_keys.digits(lowered)
    if len(digits) >= 3 and digits != lowered and _PHONE_LIKE.fullmatch(lowered):
        found.append(digits)
    return found


def _prefix_range(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (case-sensitive), as a range a B-tree serves on
    any collation, with the exact LIKE as a recheck."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper, f"{field}__startswith": prefix})


def prefix_lookups(q: str) -> list[tuple[str, str]]:
    """(column, prefix) of the starts a short query matches beyond its n-gram word.

    The word (``short_pattern``) already holds every one- and two-character substring of a
    Chinese word and of its initials, so a query that starts the initials (``zs`` → 张三丰)
    or, all in Chinese, the name (``王`` → 王伟) is found by it; only the start of the full
    pinyin (``li`` → lina) and of a name in other scripts (``Jo`` → John) need a B-tree."""
    if all(search_keys.has_han(char) for char in q):
        return []
    return [("name_pinyin", q.lower()), ("name", q)]


def prefix_condition(q: str) -> Q:
    condition = Q()
    for column, prefix in prefix_lookups(q):
        condition |= _prefix_range(column, prefix)
    return condition


# The probes below are plain SQL: they run on every search, and the ORM's compile costs
# more than the index lookups themselves.


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _indexed_substring_ids(patterns: list[str], limit: int) -> set[int]:
    """Ids of customers (deleted ones included) whose search_text contains any pattern,
    at most ``limit`` per pattern, straight from the trigram index."""
    ids: set[int] = set()
    for pattern in patterns:
        if fts_available():
            sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s"  # noqa: S608
            params: list[Any] = [_fts_phrase(pattern), limit]
        else:  # PostgreSQL: the pg_trgm GIN index; SQLite without FTS5: a scan
            sql = "SELECT id FROM customers_customer WHERE search_text LIKE %s ESCAPE '\\' LIMIT %s"
            params = ["%" + _like_escape(pattern) + "%", limit]
        ids.update(row[0] for row in _rows(sql, params))
    return ids


def _prefix_ids(q: str, limit: int) -> set[int]:
    """Ids whose pinyin or name start with the short query (``prefix_lookups``), through
    B-trees."""
    ids: set[int] = set()
    for column, prefix in prefix_lookups(q):
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        for pk, value in _rows(
            f"SELECT id, {column} FROM customers_customer "  # noqa: S608
            f"WHERE {column} >= %s AND {column} < %s LIMIT %s",
            [prefix, upper, limit],
        ):
            if value.startswith(prefix):  # the range is a superset on some collations
                ids.add(pk)
    return ids


def ids_condition(ids: list[int]) -> Q:
    """``pk IN ids``. On PostgreSQL as ``id = ANY(%s)`` with the list as one array
    parameter: with thousands of ids, one placeholder per id cost ~30 ms in adapting,
    parsing and planning; the plan itself is the same."""
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F("pk"), ids))
    return Q(pk__in=ids)


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """``lhs = ANY(%s)`` with a list of ints as the one parameter (PostgreSQL)."""

    lookup_name = "kehu_any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        lhs, params = compiler.compile(self.lhs)
        # As the text of an array: psycopg's dumping of a list costs ~1.5 µs an element.
        literal = "{" + ",".join(str(int(pk)) for pk in self.rhs) + "}"
        return f"{lhs} = ANY(%s::bigint[])", [*params, literal]


def _table_size() -> int:
    """An upper estimate of the number of customers: the highest id (an index's end)."""
    rows = _rows("SELECT MAX(id) FROM customers_customer", [])
    return int(rows[0][0] or 0)


def _sample_hits(within: QuerySet[Customer], walk: Q, rows: int) -> tuple[int, int]:
    """(rows read, matches among them) of the first ``rows`` customers of the scope,
    newest first: one bounded walk of the scope's ordering index, counted in SQL."""
    sample = (
        within.order_by()
        .annotate(_search_hit=Case(When(walk, then=Value(1)), default=Value(0)))
        .order_by("-updated_at")[:rows]
    )
    counts = sample.aggregate(_rows=Count("pk"), _hits=Sum("_search_hit"))
    return counts["_rows"], counts["_hits"] or 0


def _common_within(within: QuerySet[Customer], walk: Q) -> bool:
    """Whether walking is the better plan, judged from the newest customers of the scope
    (see the module docstring). A first sample of ``SAMPLE_ROWS`` settles the clear cases;
    a term it leaves in doubt (between a quarter of ``WALK_FROM`` and three times it) is
    judged again on ``SAMPLE_ROWS × EXTEND_SAMPLE``: 500 rows hold 2 matches of a term
    with 5,000 at a million but 8 of one with 16,000, and either count comes up now and
    then for the other, sending a common term to read all its matches or a rare one to a
    long walk."""
    size = _table_size()
    rows = SAMPLE_ROWS
    for attempt in range(2):
        read, hits = _sample_hits(within, walk, rows)
        if read < rows:
            return True  # the whole scope is smaller than the sample: walk it
        expected = hits * size / read
        if attempt or not WALK_FROM / 4 < expected < 3 * WALK_FROM:
            break
        rows *= EXTEND_SAMPLE
    return expected >= WALK_FROM


def _walk_condition(q: str, patterns: list[str]) -> Q:
    """The match written so that it is checked row by row on the ordering index."""
    condition = Q()
    for pattern in patterns:
        condition |= Q(GreaterThan(StrIndex("search_text", Value(pattern)), 0))
    if len(q) < 3:
        condition |= prefix_condition(q)
    return condition


def _indexed_condition(q: str, patterns: list[str]) -> Q | None:
    """The match as one condition that the database serves from the trigram index (and
    the B-trees of the short queries' starts), whatever the ORDER BY after it; None
    where there is no such index (SQLite without FTS5).

    PostgreSQL: each ``search_text LIKE '%…%'`` is written twice. The planner estimates a
    LIKE from its statistics sample and believed some rare terms common ("le": 1% of the
    rows), then walked the ordering index row by row instead (75 ms, or seconds sorted by
    name). Two identical clauses count twice in its estimate, so it always reads the
    index's few thousand matches and sorts them (10-30 ms); the second check costs
    nothing. SQLite: ``id IN (SELECT rowid FROM the FTS5 table WHERE … MATCH …)``; its
    planner serves that and the B-tree ranges together (MULTI-INDEX OR)."""
    if connection.vendor == "postgresql":
        condition = Q()
        for pattern in patterns:
            condition |= Q(search_text__contains=pattern) & Q(search_text__contains=pattern)
    elif fts_available():
        phrases = " OR ".join(_fts_phrase(pattern) for pattern in patterns)
        matching = RawSQL(_FTS_ROWIDS, [phrases])  # noqa: S611 (a constant; the phrases are a parameter)
        condition = Q(pk__in=matching)
    else:
        return None
    if len(q) < 3:
        condition |= prefix_condition(q)
    return condition


def search_condition(
    q: str, *, within: QuerySet[Customer] | None = None, walkable: bool = True
) -> Q | None:
    """The condition a search query puts on customers (see the module docstring).

    ``within``: the customers the actor may see (their scope, before other filters);
    given, the scope's sample picks the plan and no probe is needed. ``walkable``: False
    when the list is sorted by something the matches cluster in (the name: every 张… sits
    together), where a walk meets the matches of a common term only after half the table
    (3.4 s for "王" sorted A→Z): the matches are then always read and sorted."""
    q = clean_query(q)
    if not q:
        return None
    patterns = substrings(q)
    walk = _walk_condition(q, patterns)
    if within is not None and SAMPLE_ROWS > 0:
        if walkable and _common_within(within, walk):
            return walk
        indexed = _indexed_condition(q, patterns)
        if indexed is not None:
            return indexed
    limit = CANDIDATE_CAP + 1
    ids = _indexed_substring_ids(patterns, limit)
    if len(q) < 3 and len(ids) <= CANDIDATE_CAP:
        ids |= _prefix_ids(q, limit)
    if len(ids) <= CANDIDATE_CAP:
        return ids_condition(sorted(ids))
    return walk  # a common term: check each row met on the ordering index
