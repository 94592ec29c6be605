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
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, transaction
from django.db.models import Count, F, Field, Model, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

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
    cursor: str,
    fields: list[tuple[str, bool]],
    qs: QuerySet[Any],
    directions: tuple[str, ...] = ("n", "p"),
) -> tuple[str, list[Any]]:
    padded = cursor + "=" * (-len(cursor) % 4)
    direction, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if direction not in directions or len(values) != len(fields):
        raise ValueError("bad cursor")
    parsed = []
    for (name, _desc), value in zip(fields, values, strict=True):
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL refuses NUL in text; a cursor carrying one was made by hand.
            raise ValueError("bad cursor")
        parsed.append(None if value is None else sort_field(qs, name).to_python(value))
    return direction, parsed


def sort_field(qs: QuerySet[Any], name: str) -> Field[Any, Any]:
    """The field that types sort key `name`: an annotation's output field (a sort by an
    expression, e.g. a stage's position) or the model's concrete field."""
    annotation = qs.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    # Sort keys are concrete fields, never reverse relations.
    return cast("Field[Any, Any]", qs.model._meta.get_field(name))


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
    cursor: str | None, fields: list[tuple[str, bool]], qs: QuerySet[Any]
) -> tuple[bool, list[Any] | None]:
    """(forward, values after which the page starts); None values mean the first page."""
    direction, values = "n", None
    if cursor:
        try:
            direction, values = _decode(cursor, fields, qs)
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
    forward, values = _read_cursor(cursor, fields, qs)
    page_qs = qs
    if values is not None:
        page_qs = page_qs.filter(_after(fields, values, forward))
    order = ordering if forward else [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    rows = list(page_qs.order_by(*order)[: size + 1])
    more = len(rows) > size
    return _finish(rows[:size], more=more, forward=forward, values=values, fields=fields)


def ids_first_page(
    qs: QuerySet[M], *, ordering: list[str], cursor: str | None, size: int | None = None
) -> Page[M]:
    """`keyset_page` in two statements: the page's ids along the sort index, without the rows'
    joins and columns (so an index holding the sort key and the filtered columns answers it
    alone: an index-only scan that stops after `size` + 1 matches), then the rows by id."""
    size = size or settings.CRM_PAGE_SIZE
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs)
    bare = qs.select_related(None).prefetch_related(None)
    if values is not None:
        bare = bare.filter(_after(fields, values, forward))
    order = ordering if forward else [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    ids = list(bare.order_by(*order).values_list("pk", flat=True)[: size + 1])
    return _page_of_ids(qs, ordering, cursor, ids[:size], len(ids) > size)


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
# The first page of a search over the cap, read up to its bound (`bounded_page`): no walk along
# the sort index. PostgreSQL assumes matches spread evenly over the sort order, so with LIMIT it
# walked the name index from "a" to reach 李 (Chinese sorts after Latin): 2,271,571 blocks and
# 4.8 s at 3,000,000 contacts, against 27,244 blocks collecting the matches (bitmap) and sorting.
NO_INDEX_WALK = {"enable_indexscan": "off"}


# Lazy counting (issue 31). A list whose rows are dense in its scope (no search, the planner
# expecting more than the cap) reads its page along the sort index first and counts afterwards,
# in a fragment the pager loads (`lazy_count`); tables smaller than this count with the rows, as
# every list did before (no estimate to ask for, one query fewer).
LAZY_MIN_TABLE_ROWS = 100_000
TABLE_ROWS_SECONDS = 600
# Where a lazily counted list stops collecting its matches before its rows (the planner's
# estimate; `list_page(lazy_from=)`, at most the cap): collecting costs a block per match, while
# a page read along a covering sort index stops after a page. Stage + tag at a million contacts:
# 3,895 matches, 4,615 blocks collected; walked, 4,858 index entries in 2,062 blocks (mostly
# visibility-map hits), 2 ms, the same at any size (bench/results/2026-12-01-flat-1m.md).
LAZY_FROM = 1000


@dataclass(frozen=True)
class ListPage(Generic[M]):
    page: Page[M]
    count: int | None  # None: not counted with the rows (the pager loads it: `lazy_count`)
    capped: bool
    # `name_first_page`: more than the cap's name matches, so the other matches are not listed.
    left_out: bool = False
    # `name_first_page(newest=)`: the page lists other matches newest first (too many of them).
    newest: bool = False


def list_page(
    qs: QuerySet[M],
    *,
    ordering: list[str],
    cursor: str | None,
    size: int | None = None,
    hint_key: Hashable | None = None,
    planner: Mapping[str, str] | None = None,
    lazy: bool = False,
    bounded: bool = False,
    cap: int | None = None,
    lazy_from: int | None = None,
) -> ListPage[M]:
    """A list page and its capped count, choosing the query plan from the count.

    One query collects the ids of up to CRM_COUNT_CAP + 1 matches as a single array (PostgreSQL
    uses the filter and search indexes; no per-row work in Python). When that is all of them,
    the page is taken from those ids, sorted. Only when there are more is the page read by
    walking the sort index, which is then fast because matches are dense. Without this, a
    search such as "smit" made PostgreSQL walk the name index from "a" hoping to meet 50
    matches early, and read 465,000 rows.

    With `hint_key` (who is asking and with which filters; not the sort or cursor), the finding
    "more than the cap" is kept in the cache for PLAN_HINT_SECONDS, and the next page of that
    list skips the id fetch: 10,001 ids of a 400,000-contact scope cost ~15 ms. Writes do not
    drop hints (signals on every save cost ~2.6 ms each, measured): they expire. A stale hint is
    harmless: the rows are always read live and in the same order by either path; only the
    "More than 10,000" label can lag, by at most PLAN_HINT_SECONDS. The list kit
    (`crm.lists`) passes the key and the planner settings; views never do.

    `planner`: PostgreSQL settings for the counting query only, e.g. `IN_MEMORY_COSTS`.

    `lazy`: the caller may show the count later (`lazy_count`, from a fragment). Then a list
    the planner expects to hold more than the cap (in a table of LAZY_MIN_TABLE_ROWS or more)
    reads its page along the sort index at once and returns `count=None`: the page no longer
    pays for collecting 10,001 ids (a bitmap of the whole scope: 400,000 rows for a big team at
    a million contacts) before its first row. Only for lists without a search: a search's
    matches cluster in the sort order (names), where walking the index is the slow plan.
    `lazy_from` lowers that threshold (at most the cap): a filtered list the planner expects
    to hold more matches than it (stage + tag: thousands) reads its page along the sort index
    too, its ids first (`ids_first_page`: an index holding the filtered columns answers without
    the table) and stops after a page, instead of collecting every match under the cap.

    `bounded`: the list is a search, whose matches may sit anywhere in the sort order. Over
    the cap, its first page is then read up to a bound (`bounded_page`): the counting query's
    10,001 matches are a subset of all of them, so the true page lies at or before that subset's
    own page end in the sort order. When the planner expects no more than the cap's number of
    rows before the bound, the walk is short and is kept. The bound is kept in the hint.

    `cap`: where the count stops (default CRM_COUNT_CAP), lower for a list whose every match
    costs a probe (a scope seen through other records: `ListSpec.count_cap`).
    """
    cap = cap or settings.CRM_COUNT_CAP
    name, digest = _plans_name(qs.model), _hint_digest(hint_key)
    version, over_cap = versioned_cache.lookup(name, digest) if hint_key is not None else (0, None)
    if over_cap:
        bound = over_cap.get("bound") if isinstance(over_cap, dict) and not cursor else None
        page = bounded_page(qs, ordering=ordering, cursor=cursor, size=size, bound=bound)
        return ListPage(page, cap, True)
    if lazy and _expects_over(qs, min(cap, lazy_from or cap)):
        page = ids_first_page(qs, ordering=ordering, cursor=cursor, size=size)
        return ListPage(page, None, False)
    found = _count_and_page_ids(
        qs, ordering=ordering, cursor=cursor, size=size, limit=cap + 1, planner=planner
    )
    count, ids, more = found
    if count > cap:
        # The first page only: a later one starts from its cursor, where the matches are.
        first = bounded and more and not cursor
        bound = _sort_values(qs, ordering, ids[-1]) if first else None
        if bound is not None and _rows_before(qs, ordering, bound) <= cap:
            bound = None  # the matches come early in the sort order: a short walk finds them
        if hint_key is not None:
            hint = {"bound": bound} if bound is not None else True
            versioned_cache.store(name, digest, version, hint, PLAN_HINT_SECONDS)
        page = bounded_page(qs, ordering=ordering, cursor=cursor, size=size, bound=bound)
        return ListPage(page, cap, True)
    return ListPage(_page_of_ids(qs, ordering, cursor, ids, more), count, False)


def bounded_page(
    qs: QuerySet[M],
    *,
    ordering: list[str],
    cursor: str | None,
    size: int | None = None,
    bound: list[Any] | None = None,
) -> Page[M]:
    """`keyset_page`, reading only rows at or before `bound` (sort values, as `_encode` keeps
    them) when given: then PostgreSQL sees how far along the sort index the page may lie and
    chooses between walking that range and collecting the matches (a bitmap and a top-N sort),
    instead of walking from the cursor in the hope of meeting a page of matches soon. Over the
    cap, "chen" walked 50,000 rows of the name index to its first match; "jo" walks 3,600.

    `bound` is the sort key of the (size + 1)-th row of a subset of `qs`, so the first page's
    rows lie at or before it; if rows have gone since (fewer than a page found there), or for
    a later page (`cursor`), the page is read without the bound."""
    size = size or settings.CRM_PAGE_SIZE
    if bound is not None:
        fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
        try:
            values = [
                None if v is None else sort_field(qs, n).to_python(v)
                for (n, _d), v in zip(fields, bound, strict=True)
            ]
        except Exception:  # a hint from before a change of the sorts: no bound
            values = None
        if values is not None and all(v is not None for v in values) and not cursor:
            within = _after(fields, values, forward=False) | Q(
                **{n: v for (n, _d), v in zip(fields, values, strict=True)}
            )
            # The ids first (the sort and scope indexes answer most of it without the table's
            # rows: 1,684 blocks for "chen" against 14,076 reading whole rows), then the rows;
            # the matches collected through the search indexes, never a walk (NO_INDEX_WALK).
            bare = qs.filter(within).order_by(*ordering).select_related(None)
            bare = bare.prefetch_related(None).values_list("pk", flat=True)[: size + 1]
            with planner_settings(qs.db, NO_INDEX_WALK):
                ids = list(bare)
            if len(ids) > size:  # a whole page (and one more row) within the bound
                return _page_of_ids(qs, ordering, None, ids[:size], True)
    return keyset_page(qs, ordering=ordering, cursor=cursor, size=size)


def _rows_before(qs: QuerySet[Any], ordering: list[str], bound: list[Any]) -> int:
    """The planner's estimate of the table's rows up to `bound` in the first sort key: how
    far a walk along the sort index may go (an EXPLAIN; a sort by an expression: unknown, so
    every row)."""
    name, desc = ordering[0].lstrip("-"), ordering[0].startswith("-")
    if name in qs.query.annotations or bound[0] is None:
        return table_rows(qs.model, qs.db)
    value = sort_field(qs, name).to_python(bound[0])
    lookup = f"{name}__{'gte' if desc else 'lte'}"
    rows = qs.model._base_manager.using(qs.db).filter(**{lookup: value})
    return estimated_rows(rows)


def _sort_values(qs: QuerySet[Any], ordering: list[str], pk: Any) -> list[Any] | None:
    """The sort key of row `pk` of `qs`, JSON-ready (as a cursor keeps it)."""
    names = [o.lstrip("-") for o in ordering]
    row = qs.order_by().select_related(None).prefetch_related(None).filter(pk=pk)
    found = row.values_list(*names).first()
    return None if found is None else json.loads(json.dumps(list(found), default=str))


def _page_of_ids(
    qs: QuerySet[M], ordering: list[str], cursor: str | None, ids: list[Any], more: bool
) -> Page[M]:
    """The page of rows `ids` (in the cursor's direction), read live from `qs`."""
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs)
    rows = qs.in_bulk(ids)
    return _finish(
        [rows[pk] for pk in ids if pk in rows],
        more=more,
        forward=forward,
        values=values,
        fields=fields,
    )


