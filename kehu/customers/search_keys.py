"""Search keys computed on write: pinyin, initials, phone digits, lower-cased text.

Chinese users find 张三 by "zhangsan" or "zs", and 李娜 by "lina"; a phone by any run of
its digits. Everything goes into one lower-case ``search_text`` that a trigram index
(pg_trgm on PostgreSQL) serves for substring search.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_DIGIT = re.compile(r"\D")
_SPACES = re.compile(r"\s+")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


@lru_cache(maxsize=200_000)  # names repeat; pypinyin costs ~0.5 ms a call
def pinyin_full(text: str) -> str:
    """张三 → zhangsan (non-Chinese characters kept, lower-cased, no spaces)."""
    if not has_han(text):
        return ""
    return "".join(lazy_pinyin(text, errors="default")).lower().replace(" ", "")


@lru_cache(maxsize=200_000)
def pinyin_initials(text: str) -> str:
    """张三 → zs."""
    if not has_han(text):
        return ""
    return "".join(
        p[:1] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")
    ).lower()


def digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text or "")


def search_text(parts: Iterable[str]) -> str:
    """One lower-case line of every key, separated by a unit separator."""
    words = []
    for part in parts:
        part = _SPACES.sub(" ", (part or "").strip().lower())
        if part and part not in words:
            words.append(part)
    return "\x1f".join(words)
