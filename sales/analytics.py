"""Pipeline performance over a period, measured from the stage history (never estimated).

* **Stage conversion**: of the stays that began in the period in each open stage, how many moved
  on (to a later open stage, or won), dropped (lost, or moved back), or are still there; the
  conversion is moved on / entered, and the mean days spent is over the stays that ended.
* **Velocity**: open deals x average won amount x win rate / average days from creation to a
  win, over the deals closed in the period: what the pipeline turns into per day.
* **Won and loss reasons**: the deals won and lost in the period, by reason, with their amounts.

Only deals the user may see (`accounts.access.scoped`), of one pipeline, not archived. Amounts
are in the reporting currency at today's rates; deals without a rate are left out of the sums
(and counted). Three queries, once per five minutes for a user's view (`cached_pipeline_metrics`:
the page says when its figures were computed and offers a refresh).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Avg, BooleanField, Count, F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts import access
from crm import cache as versioned_cache
from crm.pagination import estimated_rows, table_rows
from sales.currency import RateBook, converted, unconverted
from sales.models import Opportunity, Pipeline, Stage, StageKind

# A user's view of a pipeline's period is kept this long: ~100 ms of database work for a big
# team's quarter (bench/results/2026-12-01-sales-analytics-cache.md) that a quarter's figures do
# not need on every load. Edits of pipelines, stages, reasons and rates forget every entry.
CACHE_NAME = "sales-analytics"
CACHE_SECONDS = 300
TENTH = Decimal("0.1")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class StageMetric:
    stage: Stage
    entered: int = 0
    moved_on: int = 0
    dropped: int = 0
    still_there: int = 0
    avg_days: Decimal | None = None

    @property
    def conversion(self) -> Decimal | None:
        """Moved on as a percentage of the stays begun (None when none began)."""
        if not self.entered:
            return None
        return (Decimal(self.moved_on) * 100 / self.entered).quantize(TENTH)


@dataclass(frozen=True)
class Velocity:
    open_deals: int
    won: int
    lost: int
    won_amount: Decimal
    cycle_days: Decimal | None  # mean days from creation to the win, deals won in the period
    unconverted: int = 0

    @property
    def win_rate(self) -> Decimal | None:
        closed = self.won + self.lost
        return (Decimal(self.won) * 100 / closed).quantize(TENTH) if closed else None

    @property
    def average_won(self) -> Decimal | None:
        return (self.won_amount / self.won).quantize(CENT) if self.won else None

    @property
    def per_day(self) -> Decimal | None:
        """Open deals x average won amount x win rate / sales cycle (days); None when any part
        is unknown (nothing won or closed in the period)."""
        if not self.won or not self.cycle_days:
            return None
        rate = Decimal(self.won) / (self.won + self.lost)
        value = (
            self.open_deals * (self.won_amount / self.won) * rate / max(self.cycle_days, Decimal(1))
        )
        return value.quantize(CENT)


@dataclass(frozen=True)
class ReasonRow:
    name: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class PipelineMetrics:
    pipeline: Pipeline
    stages: list[StageMetric]
    velocity: Velocity
    loss_reasons: list[ReasonRow]
    currency: str
    won_reasons: list[ReasonRow]


# The stays begun in the period, from the period's stage changes: `stagechange_to_at_opp_id`
# holds (stage, time) with the deal and the change's id, so the period's changes are one
# index-only range (56,089 entries, 357 pages for a quarter at 300,000 deals) and a stay's end
# is the deal's next change in it (LEAD in (time, id) order). Only a deal's last stay in the
# period can end after it, and only if the deal has moved since the period ended; just those
# deals are probed for their first later change (`stagechange_opp_at_to`, index only).
#
# Both rest on `stage_entered_at` being the time of the deal's latest change (the services set
# both from one `now`): a deal with a change in the period entered its stage at or after the
# period's start, so the scope is read only from there (`stage_entered_at >= start` with the
# pipeline's stages: a range of the board indexes, 8,923 of a team's 62,663 deals this quarter),
# and one that entered it at or after the period's end has changes after it.
#
# The visible deals, two ways. A scope the planner expects under half the table (a team, a rep,
# and everyone's recent deals) is read whole and hash-joined with the period's changes. A
# wider one (a past period of an administrator's every deal) is probed by primary key for the
# deals with a stay begun in the period (`touched`), so never a sequential scan of the deals.
# `period` is read where it is used (NOT MATERIALIZED: a tuplestore of its rows and their
# merge-join sort cost more database CPU than the second index range `touched` adds).
# Stage kinds and order come in as arrays (open ids by position, won ids), so each stay is
# classified without joining stages per row. Before 2026-12-01 every visible touched deal's
# whole history was read, ~4 pages a deal: 35,422 buffers and ~140 ms of database CPU for a
# team at 300,000 deals (bench/results/2026-12-01-sales-analytics.md).
_STAGE_SQL = """
WITH period AS NOT MATERIALIZED (
    SELECT opportunity_id AS opp, id, to_stage_id, at FROM sales_stagechange
    WHERE to_stage_id = ANY(%s::bigint[]) AND at >= %s AND at < %s
),
touched AS MATERIALIZED (
    SELECT DISTINCT opp AS id FROM period WHERE to_stage_id = ANY(%s::bigint[])
),
visible AS MATERIALIZED ({deals}),
moves AS MATERIALIZED (
    SELECT p.opp, p.to_stage_id, p.at, v.stage_entered_at >= %s AS moved_since,
           LEAD(p.at) OVER w AS left_at,
           LEAD(p.to_stage_id) OVER w AS next_stage_id
    FROM period p JOIN visible v ON v.pk = p.opp
    WINDOW w AS (PARTITION BY p.opp ORDER BY p.at, p.id)
),
stays AS (
    SELECT m.to_stage_id, m.at,
           COALESCE(m.left_at, later.at) AS left_at,
           COALESCE(m.next_stage_id, later.to_stage_id) AS next_stage_id
    FROM moves m
    LEFT JOIN LATERAL (
        SELECT sc.at, sc.to_stage_id FROM sales_stagechange sc
        WHERE m.left_at IS NULL AND m.moved_since
          AND sc.opportunity_id = m.opp AND sc.at >= %s
        ORDER BY sc.at, sc.id
        LIMIT 1
    ) later ON true
    WHERE m.to_stage_id = ANY(%s::bigint[])
),
classified AS (
    SELECT s.*, COALESCE(
        s.next_stage_id = ANY(%s::bigint[])
        OR array_position(%s::bigint[], s.next_stage_id)
           > array_position(%s::bigint[], s.to_stage_id),
        false) AS forward
    FROM stays s
)
SELECT to_stage_id,
       COUNT(*),
       COUNT(*) FILTER (WHERE forward),
       COUNT(*) FILTER (WHERE next_stage_id IS NOT NULL AND NOT forward),
       COUNT(*) FILTER (WHERE next_stage_id IS NULL),
       AVG(EXTRACT(EPOCH FROM left_at - at) / 86400) FILTER (WHERE left_at IS NOT NULL)