def lazy_count(
    qs: QuerySet[Any],
    *,
    hint_key: Hashable | None = None,
    cap: int | None = None,
    planner: Mapping[str, str] | None = None,
) -> tuple[int, bool]:
    """(count, capped) of a list shown without its count (`list_page(lazy=True)`, a search in
    `name_first_page` order), for the fragment the pager loads after the rows. Over the cap
    (list_page's `cap`), the finding is kept as list_page's hint, so the list's next pages and
    counts skip both the estimate and the count. `planner`: as list_page's (a search's)."""
    cap = cap or settings.CRM_COUNT_CAP
    name, digest = _plans_name(qs.model), _hint_digest(hint_key)
    version, over_cap = versioned_cache.lookup(name, digest) if hint_key is not None else (0, None)
    if over_cap:
        return cap, True
    with planner_settings(qs.db, planner):
        count, capped = capped_count(qs, cap)
    if capped and hint_key is not None:
        versioned_cache.store(name, digest, version, True, PLAN_HINT_SECONDS)
    return count, capped


# Name matches first (issue 31). A search whose words name the start of the sort key ("nguy",
# "李") shows first the matches whose key starts with them, read along the sort index, then the
# other matches in the same order, gathered as before. The first part reads the same ~150 blocks
# at 10,000 and at a million contacts, where gathering every match of "nguy" read 4,153
# (bench/results/2026-12-01-search-tiers.md). Its statement runs without bitmap scans: with them
# PostgreSQL gathered the search's matches through the GIN indexes again (12,651 blocks for "smi").
NAME_FIRST_PLANNER = {"enable_bitmapscan": "off"}
# A tiered list's cursor directions: the direction ("n", "p") and the part (1: the name range,
# 2: the other matches in the sort's order, 3: the other matches newest first).
_TIERED = ("n1", "p1", "n2", "p2")
_NEWEST = ("n3", "p3")
# The other matches of a search listed newest first (`name_first_page(newest=)`) are read by
# walking the newest-first index with the search as a filter, stopped after a page: a walk of
# about a page divided by the matches' share of the table's rows (~4,300 rows for "chen" at a
# million contacts), the same at any size for a term with the same share, where gathering its
# matches read the search indexes' posting lists of the whole table. The walk is pinned
# (`NEWEST_WALK_PLANNER`) only while the planner expects it to stay under this many rows;
# beyond (few matches in a huge table) PostgreSQL chooses, as for any search.
NEWEST_WALK_ROWS = 50_000
# The walk itself: no bitmaps (the search's GIN indexes), no sequential scan and no sort (the
# walk filter's selectivity, counted on top of the search's, made the planner expect 3 rows
# for "chen"'s 111 at 10,000 contacts and prefer reading the table and sorting it), and no
# parallel workers (at a million contacts a Gather Merge of two walks: 56.7 ms against 2.6 ms).
NEWEST_WALK_PLANNER = {
    "enable_bitmapscan": "off",
    "enable_seqscan": "off",
    "enable_sort": "off",
    "max_parallel_workers_per_gather": "0",
}


