"""Bulk writes with PostgreSQL COPY, shared by seed_demo and imports.

COPY bypasses Django's save() and signals: callers compute every derived column themselves and
record audit entries per job rather than per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.backends.utils import CursorWrapper


def reserve_ids(cursor: CursorWrapper, table: str, count: int) -> list[int]:
    """`count` fresh primary keys from the table's sequence, so related rows can be written
    with known foreign keys before the parent rows exist."""
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def copy_rows(
    cursor: CursorWrapper, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Write `rows` into `table` with COPY FROM STDIN (psycopg 3)."""
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
