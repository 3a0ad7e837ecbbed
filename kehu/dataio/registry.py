"""The importers that the job runner knows, by kind ("customers", later "orders" …).

An app that can be imported into subclasses :class:`Importer` and registers an instance in
its ``AppConfig.ready()``; kehu.dataio never imports the apps (they import it).

The runner hands an importer one batch at a time (``process_batch``) inside the batch's
transaction; the importer validates the rows, checks duplicates with set lookups, writes
in bulk (unless ``dry_run``) and returns what happened to every row. Work on a batch that
needs no database can go into ``prepare_batch``, which the runner calls one batch ahead
in a helper thread, so that it runs while the database writes the batch before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class FieldSpec:
    """A field a column can be mapped to, with the headers that guess it."""

    name: str
    label: str | Promise
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    # (row number, the row as read, [messages]) for every rejected row.
    rejected: list[tuple[int, dict[str, str], list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class OptionSpec:
    name: str
    label: str | Promise
    choices: tuple[tuple[str, str | Promise], ...]
    default: str


class Importer:
    """Base class. Subclasses set the class attributes and implement ``process_batch``."""

    kind: str = ""
    label: str | Promise = ""
    permission: str = ""
    fields: tuple[FieldSpec, ...] = ()
    options: tuple[OptionSpec, ...] = ()
    batch_size: int = 1000
    # Where a finished job's "see the result" link goes (a URL name without arguments).
    result_url_name: str = ""

    def clean_options(self, raw: dict[str, Any]) -> dict[str, str]:
        """Known options with allowed values; defaults for the rest. ValueError if bad."""
        clean: dict[str, str] = {}
        for option in self.options:
            value = raw.get(option.name, option.default)
            if value not in {c for c, _label in option.choices}:
                raise ValueError(option.name)
            clean[option.name] = value
        return clean

    def start(self, job: Any, *, dry_run: bool) -> Any:
        """Prepare per-job state (caches); returned and passed to every batch."""
        return {}

    def prepare_batch(
        self,
        job: Any,
        rows: list[tuple[int, dict[str, str]]],
        *,
        state: Any,
        dry_run: bool,
    ) -> Any:
        """Work on a batch that needs no database (reading values, checking, computing).

        The runner calls it for the next batch in a helper thread while the current one is
        in the database, then passes what it returned to ``process_batch`` as ``rows``. It
        must not touch the database nor change ``state`` (the thread runs in the job's
        language and time zone). By default the rows are passed on as they are."""
        return rows

    def process_batch(
        self,
        job: Any,
        rows: Any,
        *,
        state: Any,
        dry_run: bool,
    ) -> BatchResult:
        """``rows``: what ``prepare_batch`` returned for ``[(row number, {field: text})]``."""
        raise NotImplementedError

    def finish(self, job: Any, *, state: Any, dry_run: bool) -> None:
        """Called once, in its own transaction, when every row is done (e.g. audit)."""


_IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _IMPORTERS[importer.kind] = importer
    return importer


def get(kind: str) -> Importer:
    """The importer for ``kind`` or KeyError."""
    return _IMPORTERS[kind]


def kinds() -> list[str]:
    return sorted(_IMPORTERS)


# --- Guessing the mapping ------------------------------------------------------------------

_NOISE = re.compile(r"[\s_\-()（）\[\]【】:：*#./]+")


def _norm(text: str) -> str:
    return _NOISE.sub("", str(text)).lower()


def guess_mapping(headers: list[str], fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    """{header: field name or ""}: exact alias matches first, then an alias contained in the
    header (longest alias wins); each field is used at most once. An alias may belong to
    several fields (电话: mobile, else phone): the first one still free is taken."""
    exact: dict[str, list[str]] = {}
    for spec in fields:
        for alias in (spec.name, *spec.aliases):
            names = exact.setdefault(_norm(alias), [])
            if spec.name not in names:
                names.append(spec.name)
    mapping = dict.fromkeys(headers, "")
    used: set[str] = set()

    def take(header: str, names: list[str]) -> bool:
        for name in names:
            if name not in used:
                mapping[header] = name
                used.add(name)
                return True
        return False

    for header in headers:
        take(header, exact.get(_norm(header), []))
    by_length = sorted(exact.items(), key=lambda kv: -len(kv[0]))
    for header in headers:
        if mapping[header]:
            continue
        key = _norm(header)
        for alias, names in by_length:
            if len(alias) >= 2 and alias in key and take(header, names):
                break
    return mapping