def name_first_page(
    qs: QuerySet[M],
    *,
    first: Q,
    ordering: list[str],
    cursor: str | None,
    size: int | None = None,
    hint_key: Hashable | None = None,
    planner: Mapping[str, str] | None = None,
    cap: int | None = None,
    names_cap: int | None = None,
    newest: Sequence[str] = (),
    walk_filter: Q | None = None,
) -> ListPage[M]:
    """A page of `qs` showing the rows that match `first` (a prefix of the first sort key)
    before the others, each part in `ordering`: a search's "name matches first" order.

    The first part's ids are read along the sort index without the rows' joins and without
    bitmap scans (`NAME_FIRST_PLANNER`), then its rows by id. Where it ends, the page goes on
    with the other rows (`qs` without `first`), read as `list_page` reads a search (`hint_key`
    and `planner` are for that read). A cursor names its part besides its direction, so pages
    cross from one part to the other without skipping or repeating a row; a tampered cursor
    means the first page.

    The count (capped at `names_cap`, default and at most `cap`, the cap of the others' read)
    comes with the page only when it is known for free: the first
    page held the whole first part and then read the others, whose read counts them (a term
    with few name matches, or none: "chen" matches through addresses). Otherwise it is None,
    for the caller to count after the rows (`lazy_count`).

    After more than `names_cap` name matches the others are not listed (`ListPage.left_out`:
    the page says so; a word more finds them). Telling the others from the names takes reading
    every match (the search indexes cannot leave a range of the sort key out): 8,850 blocks for
    李 at a million contacts, growing with the matches, where counting the names up to the cap
    reads at most `names_cap` + 1 of them (in one statement, when the page reaches the others).

    `newest` (an ordering ending with a unique key, e.g. `["-id"]`, that an index walks with the
    scope): when the planner expects more than `names_cap` other matches (in a table of
    LAZY_MIN_TABLE_ROWS or more), the page lists them in that order instead (`ListPage.newest`:
    the page says so), their ids read by walking that index with the search as a filter,
    stopped after a page (`name_first_ids`), then the rows by id: the cost is set by the term's
    share of the rows, not by the size of the table, where the sort's order took every match.
    `walk_filter`: a cheaper condition that holds for every row of `qs` (the search's trigram
    arm when it covers its full-text one), tested first on each row walked. The decision is
    taken where the page reaches the others; their cursors say it (part 3), so paging on
    either way keeps the order the first of their pages had."""
    cap = cap or settings.CRM_COUNT_CAP
    names_cap = min(names_cap or cap, cap)
    size = size or settings.CRM_PAGE_SIZE
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    late = [(o.lstrip("-"), o.startswith("-")) for o in newest]
    tier, forward, values = _read_tiered_cursor(cursor, fields, qs, late)
    head, rest = qs.filter(first), qs.exclude(first)
    rest_key = None if hint_key is None else (hint_key, "others")
    names: list[int] = []  # how many name matches, when known (up to cap + 1)

    def count_names() -> int:
        """The name matches up to `names_cap` + 1 (in any order: the planner may walk the name
        range or AND the scope's name indexes with the search's: 2,410 or 1,040 blocks for
        "nguy" and 李 at a million contacts)."""
        return _bare(head)[: names_cap + 1].count()

    def head_rows(after: list[Any] | None, up: bool, n: int) -> tuple[list[M], bool]:
        """Up to `n` rows of the first part after (`up`) or before `after`, in the page's
        order, and whether more follow (precede) them."""
        bare = name_first_ids(head, ordering=ordering, after=after, forward=up)
        with planner_settings(qs.db, NAME_FIRST_PLANNER):
            ids = list(bare[: n + 1])
        more, ids = len(ids) > n, ids[:n]
        found = qs.in_bulk(ids) if ids else {}
        rows = [found[pk] for pk in ids if pk in found]
        return (rows if up else rows[::-1]), more

    counted: list[tuple[int | None, bool]] = []  # the others' count, when read

    def newest_rows(after: list[Any] | None, up: bool, n: int) -> tuple[list[M], bool]:
        """Up to `n` other rows in the `newest` order after (`up`) or before `after`, and
        whether more follow (precede) them: the ids by a walk, then the rows."""
        walk = rest if walk_filter is None else rest.filter(walk_filter)
        bare = name_first_ids(walk, ordering=list(newest), after=after, forward=up)
        with planner_settings(qs.db, walk_settings()):
            ids = list(bare[: n + 1])
        more, ids = len(ids) > n, ids[:n]
        found = qs.in_bulk(ids) if ids else {}
        rows = [found[pk] for pk in ids if pk in found]
        return (rows if up else rows[::-1]), more

    expected: list[int] = []  # the planner's estimate of the other matches, once asked

    def others_expected() -> int:
        """How many other matches the planner expects (one EXPLAIN, ~2-4 ms with the query's
        compilation, kept as a plan hint of the list for its next pages; 0 in a small table)."""
        if expected:
            return expected[0]
        if table_rows(qs.model, qs.db) < LAZY_MIN_TABLE_ROWS:
            expected.append(0)
            return 0
        name = _plans_name(qs.model)
        digest = _hint_digest((hint_key, "others expected"))
        version, known = versioned_cache.lookup(name, digest) if hint_key else (0, None)
        if not isinstance(known, int):
            known = estimated_rows(rest)
            if hint_key is not None:
                versioned_cache.store(name, digest, version, known, PLAN_HINT_SECONDS)
        expected.append(known)
        return known

    def others_newest() -> bool:
        """Whether the other matches are listed newest first: more than `names_cap` of them
        expected."""
        return bool(newest) and others_expected() > names_cap

    def walk_settings() -> Mapping[str, str] | None:
        """The walk pinned (`NEWEST_WALK_PLANNER`) while the planner expects it short
        (NEWEST_WALK_ROWS rows of the table for a page), else the search's settings."""
        walked = table_rows(qs.model, qs.db) * (size + 1) / max(others_expected(), 1)
        return NEWEST_WALK_PLANNER if walked <= NEWEST_WALK_ROWS else planner

    def rest_rows(after: list[Any] | None, up: bool, n: int) -> tuple[list[M], bool]:
        """The same for the other rows (at least one is read, to know whether any follow);
        none after more than `cap` name matches (`ListPage.left_out`). With `newest` and many
        of them, read newest first (`newest_rows`; `late` says which order was read)."""
        if not names:
            names.append(count_names())
        if names[0] > names_cap:
            counted.append((names_cap, True))
            return [], False
        if after is None and up and others_newest():
            late_order.append(True)
            counted.append((None, False))
            rows, more = newest_rows(None, True, max(n, 1))
            return (rows[:n], True) if len(rows) > n else (rows, more)
        at = None if after is None else _encode(after, "n" if up else "p")
        found = list_page(
            rest,
            ordering=ordering,
            cursor=at,
            size=max(n, 1),
            hint_key=rest_key,
            planner=planner,
            bounded=True,
            cap=cap,
        )
        counted.append((found.count, found.capped))
        page = found.page
        rows, more = page.items, page.has_next if up else page.has_prev
        if len(rows) > n:
            rows, more = (rows[:n], True) if up else (rows[len(rows) - n :], True)
        return rows, more

    late_order: list[bool] = []  # the others read newest first on this page
    parts: list[tuple[int, M]]
    count, capped = None, False
    if tier == 3:
        rows, more = newest_rows(values, forward, size)
        parts = [(3, row) for row in rows]
        late_order.append(True)
        if not forward and not more:
            heads, more = head_rows(None, False, size - len(rows))
            parts = [(1, row) for row in heads] + parts
        is_first = values is None if forward else not more
    elif forward:
        if tier == 1:
            rows, more = head_rows(values, True, size)
            parts = [(1, row) for row in rows]
            if not more:
                if values is None:  # the whole first part is on this page
                    names.append(len(rows))
                others, more = rest_rows(None, True, size - len(rows))
                parts += [(3 if late_order else 2, row) for row in others]
                if values is None and counted[0][0] is not None:  # the whole first part
                    count, capped = len(rows) + counted[0][0], counted[0][1]
                    over = capped or count > names_cap
                    count, capped = (names_cap, True) if over else (count, False)
                elif names[0] > names_cap:  # more than the cap in the names alone
                    count, capped = names_cap, True
        else:
            rows, more = rest_rows(values, True, size)
            parts = [(2, row) for row in rows]
        is_first = values is None
    else:
        if tier == 2:
            rows, more = rest_rows(values, False, size)
            parts = [(2, row) for row in rows]
            if not more:
                heads, more = head_rows(None, False, size - len(rows))
                parts = [(1, row) for row in heads] + parts
        else:
            rows, more = head_rows(values, False, size)
            parts = [(1, row) for row in rows]
        is_first = not more

    def cursor_of(part: tuple[int, M], direction: str) -> str:
        keys = late if part[0] == 3 else fields
        return _encode([getattr(part[1], name) for name, _desc in keys], f"{direction}{part[0]}")

    next_cursor = prev_cursor = None
    if parts:
        if more or not forward:
            next_cursor = cursor_of(parts[-1], "n")
        if not is_first:
            prev_cursor = cursor_of(parts[0], "p")
    items = [row for _tier, row in parts]
    page = Page(items=items, next_cursor=next_cursor, prev_cursor=prev_cursor, is_first=is_first)
    left_out = bool(names) and names[0] > names_cap
    return ListPage(page, count, capped, left_out=left_out, newest=bool(late_order))


