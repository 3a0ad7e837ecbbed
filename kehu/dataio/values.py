"""Turning spreadsheet text into values: dates as Chinese and international spreadsheets
write them, lists of tags. Shared by every importer."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_DATE_PATTERNS = [
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?"),  # 2024-03-05, 2024/3/5
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})[日号]?(?:\s.*)?"),  # 2024年3月5日
    re.compile(r"(\d{4})(\d{2})(\d{2})"),  # 20240305
]
_DMY = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")  # 05.03.2024 (day first)
_LIST_SPLIT = re.compile(r"[,，;；、|/\n]+")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(text: str) -> date | None:
    """A date from text, or None when empty; ValueError when it is not a date."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    match = _DMY.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # an Excel serial number that lost its format
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(text) from None


def split_list(text: str) -> list[str]:
    """'VIP, 展会2026；老客户' → ['VIP', '展会2026', '老客户'] (order kept, repeats dropped)."""
    out: list[str] = []
    for part in _LIST_SPLIT.split(text or ""):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out
