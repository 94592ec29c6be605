"""Reads of opportunities: every one starts from `accounts.access.scoped`.

The board reads a pipeline's columns with `crm.pagination.grouped_pages`: each stage's first
cards, its count, total and weighted total in one query, whatever the number of deals; a
column's next cards come from `keyset_page` on the same ordering (`BOARD_ORDERING`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum, Window
from django.utils import timezone

from accounts import access
from crm.pagination import Page, grouped_pages, keyset_page
from sales.models import Opportunity, Pipeline, Stage, StageChange, StageKind

if TYPE_CHECKING:
    from accounts.models import User

# Longest in the stage first: the cards that need attention are on top.
BOARD_ORDERING = ["stage_entered_at", "id"]
CARDS_PER_COLUMN = 12
WEIGHTED = ExpressionWrapper(
    F("amount") * F("probability") / 100,
    output_field=DecimalField(max_digits=18, decimal_places=4),
)
CARD_FIELDS = (
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "score",
    "stage_entered_at",
    "stage_id",
    "pipeline_id",
    "owner_id",
    "team_id",
    "company_id",
    "company__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
    "owner__name_order",
)


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """The deals `user` may see, with what a row, a card, an export and the API read."""
    return access.scoped(user, Opportunity).select_related("company", "owner", "stage")


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.order_by("position", "id")


@dataclass
class Column:
    stage: Stage
    cards: list[Opportunity]
    count: int
    total: Decimal
    weighted: Decimal
    next_cursor: str | None


def board_cards(qs: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What a card reads (one query with the company and owner)."""
    return qs.select_related("company", "owner").only(*CARD_FIELDS)


def board_columns(
    *, qs: QuerySet[Opportunity], stages: list[Stage], per_column: int = CARDS_PER_COLUMN
) -> list[Column]:
    """Every stage's first cards, count, total and weighted total, in ONE query (`qs` is the
    user's filtered, scoped deals of one pipeline)."""
    weighted = Window(Sum(WEIGHTED), partition_by=[F("stage_id")])
    groups = grouped_pages(
        board_cards(qs).annotate(group_weighted=weighted),
        group_by="stage_id",
        ordering=BOARD_ORDERING,
        per_group=per_column,
        total="amount",
        groups=[s.pk for s in stages],
    )
    columns = []
    now = timezone.now()
    for stage, group in zip(stages, groups, strict=True):
        first = group.items[0] if group.items else None
        mark_cards(group.items, stage=stage, now=now)
        columns.append(
            Column(
                stage=stage,
                cards=list(group.items),
                count=group.count,
                total=group.total or Decimal("0"),
                weighted=_money(getattr(first, "group_weighted", None)),
                next_cursor=group.next_cursor,
            )
        )
    return columns


def board_column_page(
    *, qs: QuerySet[Opportunity], stage: Stage, cursor: str | None, size: int = CARDS_PER_COLUMN
) -> Page[Opportunity]:
    """A column's next cards after `cursor` (one query)."""
    page = keyset_page(
        board_cards(qs.filter(stage=stage)), ordering=BOARD_ORDERING, cursor=cursor, size=size
    )
    mark_cards(page.items, stage=stage, now=timezone.now())
    return page


def mark_cards(cards: Sequence[Opportunity], *, stage: Stage, now: dt.datetime) -> None:
    """Give each card of a column its days in stage and whether it is stalled (an open stage's
    deal that stayed longer than the stage's `stall_days`)."""
    for card in cards:
        days = days_in_stage(card, now=now)
        card.days_in_stage = days  # type: ignore[attr-defined]
        card.stalled = stage.kind == StageKind.OPEN and days > stage.stall_days  # type: ignore[attr-defined]


def column_totals(*, qs: QuerySet[Opportunity]) -> dict[int, dict[str, Any]]:
    """Count, total and weighted total per stage (one query): what a move changes."""
    rows = (
        qs.order_by()
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("amount"), weighted=Sum(WEIGHTED))
    )
    return {
        row["stage_id"]: {
            "count": row["count"],
            "total": row["total"] or Decimal("0"),
            "weighted": _money(row["weighted"]),
        }
        for row in rows
    }


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def days_in_stage(opportunity: Opportunity, *, now: dt.datetime | None = None) -> int:
    """Whole days since the deal entered its current stage."""
    now = now or timezone.now()
    return max(0, (now - opportunity.stage_entered_at).days)