def name_first_ids(
    head: QuerySet[Any],
    *,
    ordering: list[str],
    after: list[Any] | None = None,
    forward: bool = True,
) -> QuerySet[Any]:
    """The ids of `head` (the rows whose sort key starts with the search's term) after
    (`forward`) or before the sort values `after`, in the page's order, without the rows'
    joins: `name_first_page`'s first statement (also for EXPLAIN in the benchmark), to be run
    sliced under `NAME_FIRST_PLANNER`. Also its walk of the other matches newest first (`head`
    is then those, `ordering` the `newest` one; under `NEWEST_WALK_PLANNER`)."""
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    order = ordering if forward else [o[1:] if o.startswith("-") else f"-{o}" for o in ordering]
    bare = head.order_by(*order).select_related(None).prefetch_related(None)
    if after is not None:
        bare = bare.filter(_after(fields, after, forward))
    return bare.values_list("pk", flat=True)


def _read_tiered_cursor(
    cursor: str | None,
    fields: list[tuple[str, bool]],
    qs: QuerySet[Any],
    late: list[tuple[str, bool]] | None = None,
) -> tuple[int, bool, list[Any] | None]:
    """(part, forward, values after which the page starts) of a `name_first_page` cursor
    (part 3, the others newest first, carries the keys of `late`); (1, True, None), the first
    page, for none or a tampered one."""
    if cursor:
        try:
            direction, values = _decode(cursor, fields, qs, _TIERED)
        except Exception:  # a tampered or stale cursor means the first page, not a 500
            try:
                if not late:
                    raise ValueError("no newest order")
                direction, values = _decode(cursor, late, qs, _NEWEST)
            except Exception:
                return 1, True, None
        if all(v is not None for v in values):
            return int(direction[1]), direction[0] == "n", values
    return 1, True, None


