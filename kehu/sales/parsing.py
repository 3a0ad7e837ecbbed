"""Lenient readers of the cells of an order file: dates (with an optional time), amounts of
money and quantities, as Chinese and English spreadsheets write them.

Each parser takes the cell's text and returns the value, ``None`` for an empty cell, or
raises :class:`ParseError` whose text is a translated message for the user (the caller
adds the column's name). Accepted:

- dates: ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``2024年3月5日`` (or 号),
  ``20240305``, an Excel serial day number (``45356``) that lost its format; optionally
  followed by a time ``14:30``, ``14:30:05(.123)``, ``14时30分``, ``下午2点``, ``2:30 PM``,
  and an ISO offset (``+08:00``, ``Z``). Day-first or month-first forms (``5/3/2024``) are
  refused: they are ambiguous.
- amounts: an optional ``¥`` / ``￥`` / ``RMB`` / ``CNY`` / ``人民币`` prefix, thousands
  separated by commas in groups of three, a decimal point, an optional ``元`` suffix;
  full-width digits and punctuation (``１，２８０．５０``) read as their ASCII forms. A
  spreadsheet's float artefact (``37.019999999999996``) is rounded to the cent; any other
  third decimal is refused rather than rounded.
- quantities: the same numbers (up to three decimals), with an optional unit after them
  (``3件``, ``2 pcs``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.translation import gettext as _

from kehu.sales.money import CENT, MAX_AMOUNT, cents


class ParseError(ValueError):
    """A cell that cannot be read; ``str(error)`` is the translated message."""


# Cells repeat (prices, dates of one day), so the parsers keep recent results; errors are
# not kept (their message is translated when raised, in the job's language).
CACHE = 65536


_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """Full-width letters, digits and punctuation (what a Chinese input method types) as
    their ASCII forms (Unicode NFKC), runs of spaces as one, trimmed."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


# --- Dates -------------------------------------------------------------------------------

_DATE = (
    r"(?:(?P<y1>\d{4})(?P<sep>[-/.])(?P<m1>\d{1,2})(?P=sep)(?P<d1>\d{1,2})"
    r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<y3>\d{4})(?P<m3>\d{2})(?P<d3>\d{2}))"
)
_TIME = (
    r"(?:(?P<half1>上午|下午|中午|晚上|凌晨)\s*)?"
    r"(?:(?P<h1>\d{1,2}):(?P<mi1>\d{2})(?::(?P<s1>\d{2})(?:\.(?P<f1>\d{1,6}))?)?"
    r"|(?P<h2>\d{1,2})\s*[时點点]\s*(?:(?P<mi2>\d{1,2})\s*分\s*(?:(?P<s2>\d{1,2})\s*秒)?)?)"
    r"(?:\s*(?P<half2>AM|PM|am|pm|a\.m\.|p\.m\.))?"
    r"(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2}))?"
)
_DATETIME = re.compile(rf"{_DATE}(?:(?:\s*T\s*|\s+|(?<=[日号]))\s*{_TIME})?")
_SERIAL = re.compile(r"(\d{5})(?:\.(\d+))?")
EXCEL_EPOCH = datetime(1899, 12, 30)
YEARS = (1900, 2100)


def _date_error() -> ParseError:
    return ParseError(_("Enter a date such as 2024-03-05 or 2024年3月5日 (a time may follow)."))


@lru_cache(maxsize=CACHE)
def parse_datetime(text: str | None) -> datetime | None:
    """A naive datetime (or an aware one when the text gives an offset), ``None`` when
    empty; ParseError when the text is not a date or the date does not exist."""
    text = normalise(text)
    if not text:
        return None
    serial = _SERIAL.fullmatch(text)
    if serial:  # an Excel day number
        moment = EXCEL_EPOCH + timedelta(days=float(text))
        return moment.replace(microsecond=0)
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise _date_error()
    g = match.groupdict()
    year = int(g["y1"] or g["y2"] or g["y3"])
    month = int(g["m1"] or g["m2"] or g["m3"])
    day = int(g["d1"] or g["d2"] or g["d3"])
    if not YEARS[0] <= year <= YEARS[1]:
        raise _date_error()
    try:
        moment = datetime.combine(date(year, month, day), _time_of(g))
    except ValueError:
        raise _date_error() from None
    if g["tz"]:
        moment = moment.replace(tzinfo=_offset(g["tz"]))
    return moment


