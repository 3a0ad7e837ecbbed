"""Streaming readers: CSV (UTF-8 with or without BOM, GBK/GB18030), XLSX and vCard.

Every reader yields ``(row_number, {header: text})`` one row at a time, so memory does not
grow with the file; ``row_number`` is the line a spreadsheet user sees (the header is row 1
of a table; a vCard's number is its position in the file). Values are strings: XLSX dates
become ``YYYY-MM-DD`` and whole numbers lose their ``.0``.

Encoding detection reads only the first bytes (``SNIFF_BYTES``) and tries strict decodes:
UTF-8 (BOM or not), else GB18030 (a superset of GBK and GB2312, what Excel in China writes).
A byte sequence that none of them decodes is refused with a clear error, never guessed.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

SNIFF_BYTES = 256 * 1024
DELIMITERS = ",;\t"
MAX_COLUMNS = 200
MAX_CELL = 100_000  # characters kept of one cell; importers reject what is too long anyway
csv.field_size_limit(MAX_CELL * 10)

Row = tuple[int, dict[str, str]]


class FileProblem(ValueError):
    """The file cannot be read as the format it claims (a clear, translated message)."""


# --- Format and encoding -------------------------------------------------------------------


def format_for(name: str) -> str:
    """'csv', 'xlsx' or 'vcf' from a file name, or FileProblem."""
    suffix = Path(name or "").suffix.lower()
    formats = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".vcf": "vcf", ".vcard": "vcf"}
    if suffix not in formats:
        raise FileProblem(_("Only .csv, .xlsx and .vcf files can be imported."))
    return formats[suffix]


def detect_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: utf-8-sig, utf-8 or gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("The file is UTF-16; save it as CSV UTF-8 and try again."))
    for encoding in ("utf-8", "gb18030"):
        try:
            _decode_prefix(head, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(
        _("The file's text encoding is not UTF-8, GBK or GB18030; save it as CSV UTF-8.")
    )


def _decode_prefix(head: bytes, encoding: str) -> str:
    """Strict decode of a prefix: a multi-byte character cut at the end is not an error."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    return decoder.decode(head, final=False)