def _expects_over(qs: QuerySet[Any], cap: int) -> bool:
    """Whether the planner expects more than `cap` rows in `qs`, asked only of tables big
    enough for it to matter (their size cached: one query per table every ten minutes)."""
    if table_rows(qs.model, qs.db) < LAZY_MIN_TABLE_ROWS:
        return False
    return estimated_rows(qs) > cap


def table_rows(model: type[Model], using: str = "default") -> int:
    """The planner's idea of the number of rows in `model`'s table (pg_class.reltuples), cached."""

    def compute() -> int:
        with connections[using].cursor() as db:
            db.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
            )
            row = db.fetchone()
        return max(0, int(row[0])) if row else 0

    return versioned_cache.get_or_compute(
        "table-rows", model._meta.label_lower, compute, TABLE_ROWS_SECONDS
    )


def estimated_rows(qs: QuerySet[Any]) -> int:
    """The planner's estimate of the rows of `qs` (EXPLAIN, no execution: ~1 ms, flat)."""
    try:
        sql, params = _bare(qs).query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connections[qs.db].cursor() as db:
        db.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = db.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


@contextmanager
def planner_settings(using: str, planner: Mapping[str, str] | None) -> Iterator[None]:
    """PostgreSQL `planner` settings for the queries run inside (SET LOCAL): in a transaction
    of their own, or undone afterwards in a caller's. Nothing at all without settings (BEGIN
    and COMMIT are round trips too)."""
    if not planner:
        yield
        return
    connection = connections[using]
    outer = connection.in_atomic_block
    with transaction.atomic(using=using, savepoint=False):
        with connection.cursor() as db:
            calls = ", ".join(["current_setting(%s), set_config(%s, %s, true)"] * len(planner))
            db.execute(f"SELECT {calls}", [x for n, v in planner.items() for x in (n, n, v)])
            before = db.fetchone()[0::2]
        yield
        if outer:
            calls = ", ".join(["set_config(%s, %s, true)"] * len(planner))
            with connection.cursor() as db:
                db.execute(
                    f"SELECT {calls}",
                    [x for pair in zip(planner, before, strict=True) for x in pair],
                )