def _time_of(g: dict[str, str | None]) -> time:
    hour_text = g["h1"] or g["h2"]
    if hour_text is None:
        return time(0, 0)
    hour = int(hour_text)
    minute = int(g["mi1"] or g["mi2"] or 0)
    second = int(g["s1"] or g["s2"] or 0)
    micro = int((g["f1"] or "0").ljust(6, "0"))
    half = (g["half1"] or "") + (g["half2"] or "").lower().replace(".", "")
    if half:
        if hour > 12:
            raise ValueError("hour")
        afternoon = half in {"下午", "晚上", "pm"} or (half == "中午" and hour < 11)
        if afternoon and hour < 12:
            hour += 12
        elif half in {"am", "凌晨", "上午"} and hour == 12:
            hour = 0
    return time(hour, minute, second, micro)


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise _date_error()
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


# --- Numbers -----------------------------------------------------------------------------

_CURRENCY = re.compile(r"^(?:¥|￥|RMB|CNY|人民币)\s*", re.IGNORECASE)
_YUAN = re.compile(r"\s*(?:元|圆|块)$")
_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<int>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<frac>\d*))?")
_PLAIN = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_UNIT = re.compile(r"\s*[^\W\d_]{1,6}\.?$")  # 件, 个, pcs, kg …
MAX_QUANTITY = Decimal(10) ** 11


def _number(text: str) -> tuple[Decimal, int] | None:
    """(the number, how many decimals it was written with) or None."""
    match = _NUMBER.fullmatch(text)
    if match is None or (match["int"] is None and not match["frac"]):
        return None
    digits = (match["int"] or "0").replace(",", "")
    fraction = match["frac"] or ""
    try:
        return Decimal(f"{match['sign']}{digits}.{fraction or '0'}"), len(fraction)
    except InvalidOperation:  # pragma: no cover - the pattern allows only digits
        return None


@lru_cache(maxsize=CACHE)
def parse_amount(text: str | None, *, allow_negative: bool = False) -> Decimal | None:
    """An amount of yuan to the cent, ``None`` when empty; ParseError otherwise."""
    if text and _PLAIN.fullmatch(text):
        return Decimal(text).quantize(CENT)
    text = normalise(text)
    if not text:
        return None
    sign = ""
    if text[:1] in "+-" and _CURRENCY.match(text[1:]):  # -¥100
        sign, text = text[0], text[1:]
    text = _YUAN.sub("", _CURRENCY.sub("", text))
    if text.endswith("%"):
        raise ParseError(_("Enter an amount of money, not a percentage."))
    number = _number(sign + text)
    if number is None:
        raise ParseError(_("Enter an amount such as ¥1,280.50."))
    value, places = number
    if places > 2:
        rounded = cents(value)
        # A float written out by a spreadsheet (12.34 * 3 = 37.019999999999996).
        if places >= 8 and abs(value - rounded) < Decimal("0.000001"):
            value = rounded
        else:
            raise ParseError(_("Amounts have at most two decimal places."))
    if value < 0 and not allow_negative:
        raise ParseError(_("Enter an amount that is not negative."))
    if abs(value) > MAX_AMOUNT:
        raise ParseError(_("This amount is too large."))
    return cents(value)


@lru_cache(maxsize=CACHE)
def parse_quantity(text: str | None) -> Decimal | None:
    """A quantity greater than zero with at most three decimals (a unit after the number
    is allowed and ignored), ``None`` when empty; ParseError otherwise."""
    if text and text.isdigit() and text.isascii() and len(text) < 10 and text[0] != "0":
        return Decimal(text)
    text = normalise(text)
    if not text:
        return None
    number = _number(_UNIT.sub("", text).replace(" ", ""))
    if number is None:
        raise ParseError(_("Enter a quantity such as 3 or 2.5."))
    value, places = number
    if value <= 0:
        raise ParseError(_("Enter a quantity greater than zero."))
    if places > 3 and value != value.quantize(Decimal("0.001")):
        raise ParseError(_("Enter a quantity with at most three decimals."))
    if value >= MAX_QUANTITY:
        raise ParseError(_("This quantity is too large."))
    return value


# --- Customer codes ----------------------------------------------------------------------

_CODE = re.compile(r"[A-Za-z]{0,6}[-_#]?0*(\d{1,18})")


def customer_id_from_code(text: str | None) -> int | None:
    """The customer id a code stands for: ``123``, ``000123``, ``C000123``, ``KH-123`` →
    123. ``None`` when the text is empty or not such a code (kehu customers have no code
    of their own: the code a file gives is taken as the customer's number in kehu)."""
    match = _CODE.fullmatch(normalise(text).replace(" ", ""))
    if match is None:
        return None
    number = int(match[1])
    return number if 0 < number < 2**63 else None
