"""What the export tests of the kit's lists check the same way (`crm.exports`): reading a CSV or
XLSX response, the answers to a visitor who is not signed in, an invalid filter and a NUL, and
the queries an export runs."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook


def read_csv(response: Any) -> list[list[str]]:
    """The rows of a streamed CSV export (its byte-order mark dropped)."""
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def read_xlsx(response: Any) -> dict[Any, tuple[Any, ...]]:
    """The data rows of an XLSX export's first sheet, keyed by their first cell (the cells, to
    check their types too)."""
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    return {row[0].value: row for row in sheet.iter_rows(min_row=2)}


def assert_sends_to_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def assert_refused(response: Any, message: str, absent: str) -> None:
    """A 400 that names the bad filter and holds no row (`absent` is a row's text)."""
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing was exported" in body
    assert message in body
    assert absent not in body


def assert_nul_refused(response: Any, absent: str) -> None:
    """A NUL anywhere in the query string: the product's 400 page, never a 500."""
    assert response.status_code == 400
    body = response.content.decode()
    assert "NUL character" in body
    assert absent not in body


def export_queries(client: Any, url: str, query: dict[str, Any]) -> tuple[int, int]:
    """(data rows, queries) of one CSV export, the stream read to its end."""
    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(client.get(url, query))
    return len(rows) - 1, len(queries)