def _count_and_page_ids(
    qs: QuerySet[Any],
    *,
    ordering: list[str],
    cursor: str | None,
    size: int | None,
    limit: int | None,
    planner: Mapping[str, str] | None = None,
) -> tuple[int, list[Any], bool]:
    """(count, ids of the page in the cursor's direction, whether more follow), from ONE query
    over at most `limit` matches (None: all of them). With `limit` or more, the count is `limit`
    and the ids (`size` + 1 of them) are the page of those `limit` matches only.

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
    with planner_settings(qs.db, planner), connections[qs.db].cursor() as db:
        db.execute(sql, params)
        row = db.fetchone()
    count, ids = int(row[0]), list(row[1])
    if limit is not None and count >= limit:
        return limit, ids, len(ids) > size  # over: the ids are the page of a sample
    return count, ids[:size], len(ids) > size


def count_and_page_sql(
    qs: QuerySet[Any], *, ordering: list[str], cursor: str | None, size: int, limit: int | None
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of list_page's counting query (also for EXPLAIN in the benchmark); with
    `limit=None`, over every match.

    Sort keys may be columns or annotations of `qs` (expressions), in any mix of directions.
    """
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    forward, values = _read_cursor(cursor, fields, qs)
    names = [name for name, _desc in fields]
    matches = qs.order_by().select_related(None).prefetch_related(None).values_list("pk", *names)
    if limit is not None:
        matches = matches[:limit]
    inner, params = matches.query.sql_with_params()
    keys = [f"k{i}" for i in range(len(names))]
    # Walking backwards (a "previous" cursor) flips every key's direction.
    up = [forward != desc for _name, desc in fields]
    where = ""
    if values is not None:
        if len(set(up)) == 1:  # one direction: a row comparison
            cols, marks = ", ".join(keys), ", ".join(["%s"] * len(values))
            where = f"WHERE ({cols}) {'>' if up[0] else '<'} ({marks})"
            params = (*params, *values)
        else:  # mixed: (k0 > a) OR (k0 = a AND k1 < b) OR ...
            ors: list[str] = []
            tie: list[str] = []
            for key, value, key_up in zip(keys, values, up, strict=True):
                ors.append(" AND ".join([*tie, f"{key} {'>' if key_up else '<'} %s"]))
                params = (*params, *values[: len(tie)], value)
                tie.append(f"{key} = %s")
            where = "WHERE " + " OR ".join(f"({o})" for o in ors)
    order = ", ".join(
        f"{key}{'' if key_up else ' DESC'}" for key, key_up in zip(keys, up, strict=True)
    )
    sql = (
        f"WITH m(pk, {', '.join(keys)}) AS MATERIALIZED ({inner}) "  # noqa: S608 - our own SQL
        f"SELECT (SELECT count(*) FROM m), ARRAY(SELECT pk FROM m {where} "
        f"ORDER BY {order} LIMIT %s)"
    )
    return sql, (*params, size + 1)


