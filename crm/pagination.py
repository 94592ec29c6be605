"""Keyset pagination and capped counts: list pages cost the same on page 1 and page 5,000.

A page is fetched with `WHERE (sort, id) > (last sort, last id) ORDER BY sort, id LIMIT n`, which
walks an index from where the previous page stopped instead of skipping OFFSET rows. Cursors are
opaque URL-safe strings; a tampered cursor is treated as "first page", never a 500.

Counts stop at `CRM_COUNT_CAP` ("10,000+"): counting a million rows exactly on every load is the
classic reason CRM list pages get slow.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Hashable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Field, Model, Q, QuerySet

from crm import cache as versioned_cache

M = TypeVar("M", bound=Model)
# How long "this list has more than CRM_COUNT_CAP rows" is remembered (see list_page).
PLAN_HINT_SECONDS = 60


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


def _decode(
    cursor: str, fields: list[tuple[str, bool]], model: type[Model]
) -> tuple[str, list[Any]]:
    padded = cursor + "=" * (-len(cursor) % 4)
    direction, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if direction not in ("n", "p") or len(values) != len(fields):
        raise ValueError("bad cursor")
    parsed = [
        # Sort keys are concrete fields, never reverse relations.
        None
        if value is None
        else cast("Field[Any, Any]", model._meta.get_field(name)).to_python(value)
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


def _read_cursor(
    cursor: str | None, fields: list[tuple[str, bool]], model: type[Model]
) -> tuple[bool, list[Any] | None]:
    """(forward, values after which the page starts); None values mean the first page."""
    direction, values = "n", None
    if cursor:
        try:
            direction, values = _decode(cursor, fields, model)
        except Exception:  # a tampered or stale cursor means the first page, not a 500
            direction, values = "n", None
    if values is not None and any(v is None for v in values):
        values = None
    return direction == "n", values


def _finish(
    rows: list[M],
    *,
    more: bool,
    forward: bool,
    values: list[Any] | None,
    fields: list[tuple[str, bool]],
) -> Page[M]:
    """The page from up to `size` rows read in the cursor's direction (`more`: one more exists)."""
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


