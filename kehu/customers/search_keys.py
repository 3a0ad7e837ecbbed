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
from pypinyin.constants import PHRASES_DICT, RE_HANS

_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_DIGIT = re.compile(r"\D")
_SPACES = re.compile(r"\s+")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


@lru_cache(maxsize=200_000)  # names repeat
def pinyin_full(text: str) -> str:
    """张三 → zhangsan (non-Chinese characters kept, lower-cased, no spaces)."""
    if not has_han(text):
        return ""
    return "".join(part[0] for part in _pinyin_parts(text)).lower().replace(" ", "")


@lru_cache(maxsize=200_000)
def pinyin_initials(text: str) -> str:
    """张三 → zs."""
    if not has_han(text):
        return ""
    return "".join(part[1] for part in _pinyin_parts(text)).lower()


# Fast and exact pypinyin. ``lazy_pinyin`` splits a text into runs of Chinese characters
# and runs of anything else (pypinyin's own RE_HANS), converts each run on its own and
# joins the results; so the same is done here with a cache per run. A non-Chinese run
# comes back as it is (errors="default") or not at all (errors="ignore"). A Chinese run
# that holds no word of pypinyin's phrase dictionary (no substring of two or more
# characters in PHRASES_DICT) is read character by character, whatever the segmenter
# does, so it is the concatenation of its characters' readings, cached per character:
# a new name costs a few dictionary look-ups instead of ~0.3 ms of pypinyin. Anything
# else goes to pypinyin. tests/customers/test_import_speed.py checks the equivalence on
# random text (names, phrases, rare characters, mixed scripts).
_PYPINYIN_HAN_CLASS = RE_HANS.pattern[len("^(?:") : -len(")+$")]
_PYPINYIN_SPLIT = re.compile(f"({_PYPINYIN_HAN_CLASS}+)")
_LONGEST_PHRASE = max(map(len, PHRASES_DICT), default=0)


def _pypinyin_pair(text: str) -> tuple[str, str]:
    """(the joined lazy_pinyin of ``text``, the joined first letters of its initials),
    exactly as pinyin_full and pinyin_initials compute them, before lower-casing."""
    full = "".join(lazy_pinyin(text, errors="default"))
    initials = "".join(p[:1] for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore"))
    return full, initials


@lru_cache(maxsize=20_000)
def _char_pair(char: str) -> tuple[str, str]:
    return _pypinyin_pair(char)


def _holds_phrase(run: str) -> bool:
    n = len(run)
    for start in range(n - 1):
        for end in range(start + 2, min(n, start + _LONGEST_PHRASE) + 1):
            if run[start:end] in PHRASES_DICT:
                return True
    return False


@lru_cache(maxsize=100_000)
def _han_run_pair(run: str) -> tuple[str, str]:
    if _holds_phrase(run):
        return _pypinyin_pair(run)
    pairs = [_char_pair(char) for char in run]
    return "".join(p[0] for p in pairs), "".join(p[1] for p in pairs)


def _pinyin_parts(text: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    for index, chunk in enumerate(_PYPINYIN_SPLIT.split(text)):
        if not chunk:
            continue
        parts.append(_han_run_pair(chunk) if index % 2 else (chunk, ""))
    return parts


def digits(text: str) -> str:
    return _NOT_DIGIT.sub("", text or "")


SEPARATOR = "\x1f"
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")


def _add_grams(grams: dict[str, None], run: str) -> None:
    for i, char in enumerate(run):
        grams.setdefault(char)
        if i + 1 < len(run):
            grams.setdefault(run[i : i + 2])


def han_grams(words: list[str]) -> list[str]:
    """Every single Han character and every pair of adjacent ones, and the same of the
    pinyin initials of a Chinese word when they are among the words (张三 → zs, 深圳华强
    → szhq: so "hq" finds it), each once, in order."""
    grams: dict[str, None] = {}
    han_words = [word for word in words if has_han(word)]
    for word in han_words:
        for run in _HAN_RUN.findall(word):
            _add_grams(grams, run)
    present = set(words)
    for word in han_words:
        initials = pinyin_initials(word)
        if initials in present:
            _add_grams(grams, initials)
    return list(grams)


def search_text(parts: Iterable[str]) -> str:
    """One lower-case line of every key, separated by a unit separator.

    Then, when there is Chinese text, each Han character and each adjacent pair once more
    as a word of its own, each between separators (``…\x1f张\x1f三\x1f张三\x1f``): a
    trigram index cannot serve a one- or two-character substring, but it can serve
    ``\x1f张\x1f`` (see ``short_pattern``), so "张" or "华强" are found through the
    index like any longer query. Pinyin initials get the same (``\x1fhq\x1f``).
    """
    words: list[str] = []
    for part in parts:
        part = _SPACES.sub(" ", (part or "").strip().lower())
        if part and part not in words:
            words.append(part)
    return with_han_grams(words)


def with_han_grams(words: list[str]) -> str:
    text = SEPARATOR.join(words)
    grams = han_grams(words)
    if grams:
        text += "".join(SEPARATOR + gram for gram in grams) + SEPARATOR
    return text


def short_pattern(query: str) -> str:
    """For a query of one or two characters: the substring of search_text that holds
    exactly when ``query`` occurs in a Chinese word or in the initials of one."""
    return SEPARATOR + query + SEPARATOR