@dataclass(frozen=True)
class Group(Generic[M]):
    """One column of a board: its first cards, how many it holds and the sum of a value."""

    key: Any
    items: list[M]
    count: int
    total: Any
    next_cursor: str | None  # for keyset_page(qs.filter(group=key), ...) to load more cards
    # The other sums asked for (`grouped_pages(aggregates=)`), by name; None for an empty group.
    values: Mapping[str, Any] = field(default_factory=dict)
    # `grouped_pages(cap=)`: the group holds more than `count` (= the cap) rows.
    capped: bool = False


def grouped_pages(
    qs: QuerySet[M],
    *,
    group_by: str,
    ordering: list[str],
    per_group: int,
    total: Any = None,
    groups: Sequence[Any] = (),
    aggregates: Mapping[str, Any] | None = None,
    cap: int | None = None,
    keep_sums: Callable[[Callable[[], dict[Any, Any]]], dict[Any, Any]] | None = None,
) -> list[Group[M]]:
    """The first `per_group` rows of every group of `qs` in `ordering` (any mix of directions;
    columns or annotations of `qs`), with each group's exact count, the sum of `total` (a field
    name or an expression) and the `aggregates` asked for (name -> aggregate expression, e.g.
    `{"weighted": Sum(...)}`, in `Group.values`). Two queries whatever the number of rows:

    1. the counts and sums: one grouped aggregate (`GROUP BY group_by`) over `qs`;
    2. the cards of the non-empty groups: ONE statement, a UNION ALL of one
       `WHERE group = key ORDER BY ... LIMIT per_group + 1` per group, each served by a
       (group, sort...) index when there is one, so it reads per_group + 1 rows a group instead
       of numbering every row (the window functions this replaced took 1.7 s for 100,000 leads).

    `groups` lists the columns to show in order, including empty ones (rows of other groups
    are neither counted nor read); without it, the groups found, in key order. Nothing is read
    for an empty group. Window annotations on `qs` still work (each is computed inside its
    group's read) but make that read visit the whole group: ask for sums with `aggregates`.

    `cap` (with `groups`, without sums): each group is counted up to `cap` + 1 rows, in one
    statement of one LIMITed count per group, and a group holding more says `capped` with
    `count` = cap. Exact counts read every row of `qs` (a lead board over a team's 108,000
    leads: 2,930 blocks of an index), capped ones at most cap + 1 rows a group.

    `keep_sums(compute)` may answer the first query from a cache: it returns `compute()`'s
    value (the sums by group), kept or computed (the deals board keeps them 30 s).
    """
    if cap is not None:
        if not groups or total is not None or aggregates:
            raise ValueError("grouped_pages(cap=) counts given groups, without sums")
        return _capped_groups(qs, group_by, ordering, per_group, list(groups), cap)
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    scope = qs.filter(**{f"{group_by}__in": list(groups)}) if groups else qs
    sums: dict[str, Any] = {"grouped_count": Count("pk")}
    if total is not None:
        sums["grouped_total"] = Sum(F(total) if isinstance(total, str) else total)
    sums.update({f"grouped_{name}": agg for name, agg in (aggregates or {}).items()})

    def compute() -> dict[Any, Any]:
        return {
            row[group_by]: row
            for row in scope.order_by()
            .select_related(None)
            .prefetch_related(None)
            .values(group_by)
            .annotate(**sums)
        }

    found = keep_sums(compute) if keep_sums is not None else compute()
    keys = list(groups) or sorted(found)
    heads = _group_heads(
        qs,
        group_by=group_by,
        ordering=ordering,
        keys=[k for k in keys if k in found],
        size=per_group + 1,
    )
    result = []
    for key in keys:
        sums_of = found.get(key)
        items = heads.get(key, [])
        more = len(items) > per_group
        items = items[:per_group]
        result.append(
            Group(
                key=key,
                items=items,
                count=sums_of["grouped_count"] if sums_of else 0,
                total=sums_of.get("grouped_total") if sums_of else None,
                next_cursor=_encode([getattr(items[-1], n) for n, _ in fields], "n")
                if more
                else None,
                values={
                    name: sums_of[f"grouped_{name}"] if sums_of else None
                    for name in aggregates or {}
                },
            )
        )
    return result