def check_content(path: Path, file_format: str) -> str:
    """Check that the bytes are what the name says; return the text encoding (or "")."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if file_format == "xlsx":
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise FileProblem(_("This is not an Excel .xlsx file."))
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise FileProblem(_("This is not an Excel .xlsx file."))
        return ""
    if b"\x00" in head:
        raise FileProblem(_("This is not a text file."))
    encoding = detect_encoding(head)
    if file_format == "vcf":
        text = _decode_prefix(head, encoding).lstrip("\ufeff").lstrip()
        if not text.upper().startswith("BEGIN:VCARD"):
            raise FileProblem(_("This is not a vCard file (it must start with BEGIN:VCARD)."))
    return encoding


# --- CSV -----------------------------------------------------------------------------------


def _open_text(path: Path, encoding: str) -> IO[str]:
    return open(path, encoding=encoding, errors="strict", newline="")


def sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _clean_headers(raw: list[str]) -> list[str]:
    """Headers trimmed, blanks named 'Column N', repeats numbered, so each is a unique key."""
    headers: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(raw[:MAX_COLUMNS], start=1):
        name = re.sub(r"\s+", " ", str(value or "")).strip().lstrip("\ufeff")[:100]
        name = name or _("Column %(n)d") % {"n": index}
        base, n = name, 2
        while name in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name)
        headers.append(name)
    return headers


def _cell(value: str) -> str:
    return value[:MAX_CELL] if len(value) > MAX_CELL else value


def _read_text(reader: Iterator[str]) -> Iterator[str]:
    """Re-raise a decoding error met deep in a file as a clear FileProblem."""
    try:
        yield from reader
    except UnicodeDecodeError as exc:
        raise FileProblem(
            _("The file mixes text encodings (bad bytes near position %(n)d).") % {"n": exc.start}
        ) from None


def csv_rows(path: Path, encoding: str) -> Iterator[Row]:
    with _open_text(path, encoding) as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        reader = csv.reader(_read_text(handle), delimiter=sniff_delimiter(sample))
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise FileProblem(_("The CSV file is malformed: %(e)s") % {"e": exc}) from None
        if not header:
            return
        headers = _clean_headers(header)
        width = len(headers)
        line = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileProblem(
                    _("The CSV file is malformed near row %(row)d: %(e)s")
                    % {"row": line + 1, "e": exc}
                ) from None
            line += 1
            if not any(v.strip() for v in values):
                continue
            yield line, {headers[i]: _cell(values[i]) for i in range(min(width, len(values)))}


def csv_headers(path: Path, encoding: str) -> list[str]:
    with _open_text(path, encoding) as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        reader = csv.reader(_read_text(handle), delimiter=sniff_delimiter(sample))
        try:
            return _clean_headers(next(reader, []))
        except csv.Error as exc:
            raise FileProblem(_("The CSV file is malformed: %(e)s") % {"e": exc}) from None


def csv_count(path: Path, encoding: str) -> int:
    """Data rows (non-blank records after the header), read as a stream."""
    return sum(1 for _row in csv_rows(path, encoding))


# --- XLSX ----------------------------------------------------------------------------------


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return _cell(str(value))


def _open_sheet(path: Path) -> Any:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise FileProblem(_("The Excel file cannot be read; save it again as .xlsx.")) from None
    if not book.worksheets:
        book.close()
        raise FileProblem(_("The Excel file has no sheet."))
    return book, book.worksheets[0]


def xlsx_rows(path: Path) -> Iterator[Row]:
    book, sheet = _open_sheet(path)
    try:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            return
        headers = _clean_headers([_xlsx_text(v) for v in header])
        width = len(headers)
        for line, values in enumerate(rows, start=2):
            texts = [_xlsx_text(v) for v in values[:width]]
            if not any(t.strip() for t in texts):
                continue
            yield line, dict(zip(headers, texts, strict=False))
    finally:
        book.close()


def xlsx_headers(path: Path) -> list[str]:
    book, sheet = _open_sheet(path)
    try:
        header = next(sheet.iter_rows(values_only=True, max_row=1), None) or ()
        return _clean_headers([_xlsx_text(v) for v in header])
    finally:
        book.close()


def xlsx_count(path: Path) -> int:
    return sum(1 for _row in xlsx_rows(path))


# --- vCard ---------------------------------------------------------------------------------

VCARD_HEADERS = [
    "name",
    "mobile",
    "phone",
    "email",
    "company",
    "title",
    "province",
    "city",
    "district",
    "street",
    "address_text",
    "birthday",
    "notes",
]


@dataclass
class _Prop:
    name: str
    params: dict[str, list[str]]
    value: str


def _unfold(lines: Iterator[str]) -> Iterator[str]:
    """Join folded lines (RFC 6350: CRLF + space/tab) and QUOTED-PRINTABLE soft breaks."""
    current: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if current is not None and line[:1] in (" ", "\t"):
            current += line[1:]
            continue
        if current is not None and _is_qp(current) and current.endswith("="):
            current = current[:-1] + line  # a QP soft line break (vCard 2.1/Android)
            continue
        if current is not None:
            yield current
        current = line
    if current is not None:
        yield current


def _is_qp(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, buf, escaped = [], [], False
    for ch in text:
        if escaped:
            buf.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _unescape(text: str) -> str:
    return re.sub(
        r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text, flags=re.S
    ).strip()


def _parse_line(line: str) -> _Prop | None:
    # The name/params part ends at the first ':' outside double quotes.
    in_quotes = False
    for index, ch in enumerate(line):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ":" and not in_quotes:
            head, value = line[:index], line[index + 1 :]
            break
    else:
        return None
    pieces = head.split(";")
    name = pieces[0].split(".")[-1].upper()  # "item1.TEL" → TEL
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        if "=" in piece:
            key, val = piece.split("=", 1)
            params.setdefault(key.upper(), []).extend(v.strip('"').upper() for v in val.split(","))
        else:  # vCard 2.1 bare types: TEL;CELL;PREF
            params.setdefault("TYPE", []).append(piece.upper())
    if "QUOTED-PRINTABLE" in params.get("ENCODING", []) or "QUOTED-PRINTABLE" in params.get(
        "TYPE", []
    ):
        import quopri

        charset = (params.get("CHARSET") or ["UTF-8"])[0]
        try:
            value = quopri.decodestring(value.encode("ascii", "replace")).decode(
                charset, errors="replace"
            )
        except LookupError:
            value = quopri.decodestring(value.encode("ascii", "replace")).decode(
                "utf-8", errors="replace"
            )
    return _Prop(name, params, value)


def _types(prop: _Prop) -> set[str]:
    return {t.lower() for t in prop.params.get("TYPE", [])}


def _bday(value: str) -> str:
    value = value.strip()
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", value)
    if match:
        return "-".join(match.groups())
    return value  # e.g. --0315 (no year): the importer decides what to do


def _card_to_row(props: list[_Prop]) -> dict[str, str]:
    row = dict.fromkeys(VCARD_HEADERS, "")
    notes: list[str] = []
    mobiles: list[str] = []
    phones: list[str] = []
    emails: list[str] = []
    for prop in props:
        value = prop.value
        if prop.name == "FN":
            row["name"] = _unescape(value)
        elif prop.name == "N" and not row["name"]:
            parts = [_unescape(p) for p in _split_unescaped(value, ";")]
            family, given = ([*parts, "", ""])[:2]
            han = re.search(r"[\u3400-\u9fff]", family + given)
            row["name"] = (family + given) if han else " ".join(p for p in (given, family) if p)
        elif prop.name == "TEL":
            number = _unescape(value)
            if number.lower().startswith("tel:"):
                number = number[4:]
            types = _types(prop)
            if "cell" in types or "mobile" in types or "iphone" in types:
                mobiles.append(number)
            else:
                phones.append(number)
        elif prop.name == "EMAIL":
            emails.append(_unescape(value))
        elif prop.name == "ORG":
            row["company"] = " ".join(p for p in map(_unescape, _split_unescaped(value, ";")) if p)
        elif prop.name == "TITLE":
            row["title"] = _unescape(value)
        elif prop.name == "ADR" and not row["street"] and not row["city"]:
            parts = [_unescape(p) for p in _split_unescaped(value, ";")]
            _pobox, extended, street, locality, region, postcode, country = (parts + [""] * 7)[:7]
            row["street"] = " ".join(p for p in (street, extended) if p)
            row["city"] = locality
            row["province"] = region
            if country and country.lower() not in {"中国", "china", "cn", "中华人民共和国"}:
                row["address_text"] = ", ".join(
                    p for p in (street, extended, locality, region, postcode, country) if p
                )
        elif prop.name == "BDAY":
            row["birthday"] = _bday(value)
        elif prop.name == "NOTE":
            notes.append(_unescape(value))
    if not mobiles and phones and re.sub(r"\D", "", phones[0]).lstrip("86")[:1] == "1":
        mobiles.append(phones.pop(0))
    row["mobile"] = mobiles[0] if mobiles else ""
    row["phone"] = phones[0] if phones else (mobiles[1] if len(mobiles) > 1 else "")
    row["email"] = emails[0] if emails else ""
    extra = mobiles[2:] if not phones else mobiles[1:]
    extra += phones[1:] + emails[1:]
    if extra:
        notes.append(_("Also: %(values)s") % {"values": ", ".join(extra)})
    row["notes"] = "\n".join(n for n in notes if n)
    return {k: _cell(v) for k, v in row.items()}


def vcf_rows(path: Path, encoding: str) -> Iterator[Row]:
    with _open_text(path, encoding) as handle:
        card: list[_Prop] | None = None
        number = 0
        for line in _unfold(_read_text(handle)):
            stripped = line.strip().lstrip("\ufeff")
            upper = stripped.upper()
            if upper == "BEGIN:VCARD":
                card = []
            elif upper == "END:VCARD":
                if card is not None:
                    number += 1
                    yield number, _card_to_row(card)
                card = None
            elif card is not None and stripped:
                prop = _parse_line(stripped)
                if prop is not None:
                    card.append(prop)


def vcf_count(path: Path, encoding: str) -> int:
    count = 0
    with _open_text(path, encoding) as handle:
        for line in _read_text(handle):
            if line.strip().lstrip("\ufeff").upper() == "END:VCARD":
                count += 1
    return count


# --- One face for the runner ---------------------------------------------------------------


def headers(path: Path, file_format: str, encoding: str) -> list[str]:
    if file_format == "xlsx":
        return xlsx_headers(path)
    if file_format == "vcf":
        return list(VCARD_HEADERS)
    return csv_headers(path, encoding)


def rows(path: Path, file_format: str, encoding: str, *, start_after: int = 0) -> Iterator[Row]:
    """Data rows (blank ones left out) after the first ``start_after`` (the resume point)."""
    if file_format == "xlsx":
        stream = xlsx_rows(path)
    elif file_format == "vcf":
        stream = vcf_rows(path, encoding)
    else:
        stream = csv_rows(path, encoding)
    return itertools.islice(stream, start_after, None)


def count(path: Path, file_format: str, encoding: str) -> int:
    if file_format == "xlsx":
        return xlsx_count(path)
    if file_format == "vcf":
        return vcf_count(path, encoding)
    return csv_count(path, encoding)


def preview(path: Path, file_format: str, encoding: str, limit: int = 5) -> list[dict[str, str]]:
    out = []
    for _number, row in rows(path, file_format, encoding):
        out.append(row)
        if len(out) >= limit:
            break
    return out


def text_stream(data: bytes) -> io.StringIO:  # used by tests
    return io.StringIO(data.decode(detect_encoding(data[:SNIFF_BYTES])))