def keyset_page(
    qs: QuerySet[M], *, ordering: list[str], cursor: str | None, size: int | None = None
) -> Page[M]:
    """One page of `qs` in `ordering` (which must end with a unique field, e.g. "id")."""
    size = size or settings.CRM_PAGE_SIZE
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs.model)
    page_qs = qs
    if values is not None:
        page_qs = page_qs.filter(_after(fields, values, forward))
    order = ordering if forward else [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    rows = list(page_qs.order_by(*order)[: size + 1])
    more = len(rows) > size
    return _finish(rows[:size], more=more, forward=forward, values=values, fields=fields)


def capped_count(qs: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """(count, capped): the exact count up to `cap`, else (cap, True)."""
    cap = cap or settings.CRM_COUNT_CAP
    n = _bare(qs)[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def _bare(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The rows of `qs` without the joins and prefetches a page needs (for counting)."""
    return qs.order_by().select_related(None).prefetch_related(None).values("pk")


# Page costs for data that is in memory. PostgreSQL's defaults price a page read at 10-100 times a
# row's CPU work; with the tables in shared buffers it is more like 1-3 times. Under the defaults a
# text search for a big team ANDed a bitmap of the team's 400,000 rows (~35 ms) into the search's
# 17,000 matches, to save reading ~5,000 pages (~15 ms); with these costs it reads the pages.
# Searches pass them to list_page(); they are not set database-wide because some filter plans
# (stage alone for a big team) get slower with them.
IN_MEMORY_COSTS = {"seq_page_cost": "0.1", "random_page_cost": "0.11"}


@dataclass(frozen=True)
class ListPage(Generic[M]):
    page: Page[M]
    count: int
    capped: bool


def list_page(
    qs: QuerySet[M],
    *,
    ordering: list[str],
    cursor: str | None,
    size: int | None = None,
    hint_key: Hashable | None = None,
    planner: Mapping[str, str] | None = None,
) -> ListPage[M]:
    """A list page and its capped count, choosing the query plan from the count.

    One query collects the ids of up to CRM_COUNT_CAP + 1 matches as a single array (PostgreSQL
    uses the filter and search indexes; no per-row work in Python). When that is all of them,
    the page is taken from those ids, sorted. Only when there are more is the page read by
    walking the sort index, which is then fast because matches are dense. Without this, a
    search such as "smit" made PostgreSQL walk the name index from "a" hoping to meet 50
    matches early, and read 465,000 rows.

    With `hint_key` (who is asking and with which filters; not the sort or cursor), the finding
    "more than the cap" is kept in the cache for PLAN_HINT_SECONDS or until a write to the model
    (`bump_list_version`), and the next page of that list skips the id fetch: 10,001 ids of a
    400,000-contact scope cost ~15 ms. A stale hint is harmless: the rows are always read live;
    only the "More than 10,000" label can lag.

    `planner`: PostgreSQL settings for the counting query only, e.g. `IN_MEMORY_COSTS`.
    """
    cap = settings.CRM_COUNT_CAP
    name, digest = _plans_name(qs.model), _hint_digest(hint_key)
    version, over_cap = versioned_cache.lookup(name, digest) if hint_key is not None else (0, None)
    if over_cap:
        return ListPage(keyset_page(qs, ordering=ordering, cursor=cursor, size=size), cap, True)
    found = _count_and_page_ids(
        qs, ordering=ordering, cursor=cursor, size=size, limit=cap + 1, planner=planner
    )
    if found is None:
        if hint_key is not None:
            versioned_cache.store(name, digest, version, True, PLAN_HINT_SECONDS)
        return ListPage(keyset_page(qs, ordering=ordering, cursor=cursor, size=size), cap, True)
    count, ids, more = found
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs.model)
    rows = qs.in_bulk(ids)
    page = _finish(
        [rows[pk] for pk in ids if pk in rows],
        more=more,
        forward=forward,
        values=values,
        fields=fields,
    )
    return ListPage(page, count, False)


def _count_and_page_ids(
    qs: QuerySet[Any],
    *,
    ordering: list[str],
    cursor: str | None,
    size: int | None,
    limit: int,
    planner: Mapping[str, str] | None = None,
) -> tuple[int, list[Any], bool] | None:
    """(count, ids of the page in the cursor's direction, whether more follow), from ONE query
    over at most `limit` matches; None when there are `limit` or more.

    The matches and their sort keys are collected once (a materialised CTE, through the filter
    and search indexes); PostgreSQL counts them and sorts the page out of them with the
    column's own collation, so pages agree with the index-walking path. `planner` settings apply
    to this query only (SET LOCAL, in a transaction of its own or undone in the caller's).
    """
    size = size or settings.CRM_PAGE_SIZE
    try:
        sql, params = count_and_page_sql(
            qs, ordering=ordering, cursor=cursor, size=size, limit=limit
        )
    except EmptyResultSet:  # e.g. qs.none() for a user with no access
        return 0, [], False
    connection = connections[qs.db]
    outer = connection.in_atomic_block
    # A transaction only for planner settings: BEGIN and COMMIT are round trips too.
    block = transaction.atomic(using=qs.db, savepoint=False) if planner else nullcontext()
    with block, connection.cursor() as db:
        if planner:  # SET LOCAL; in a caller's transaction, put back afterwards
            calls = ", ".join(["current_setting(%s), set_config(%s, %s, true)"] * len(planner))
            db.execute(f"SELECT {calls}", [x for n, v in planner.items() for x in (n, n, v)])
            before = db.fetchone()[0::2]
        db.execute(sql, params)
        row = db.fetchone()
        if planner and outer:
            calls = ", ".join(["set_config(%s, %s, true)"] * len(planner))
            db.execute(
                f"SELECT {calls}", [x for pair in zip(planner, before, strict=True) for x in pair]
            )
    count, ids = int(row[0]), list(row[1])
    if count >= limit:
        return None
    return count, ids[:size], len(ids) > size


def count_and_page_sql(
    qs: QuerySet[Any], *, ordering: list[str], cursor: str | None, size: int, limit: int
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of list_page's counting query (also for EXPLAIN in the benchmark)."""
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs.model)
    descending = {desc for _name, desc in fields}
    if len(descending) != 1:
        raise ValueError("list_page orders by columns in one direction")
    reverse = descending.pop() == forward  # the SQL walks backwards
    names = [name for name, _desc in fields]
    inner, params = (
        qs.order_by()
        .select_related(None)
        .prefetch_related(None)
        .values_list("pk", *names)[:limit]
        .query.sql_with_params()
    )
    keys = ", ".join(f"k{i}" for i in range(len(names)))
    where = ""
    if values is not None:
        where = f"WHERE ({keys}) {'<' if reverse else '>'} ({', '.join(['%s'] * len(values))})"
        params = (*params, *values)
    direction = " DESC" if reverse else ""
    sql = (
        f"WITH m(pk, {keys}) AS MATERIALIZED ({inner}) "  # noqa: S608 - our own SQL and columns
        f"SELECT (SELECT count(*) FROM m), ARRAY(SELECT pk FROM m {where} "
        f"ORDER BY {', '.join(f'k{i}{direction}' for i in range(len(names)))} LIMIT %s)"
    )
    return sql, (*params, size + 1)


def _plans_name(model: type[Model]) -> str:
    return f"list-plans:{model._meta.label_lower}"


def bump_list_version(model: type[Model]) -> None:
    """Forget the list-plan hints of `model` (called after its rows are written). At once, not
    on commit: a hint is advisory, and dropping one early costs only a count."""
    versioned_cache.bump(_plans_name(model), on_commit=False)


def _hint_digest(hint_key: Hashable) -> str:
    return hashlib.blake2b(repr(hint_key).encode(), digest_size=12).hexdigest()