def _capped_groups(
    qs: QuerySet[M], group_by: str, ordering: list[str], per_group: int, keys: list[Any], cap: int
) -> list[Group[M]]:
    """`grouped_pages(cap=)`: the capped counts of `keys` in one statement (an array of one
    `count(*)` over a LIMITed read per group, in the keys' order), then their first rows."""
    parts: list[str] = []
    params: list[Any] = []
    for key in keys:
        try:
            sql, part = _bare(qs.filter(**{group_by: key}))[: cap + 1].query.sql_with_params()
        except EmptyResultSet:
            parts.append("0")
            continue
        parts.append(f"(SELECT count(*) FROM ({sql}) q)")  # noqa: S608 - the ORM's SQL
        params.extend(part)
    with connections[qs.db].cursor() as db:
        db.execute(f"SELECT ARRAY[{', '.join(parts)}]::bigint[]", params)
        counts = dict(zip(keys, db.fetchone()[0], strict=True))
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    found = [k for k in keys if counts[k]]
    heads = _group_heads(qs, group_by=group_by, ordering=ordering, keys=found, size=per_group + 1)
    result = []
    for key in keys:
        items = heads.get(key, [])
        more = len(items) > per_group
        items = items[:per_group]
        cursor = _encode([getattr(items[-1], n) for n, _ in fields], "n") if more else None
        capped = counts[key] > cap
        result.append(Group(key, items, cap if capped else counts[key], None, cursor, {}, capped))
    return result


def _group_heads(
    qs: QuerySet[M], *, group_by: str, ordering: list[str], keys: list[Any], size: int
) -> dict[Any, list[M]]:
    """The first `size` rows of each group in `keys`, in ONE query: a UNION ALL of one LIMITed
    read per group, sorted once more outside (at most len(keys) x size rows) because a UNION's
    order is not guaranteed."""
    if not keys:
        return {}
    parts = [qs.filter(**{group_by: key}).order_by(*ordering)[:size] for key in keys]
    rows = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    heads: dict[Any, list[M]] = defaultdict(list)
    for row in rows.order_by(*ordering) if len(parts) > 1 else rows:
        heads[getattr(row, group_by)].append(row)
    return heads


def _plans_name(model: type[Model]) -> str:
    return f"list-plans:{model._meta.label_lower}"


def bump_list_version(model: type[Model]) -> None:
    """Forget the list-plan hints of `model` at once (optional: hints expire by themselves;
    bulk writers such as imports and seed_demo still call it after loading many rows)."""
    versioned_cache.bump(_plans_name(model), on_commit=False)


def _hint_digest(hint_key: Hashable) -> str:
    return hashlib.blake2b(repr(hint_key).encode(), digest_size=12).hexdigest()


class ApiCursorPagination(CursorPagination):
    """REST framework's cursor pages, with a tampered cursor answered 400 and a message (the
    stock class answers 404, or 500 when the position is not a value of the ordering field)."""

    ordering = "id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        message = _("This cursor is not valid. Start again from the first page.")
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: [message]}) from exc
        if cursor is not None and cursor == Cursor(offset=0, reverse=False, position=None):
            # Decodes to nothing: this class never makes such a cursor (the first page has none).
            raise ValidationError({self.cursor_query_param: [message]})
        if cursor is not None and cursor.position is not None:
            ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
            field = self._model._meta.get_field(ordering.lstrip("-"))
            try:
                if "\x00" in str(cursor.position):
                    raise ValueError("NUL")
                cast("Field[Any, Any]", field).to_python(cursor.position)
            except (ValueError, DjangoValidationError) as exc:
                raise ValidationError({self.cursor_query_param: [message]}) from exc
        return cursor
