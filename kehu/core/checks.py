"""System checks: every page and every API operation declares its permission.

A view that forgot to say who may open it fails start-up (``kehu serve``, ``kehu worker``
and ``kehu manage check`` run the checks first) and the test suite, rather than quietly
being open to all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from kehu.core.access import declared_permission

SKIPPED_NAMESPACES = {"admin", "api"}


def walk_patterns(
    patterns: Any = None, prefix: str = "", namespaces: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """Yield (route, namespaces, view callback) for every URL pattern."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from walk_patterns(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespaces, pattern.callback


def walk_api_operations() -> Iterator[tuple[str, str, Any]]:
    """Yield (method, path, view function) for every operation of the API."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    api = import_string(settings.KEHU_API)  # like ROOT_URLCONF: the kernel names no app
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, prefix + path, operation.view_func


def undeclared_views() -> list[str]:
    missing = []
    for route, namespaces, callback in walk_patterns():
        if SKIPPED_NAMESPACES & set(namespaces):
            continue
        if not declared_permission(callback):
            missing.append(route)
    for method, path, func in walk_api_operations():
        if not declared_permission(func):
            missing.append(f"API {method} {path}")
    return missing


@checks.register(checks.Tags.security)
def check_views_declare_permission(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"The view at {route!r} declares no permission.",
            hint="Decorate it with kehu.core.access.require(...).",
            id="kehu.E001",
        )
        for route in undeclared_views()
    ]


# PostgreSQL's own default (128 MB) holds a small part of a large customer table and its
# search index: a search that reads a few thousand customers then copies each page in from
# the OS (1M customers: hardest search kinds p95 ~65 ms at 128 MB, ~40 ms at 6 GB).
MIN_SHARED_BUFFERS = 1 << 30


def shared_buffers_bytes(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * current_setting('block_size')::bigint "
            "FROM pg_settings WHERE name = 'shared_buffers'"
        )
        return int(cursor.fetchone()[0])


@checks.register(checks.Tags.database, deploy=True)
def check_postgres_memory(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``kehu manage check --deploy --database default``: warn when PostgreSQL keeps its
    small default buffer cache."""
    from django.db import connections

    found: list[checks.CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        size = shared_buffers_bytes(connection)
        if size < MIN_SHARED_BUFFERS:
            found.append(
                checks.Warning(
                    f"PostgreSQL shared_buffers is {size >> 20} MB on database {alias!r}.",
                    hint="Give it about a quarter of the server's memory (at least 1 GB): "
                    "see 'PostgreSQL settings' in docs/deployment.md.",
                    id="kehu.W002",
                )
            )
    return found
