"""Start-up of a web server process (kehu/wsgi.py, kehu/asgi.py)."""

from __future__ import annotations

import gc

from django.urls import get_resolver


def settle() -> None:
    """Load what the first requests would load, then take the start-up heap out of the
    garbage collector's view.

    A process starts with ~280,000 objects that live as long as it does (Django, every
    app, pypinyin's phrase dictionary for the search keys). A full collection walks all
    of them: a ~70 ms pause in the middle of some request every few hundred requests.
    Frozen (``gc.freeze``), they are never walked again; new objects are collected as
    before. Measured on 240 customer searches at 1M customers (PostgreSQL): p95 43.6 →
    33.8 ms, the slowest 88 → 65 ms.
    """
    get_resolver().url_patterns  # noqa: B018 (imports every page and API module)
    gc.collect()
    gc.freeze()
