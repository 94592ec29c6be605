"""Keyset pagination and capped counts: list pages cost the same on page 1 and page 5,000.

A page is fetched with `WHERE (sort, id) > (last sort, last id) ORDER BY sort, id LIMIT n`, which
walks an index from where the previous page stopped instead of skipping OFFSET rows. Cursors are
opaque URL-safe strings; a tampered cursor is treated as "first page", never a 500.

Counts stop at `CRM_COUNT_CAP` ("10,000+"): counting a million rows exactly on every load is the
classic reason CRM list pages get slow.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_cursor is not None


def _encode(values: list[Any], direction: str) -> str:
    raw = json.dumps([direction, values], default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, fields: list[tuple[str, bool]], model: type[Model]) -> tuple[str, list]:
    padded = cursor + "=" * (-len(cursor) % 4)
    direction, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if direction not in ("n", "p") or len(values) != len(fields):
        raise ValueError("bad cursor")
    parsed = [
        None if value is None else model._meta.get_field(name).to_python(value)
        for (name, _desc), value in zip(fields, values, strict=True)
    ]
    return direction, parsed


def _after(fields: list[tuple[str, bool]], values: list[Any], forward: bool) -> Q:
    """Rows strictly after `values` in the ordering (or before, when not `forward`).

    Written as `a >= x AND (a > x OR (a = x AND id > y))`: the leading `a >= x` lets PostgreSQL
    start the index scan at x instead of filtering from the beginning.
    """
    (first, first_desc), first_value = fields[0], values[0]
    go_up = forward != first_desc
    condition = Q(**{f"{first}__{'gte' if go_up else 'lte'}": first_value})
    tie = Q()
    ors = Q()
    for (name, desc), value in zip(fields, values, strict=True):
        up = forward != desc
        ors |= tie & Q(**{f"{name}__{'gt' if up else 'lt'}": value})
        tie &= Q(**{name: value})
    return condition & ors


def keyset_page(
    qs: QuerySet[M], *, ordering: list[str], cursor: str | None, size: int | None = None
) -> Page[M]:
    """One page of `qs` in `ordering` (which must end with a unique field, e.g. "id")."""
    size = size or settings.CRM_PAGE_SIZE
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    direction, values = "n", None
    if cursor:
        try:
            direction, values = _decode(cursor, fields, qs.model)
        except Exception:  # a tampered or stale cursor means the first page, not a 500
            direction, values = "n", None
    forward = direction == "n"
    if values is not None and any(v is None for v in values):
        values = None
    page_qs = qs
    if values is not None:
        page_qs = page_qs.filter(_after(fields, values, forward))
    order = ordering if forward else [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    rows = list(page_qs.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    def key(row: M) -> list[Any]:
        return [getattr(row, name) for name, _desc in fields]

    is_first = values is None or (not forward and not more)
    next_cursor = prev_cursor = None
    if rows:
        if (forward and more) or not forward:
            next_cursor = _encode(key(rows[-1]), "n")
        if not is_first:
            prev_cursor = _encode(key(rows[0]), "p")
    return Page(items=rows, next_cursor=next_cursor, prev_cursor=prev_cursor, is_first=is_first)


def capped_count(qs: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): the exact count up to `cap`, else (cap, True)."""
    cap = cap or settings.CRM_COUNT_CAP
    n = _bare(qs)[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def _bare(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The rows of `qs` without the joins and prefetches a page needs (for counting)."""
    return qs.order_by().select_related(None).prefetch_related(None).values("pk")


@dataclass(frozen=True)
class ListPage(Generic[M]):
    page: Page[M]
    count: int
    capped: bool


def list_page(
    qs: QuerySet[M], *, ordering: list[str], cursor: str | None, size: int | None = None
) -> ListPage[M]:
    """A list page and its capped count, choosing the query plan from the count.

    One query collects the ids of up to CRM_COUNT_CAP + 1 matches as a single array (PostgreSQL
    uses the filter and search indexes; no per-row work in Python). When that is all of them,
    the page is taken from those ids, sorted. Only when there are more is the page read by
    walking the sort index, which is then fast because matches are dense. Without this, a
    search such as "smit" made PostgreSQL walk the name index from "a" hoping to meet 50
    matches early, and read 465,000 rows.
    """
    cap = settings.CRM_COUNT_CAP
    ids = _id_array(qs, cap + 1)
    if len(ids) > cap:
        return ListPage(keyset_page(qs, ordering=ordering, cursor=cursor, size=size), cap, True)
    # Sort the matching ids alone (no joins), then fetch the page's rows with everything the
    # template needs; joining owners and companies for thousands of rows before a sort is slow.
    lean = qs.model._default_manager.filter(pk__in=ids).only(*_field_names(ordering))
    keys = keyset_page(lean, ordering=ordering, cursor=cursor, size=size)
    rows = qs.in_bulk([row.pk for row in keys.items])
    page = Page(
        items=[rows[row.pk] for row in keys.items if row.pk in rows],
        next_cursor=keys.next_cursor,
        prev_cursor=keys.prev_cursor,
        is_first=keys.is_first,
    )
    return ListPage(page, len(ids), False)


def _id_array(qs: QuerySet[Any], limit: int) -> list[Any]:
    """Up to `limit` primary keys of `qs`, fetched as one PostgreSQL array."""
    try:
        sql, params = _bare(qs)[:limit].query.sql_with_params()
    except EmptyResultSet:  # e.g. qs.none() for a user with no access
        return []
    with connections[qs.db].cursor() as cursor:
        cursor.execute(f"SELECT array_agg(sub.pk) FROM ({sql}) sub", params)  # noqa: S608
        row = cursor.fetchone()
    return list(row[0] or []) if row else []


def _field_names(ordering: list[str]) -> list[str]:
    return [o.lstrip("-") for o in ordering]
