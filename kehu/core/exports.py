"""Safe cells for files people open in a spreadsheet (exports, import error reports).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, through some
import paths, a tab or carriage return) as a formula: "CSV injection". Excel and WPS in
Chinese input modes also accept the full-width forms ``＝＋－＠`` (and the small forms
``﹦﹢﹣﹫``). :func:`spreadsheet_safe` prefixes such a text with an apostrophe, the
spreadsheet convention for "this is text", so the value is shown, never run, and nothing
of it is lost.

XML (and so XLSX) cannot hold most C0 control characters. Rather than drop them, they are
replaced by their visible Unicode "control pictures" (``\\x07`` → ``␇``), in CSV as well,
so both formats carry the same text.

Every exporter of the project writes its cells through this one function.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

# Characters that make a spreadsheet treat the cell as a formula when they come first.
FORMULA_PREFIXES: frozenset[str] = frozenset(
    "=+-@\t\r"  # ASCII, plus tab and carriage return
    "\uff1d\uff0b\uff0d\uff20"  # full-width ＝＋－＠
    "\ufe66\ufe62\ufe63\ufe6b"  # small forms ﹦﹢﹣﹫
)
# Leading characters a spreadsheet may skip before it looks for a formula prefix.
_SKIPPED = " \n\u3000\u00a0"
# C0 controls XML 1.0 forbids (tab, line feed and carriage return are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
APOSTROPHE = "'"
_LOOK_CLOSER = FORMULA_PREFIXES | frozenset(_SKIPPED)


def _picture(match: re.Match[str]) -> str:
    return chr(0x2400 + ord(match.group()))


def spreadsheet_safe(value: Any) -> Any:
    """A cell value a spreadsheet shows as it is and never runs.

    Text that would start a formula (after any leading spaces or line breaks) gets an
    apostrophe in front; control characters become visible control pictures. ``None`` is
    an empty cell. Numbers, dates and times are returned unchanged (a spreadsheet stores
    them as values, never as formulas); anything else is turned into text first.
    """
    if type(value) is str:  # the hot path: most cells are plain text
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return str(value)
    elif isinstance(value, int | float | Decimal | date | datetime | time):
        return value
    else:
        text = str(value)
    if _CONTROL.search(text):
        text = _CONTROL.sub(_picture, text)
    if text[:1] in _LOOK_CLOSER:
        stripped = text.lstrip(_SKIPPED)
        if stripped and stripped[0] in FORMULA_PREFIXES:
            return APOSTROPHE + text
    return text


def safe_row(values: Any) -> list[Any]:
    """:func:`spreadsheet_safe` applied to every cell of a row."""
    return [spreadsheet_safe(value) for value in values]