@dataclass(frozen=True)
class StageStay:
    """One stay of a deal in a stage: when it entered, when it left (None: still there)."""

    change: StageChange
    stage: Stage
    entered: dt.datetime
    left: dt.datetime | None

    def duration(self, now: dt.datetime) -> dt.timedelta:
        return (self.left or now) - self.entered


def stage_history(*, opportunity: Opportunity) -> list[StageStay]:
    """The deal's stays in stages, oldest first (one query); the caller fetched the deal
    through the permission layer."""
    changes = list(
        StageChange.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "by")
        .order_by("at", "id")
    )
    stays = []
    for i, change in enumerate(changes):
        left = changes[i + 1].at if i + 1 < len(changes) else None
        stays.append(StageStay(change=change, stage=change.to_stage, entered=change.at, left=left))
    return stays


def time_in_stages(
    *, opportunity: Opportunity, now: dt.datetime | None = None
) -> dict[int, dt.timedelta]:
    """Total time the deal has spent in each stage (stage id -> time), counting every stay: a
    deal that went back to a stage adds its second stay to the first."""
    now = now or timezone.now()
    totals: dict[int, dt.timedelta] = {}
    for stay in stage_history(opportunity=opportunity):
        totals[stay.stage.pk] = totals.get(stay.stage.pk, dt.timedelta(0)) + stay.duration(now)
    return totals


def opportunity_search(*, user: User, query: str, limit: int) -> list[Opportunity]:
    """The global search's deals: names containing `query` (trigram index), newest first."""
    return list(
        opportunity_list(user=user)
        .filter(archived_at__isnull=True, name__icontains=query)
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class Forecast:
    """One period's numbers for a set of deals (see `forecast`)."""

    start: dt.date
    end: dt.date  # exclusive
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    quota: Decimal | None

    @property
    def attainment(self) -> Decimal | None:
        """Closed won as a percentage of the quota (None without a quota)."""
        if not self.quota:
            return None
        return (self.closed_won * 100 / self.quota).quantize(Decimal("0.1"))

    @property
    def forecast_commit(self) -> Decimal:
        """What the reps stand behind: closed won plus commit."""
        return self.closed_won + self.commit


def forecast(
    *,
    user: User,
    start: dt.date,
    end: dt.date,
    owner: User | None = None,
    team_id: int | None = None,
) -> Forecast:
    """Closed won (deals won with `closed_at` in [start, end)), the open deals expected to close
    in the period by the forecast category their rep set (commit, best case = commit + best
    case, pipeline = every open deal), the weighted pipeline (amount x probability), and the
    quota of `owner` or `team_id` for the months of the period. Only deals `user` may see; two
    queries. Amounts are added as entered (one currency assumed: conversion is not built yet).
    """
    from django.db.models import Q

    from sales.models import ForecastCategory, Quota

    deals = access.scoped(user, Opportunity).filter(archived_at__isnull=True)
    if owner is not None:
        deals = deals.filter(owner=owner)
    elif team_id is not None:
        deals = deals.filter(team_id=team_id)
    tz = timezone.get_current_timezone()
    start_at = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    end_at = dt.datetime.combine(end, dt.time.min, tzinfo=tz)
    open_in_period = Q(
        closed_at__isnull=True, expected_close_date__gte=start, expected_close_date__lt=end
    )
    zero = Decimal("0")
    sums = deals.aggregate(
        closed_won=Sum(
            "amount",
            filter=Q(stage__kind=StageKind.WON, closed_at__gte=start_at, closed_at__lt=end_at),
        ),
        commit=Sum("amount", filter=open_in_period & Q(forecast_category=ForecastCategory.COMMIT)),
        best=Sum("amount", filter=open_in_period & Q(forecast_category=ForecastCategory.BEST_CASE)),
        pipeline=Sum(
            "amount", filter=open_in_period & ~Q(forecast_category=ForecastCategory.OMITTED)
        ),
        weighted=Sum(
            WEIGHTED, filter=open_in_period & ~Q(forecast_category=ForecastCategory.OMITTED)
        ),
    )
    quota = None
    quotas = Quota.objects.filter(month__gte=start, month__lt=end)
    if owner is not None:
        quota = quotas.filter(user=owner).aggregate(total=Sum("amount"))["total"]
    elif team_id is not None:
        quota = quotas.filter(team_id=team_id).aggregate(total=Sum("amount"))["total"]
    commit = sums["commit"] or zero
    return Forecast(
        start=start,
        end=end,
        closed_won=sums["closed_won"] or zero,
        commit=commit,
        best_case=commit + (sums["best"] or zero),
        pipeline=sums["pipeline"] or zero,
        weighted=_money(sums["weighted"]),
        quota=quota,
    )