FROM classified
GROUP BY to_stage_id
"""
NARROW_SCOPE_SHARE = 0.5


def _narrow(deals: QuerySet[Opportunity]) -> bool:
    """Whether the planner expects `deals` to be under NARROW_SCOPE_SHARE of the table (one
    EXPLAIN; the table's size is cached)."""
    table = table_rows(Opportunity, deals.db)
    return table > 0 and estimated_rows(deals) < table * NARROW_SCOPE_SHARE


_TOUCHED = RawSQL(
    '"sales_opportunity"."id" = ANY(ARRAY(SELECT id FROM touched))',
    (),
    output_field=BooleanField(),
)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), zone),
        timezone.make_aware(dt.datetime.combine(end, dt.time.min), zone),
    )


def stage_metrics(
    *,
    deals: QuerySet[Opportunity],
    stages: list[Stage],
    start: dt.date,
    end: dt.date,
    narrow: bool | None = None,
) -> list[StageMetric]:
    """Per open stage of `stages`, the stays begun in [start, end) by `deals` (scoped, one
    pipeline) and what became of them. One query, and an EXPLAIN of the scope unless `narrow`
    says how to read it (a narrow scope is read whole, a wide one probed by id)."""
    since, until = _bounds(start, end)
    ordered = sorted(stages, key=lambda s: (s.position, s.pk))
    open_ids = [s.pk for s in ordered if s.kind == StageKind.OPEN]
    won_ids = [s.pk for s in ordered if s.kind == StageKind.WON]
    # Only deals that entered their stage since the start can have a change in the period.
    deals = deals.filter(stage_entered_at__gte=since, stage_id__in=[s.pk for s in stages])
    if narrow is None:
        narrow = _narrow(deals)
    visible = (deals if narrow else deals.filter(_TOUCHED)).values("pk", "stage_entered_at")
    found: dict[int, tuple[Any, ...]] = {}
    try:
        deals_sql, deals_params = visible.query.sql_with_params()
    except EmptyResultSet:  # a role that sees no deal: nothing to read
        deals_sql = ""
    if deals_sql:
        sql = _STAGE_SQL.format(deals=deals_sql)
        params = [
            [s.pk for s in stages], since, until, open_ids,
            *deals_params,
            until, until, open_ids, won_ids, open_ids, open_ids,
        ]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {row[0]: row[1:] for row in cursor.fetchall()}
    metrics = []
    for stage in stages:
        if stage.kind != StageKind.OPEN:
            continue
        entered, moved_on, dropped, still, days = found.get(stage.pk, (0, 0, 0, 0, None))
        metrics.append(
            StageMetric(
                stage=stage,
                entered=entered,
                moved_on=moved_on,
                dropped=dropped,
                still_there=still,
                avg_days=None if days is None else Decimal(days).quantize(TENTH),
            )
        )
    return metrics


