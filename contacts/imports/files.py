"""Reading uploaded CSV and XLSX files as rows of strings, streamed, with clear errors.

CSV comes as UTF-8 (with or without the BOM Excel writes) or GB18030 (what Excel on Chinese
Windows saves as "CSV"); the delimiter is found in the header line, quoting is always
RFC 4180. XLSX is read with
openpyxl in read-only mode, which streams the sheet instead of loading it. Anything else is a
DomainError with a message for the person who uploaded it, never a 500.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.utils.translation import gettext as _

from contacts.models import ImportFormat
from crm.errors import DomainError

SAMPLE_BYTES = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and .doc): not readable here


def format_of(name: str, head: bytes) -> str:
    """The format of an upload, from its name and its first bytes (the name alone can lie)."""
    lowered = name.lower()
    if not lowered.endswith((".csv", ".txt", ".xlsx")):
        raise DomainError(_("Upload a .csv or .xlsx file."), field="file")
    if head.startswith(_OLE_MAGIC):
        raise DomainError(
            _("Old Excel files (.xls) cannot be read. Save the sheet as .xlsx or CSV."),
            field="file",
        )
    if head.startswith(_ZIP_MAGIC):
        return ImportFormat.XLSX  # an Excel file renamed to .csv is still read as Excel
    if lowered.endswith(".xlsx"):
        raise DomainError(_("The file is not a valid Excel workbook (.xlsx)."), field="file")
    return ImportFormat.CSV


def encoding_of(head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030; binary data is refused."""
    if b"\x00" in head:
        raise DomainError(_("The file is not a text file. Upload CSV or XLSX."), field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                continue
            # A character cut by the end of the sample, not a wrong encoding.
            text = head[: exc.start].decode(encoding)
        if _looks_binary(text):
            break
        return encoding
    raise DomainError(_("The file is not a text file. Upload CSV or XLSX."), field="file")


def _looks_binary(text: str) -> bool:
    """Control characters other than tab and line ends mean the bytes are not text: GB18030
    decodes almost any byte sequence, so decoding alone does not tell."""
    controls = sum(
        1 for ch in text if ch not in "\t\r\n" and unicodedata.category(ch) in ("Cc", "Co", "Cn")
    )
    return controls > max(2, len(text) // 200)


_DELIMITERS = ",;\t|"


def delimiter_of(first_line: str) -> str:
    """The delimiter of a CSV file, from its header line: the candidate met most often outside
    quotes (a comma when none is). Excel's `sep=;` line says it outright.

    Only the delimiter is taken from the file; quoting is always the standard one (RFC 4180,
    what Excel, HubSpot and Salesforce write: fields in double quotes, a quote inside doubled).
    csv.Sniffer guesses quoting from the same line too, and a header without quotes made it turn
    doubled quotes off, so `"The ""Best"" Co"` came out as `The "Best"" Co"`."""
    if first_line.lower().startswith("sep=") and len(first_line.rstrip("\r\n")) == 5:
        return first_line[4]
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties: the earlier candidate
    return best if counts[best] else ","


def _csv_rows(handle: IO[bytes]) -> Iterator[list[str]]:
    head = handle.read(SAMPLE_BYTES)
    encoding = encoding_of(head)
    first_line = head.decode(encoding, errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
    delimiter = delimiter_of(first_line)
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    try:
        rows = csv.reader(text, dialect=csv.excel, delimiter=delimiter, strict=False)
        first = next(rows, None)
        if first is not None and delimiter.join(first).lower() != f"sep={delimiter}":
            yield first
        yield from rows
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DomainError(
            _("The file could not be read as CSV: %(error)s") % {"error": exc}, field="file"
        ) from exc
    finally:
        text.detach()  # the caller closes the file


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # phone numbers typed into Excel come back as 13912345678.0
    elif isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return str(value).strip()


def _open_workbook(handle: IO[bytes]) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign zip
        raise DomainError(
            _("The file is not a valid Excel workbook (.xlsx)."), field="file"
        ) from exc


def _xlsx_rows(handle: IO[bytes]) -> Iterator[list[str]]:
    book = _open_workbook(handle)
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise DomainError(
            _("The file is not a valid Excel workbook (.xlsx)."), field="file"
        ) from exc
    finally:
        book.close()


def iter_rows(handle: IO[bytes], file_format: str) -> Iterator[list[str]]:
    """Every row of the file, the header first, as lists of stripped strings."""
    if file_format == ImportFormat.XLSX:
        return _xlsx_rows(handle)
    return _csv_rows(handle)


def estimate_rows(handle: IO[bytes], file_format: str) -> int | None:
    """Data rows below the header, cheaply: line ends for CSV (quoted line breaks make it an
    over-estimate), the sheet's stated size for XLSX (None when the file does not say)."""
    handle.seek(0)
    if file_format == ImportFormat.XLSX:
        book = _open_workbook(handle)
        try:
            rows = book.worksheets[0].max_row
        finally:
            book.close()
        return max(0, rows - 1) if rows else None
    lines, last = 0, b""
    while block := handle.read(1024 * 1024):
        lines += block.count(b"\n")
        last = block
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(0, lines - 1)
