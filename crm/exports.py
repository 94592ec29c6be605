"""Streaming exports of any list spec: CSV and XLSX, flat memory at any size.

The export applies the list's own FilterSet to the list's own selector (so the page and its
export agree) and refuses invalid filters with 400 and their errors, never "everything".

Spreadsheet safety, by format:
- XLSX: every text cell is written as a typed string cell, so no value is ever a formula and
  none needs an apostrophe (what a user typed is what they get back). Use XLSX for spreadsheets.
- CSV has no types: a spreadsheet evaluates any cell that starts with `= + - @`, a tab or a
  carriage return, so every such text cell gets a leading apostrophe (ONE rule, applied to every
  text cell: `-2+3` and `+86 138 1234 5678` included). CSV is for other programs.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from crm.lists import ListSpec, filtered

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from crm.http import AuthedHttpRequest

CHUNK = 2000
# What makes a spreadsheet evaluate a CSV cell (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def chunks(qs: QuerySet[Any], size: int | None = None) -> Iterator[list[Any]]:
    """The rows of `qs` in chunks by id: an index walk, no OFFSET, one chunk in memory."""
    last = 0
    base = qs.order_by("pk").prefetch_related(None)
    while True:
        chunk = list(base.filter(pk__gt=last)[: size or CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def local_time(value: Any) -> Any:
    """A stored datetime as the user reads it: in the current time zone, without the zone (a
    spreadsheet cell takes a naive datetime); None stays empty."""
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not evaluate: text starting with a formula character gets
    a leading apostrophe. Numbers and dates stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterator[list[Any]]) -> Iterator[str]:
    """UTF-8 CSV with a byte-order mark, so Excel opens Chinese text correctly."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def as_requested(stream: Iterator[str]) -> Iterator[str]:
    """`stream` written in the request's language and time zone. A streamed body is read after
    the view returned, when accounts' middleware has put back the default time zone (UTC): a
    CSV's dates would differ from the same export's XLSX (built inside the view)."""
    language, zone = translation.get_language(), timezone.get_current_timezone()

    def write() -> Iterator[str]:
        with translation.override(language), timezone.override(zone):
            yield from stream

    return write()


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value:
        return None  # an empty cell, not an empty string
    # XML cannot carry most control characters; openpyxl would refuse the whole file.
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # typed text: never a formula, whatever it starts with
    return cell


def xlsx_file(header: list[str], rows: Iterator[list[Any]], title: str) -> IO[bytes]:
    """An XLSX in a temporary file (in memory while small); rows are streamed into it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([_xlsx_cell(sheet, v) for v in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return handle


def export_response(request: AuthedHttpRequest, spec: ListSpec[Any]) -> HttpResponseBase:
    """The spec's list as the user filtered it, CSV (streamed) or XLSX (`?format=xlsx`).
    Invalid filters: 400 with the field errors and no rows. The spec's `allowed(user)` is
    checked here (PermissionDenied with its `denied_message`), so an export view that forgot
    it still cannot leak rows; crm/ knows no roles, the app's callable decides."""
    export = spec.export
    if export is None:
        raise ValueError(f"list {spec.name} has no export")
    if not export.allowed(request.user):
        raise PermissionDenied(export.denied_message())
    filterset = filtered(spec, request)
    if not filterset.is_valid():
        lines = [_("These filters are not valid; nothing was exported.")]
        for name, errors in filterset.form.errors.items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else name
            lines.append(f"{label or name}: {' '.join(str(e) for e in errors)}")
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
    header, rows = export.columns(), export.rows(filterset.qs)
    stamp = timezone.localdate().strftime("%Y%m%d")
    if request.GET.get("format") == "xlsx":
        return FileResponse(
            xlsx_file(header, rows, title=export.filename),
            as_attachment=True,
            filename=f"{export.filename}-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        as_requested(csv_stream(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}-{stamp}.csv"'
    return response


def export_view(spec: ListSpec[Any]) -> Callable[..., HttpResponseBase]:
    """The export view of a list spec, for its app's URL conf: signed-in users, GET only, the
    spec's own permission (`ExportSpec.allowed`) checked by `export_response`."""

    @login_required
    @require_GET
    def view(request: AuthedHttpRequest) -> HttpResponseBase:
        return export_response(request, spec)

    view.__name__ = view.__qualname__ = f"{spec.name}_export"
    view.__doc__ = f"The {spec.name} list as CSV (streamed) or XLSX; see crm.exports."
    return view