def velocity(
    *, deals: QuerySet[Opportunity], start: dt.date, end: dt.date, book: RateBook
) -> Velocity:
    """Open deals now, and the deals won and lost in [start, end) with the won amount and the
    mean days from creation to the win. One query."""
    since, until = _bounds(start, end)
    day = timezone.localdate()
    amount = converted("amount", book=book, date=day)
    missing = unconverted(book=book, date=day)
    in_period = Q(closed_at__gte=since, closed_at__lt=until)
    won = in_period & Q(stage__kind=StageKind.WON)
    # Only open deals and those closed in the period count: read just those (the open ones
    # and a range of `opp_closed_cover`), not every deal of the scope.
    row: dict[str, Any] = deals.filter(Q(closed_at__isnull=True) | in_period).aggregate(
        open_deals=Count("pk", filter=Q(closed_at__isnull=True)),
        won=Count("pk", filter=won),
        lost=Count("pk", filter=in_period & Q(stage__kind=StageKind.LOST)),
        won_amount=Sum(amount, filter=won & ~missing),
        unconverted=Count("pk", filter=won & missing),
        cycle=Avg(F("closed_at") - F("created_at"), filter=won),
    )
    cycle = row["cycle"]
    return Velocity(
        open_deals=row["open_deals"],
        won=row["won"],
        lost=row["lost"],
        won_amount=Decimal(row["won_amount"] or 0).quantize(CENT),
        cycle_days=None
        if cycle is None
        else Decimal(cycle.total_seconds() / 86400).quantize(TENTH),
        unconverted=row["unconverted"],
    )


def close_reasons(
    *, deals: QuerySet[Opportunity], start: dt.date, end: dt.date, book: RateBook
) -> tuple[list[ReasonRow], list[ReasonRow]]:
    """The deals won and the deals lost in [start, end) by reason, most first (won, lost).
    One query."""
    since, until = _bounds(start, end)
    amount = converted("amount", book=book, date=timezone.localdate())
    missing = unconverted(book=book, date=timezone.localdate())
    rows = (
        deals.filter(
            stage__kind__in=(StageKind.WON, StageKind.LOST),
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .values("stage__kind", "loss_reason__name", "won_reason__name")
        .annotate(n=Count("pk"), total=Sum(amount, filter=~missing))
        .order_by("-n", "loss_reason__name", "won_reason__name")
    )
    won: list[ReasonRow] = []
    lost: list[ReasonRow] = []
    for r in rows:
        is_won = r["stage__kind"] == StageKind.WON
        name = (r["won_reason__name"] if is_won else r["loss_reason__name"]) or ""
        row = ReasonRow(name, r["n"], Decimal(r["total"] or 0).quantize(CENT))
        (won if is_won else lost).append(row)
    return won, lost


def pipeline_metrics(
    *, deals: QuerySet[Opportunity], pipeline: Pipeline, start: dt.date, end: dt.date
) -> PipelineMetrics:
    """Everything the page shows, for `deals` (the user's scoped deals, narrowed to an owner
    or team by the caller) of `pipeline`."""
    book = RateBook.load()
    mine = deals.filter(pipeline=pipeline, archived_at__isnull=True).select_related(None)
    stages = list(pipeline.stages.order_by("position", "id"))
    won, lost = close_reasons(deals=mine, start=start, end=end, book=book)
    return PipelineMetrics(
        pipeline=pipeline,
        stages=stage_metrics(deals=mine, stages=stages, start=start, end=end),
        velocity=velocity(deals=mine, start=start, end=end, book=book),
        loss_reasons=lost,
        currency=book.to_currency,
        won_reasons=won,
    )


@dataclass(frozen=True)
class Computed:
    """Metrics and when they were computed (the page shows it)."""

    metrics: PipelineMetrics
    at: dt.datetime


def cached_pipeline_metrics(
    *,
    user: Any,
    view: str,
    deals: QuerySet[Opportunity],
    pipeline: Pipeline,
    start: dt.date,
    end: dt.date,
    fresh: bool = False,
) -> Computed:
    """`pipeline_metrics`, kept CACHE_SECONDS for this user's `view` ("me", "team", "all") of
    this pipeline and period; `fresh` computes them anew (and keeps those). The key holds
    `access.scope_signature`, so a move to another team or a change of roles is a new entry at
    once; a record shared or unshared shows within CACHE_SECONDS."""
    parts = (access.scope_signature(user), view, pipeline.pk, start, end)
    key = ":".join(str(part) for part in parts)
    version, found = versioned_cache.lookup(CACHE_NAME, key)
    if found is not None and not fresh:
        return found
    computed = Computed(
        pipeline_metrics(deals=deals, pipeline=pipeline, start=start, end=end), timezone.now()
    )
    versioned_cache.store(CACHE_NAME, key, version, computed, CACHE_SECONDS)
    return computed
