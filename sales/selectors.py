"""Reads of opportunities: every one starts from `accounts.access.scoped`.

The board reads a pipeline's columns with `crm.pagination.grouped_pages`: each stage's first
cards, its count, total and weighted total in one query, whatever the number of deals; a
column's next cards come from `keyset_page` on the same ordering (`BOARD_ORDERING`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts import access
from accounts.models import Scope
from contacts.models import Company, Contact
from crm import cache as versioned_cache
from crm.pagination import grouped_pages, keyset_page
from crm.tags import attach_row_tags
from sales.cards import Card, CardMaker, stage_options
from sales.currency import MissingRate, RateBook, converted, missing_message, unconverted
from sales.models import (
    ForecastAccuracy,
    ForecastLine,
    ForecastLineKind,
    ForecastRun,
    ForecastRunStatus,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)

if TYPE_CHECKING:
    from accounts.models import User

# Longest in the stage first: the cards that need attention are on top.
BOARD_ORDERING = ["stage_entered_at", "id"]
CARDS_PER_COLUMN = 12
# The board's column sums (count, total, weighted) by user, filters and day: ~24 ms of a big
# team's board at 300,000 deals (bench/results/2026-12-01-modules-1m-rep.md) that a reload
# need not redo. A deal's save or delete forgets them all; what no save announces (a bulk
# update) shows within BOARD_SUMS_SECONDS. A move answers with totals computed anew.
BOARD_SUMS = "sales-board-sums"
BOARD_SUMS_SECONDS = 30
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
    "tag_ids",
)


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    """The deals `user` may see, with what a row, a card, an export and the API read."""
    return access.scoped(user, Opportunity).select_related("company", "owner", "stage")


def pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.order_by("position", "id")


@dataclass
class Column:
    stage: Stage
    cards: list[Card]
    count: int
    total: Decimal
    weighted: Decimal
    next_cursor: str | None
    unconverted: int = 0  # deals left out of the totals: no exchange rate for their currency
    stage_options: str = ""  # its cards' stage menu (`sales.cards.stage_options`)
    html: str = ""  # its cards' markup, written by the view (`sales.cards.CardPage`)


def board_cards(qs: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """What a card reads from the deal itself: no joins, so the board's window query reads
    only the deals' index and rows (a join with every company made it hash the company table);
    `attach_card_relations` adds the company and owner of the cards shown."""
    return qs.select_related(None).only(*CARD_FIELDS)


def attach_card_relations(cards: Sequence[Opportunity]) -> None:
    """The shown cards' companies and owners, two queries by primary key whatever the number
    of deals (the cards came through the permission layer; their company names are shown as
    part of the deal, as on the deal's page)."""
    from accounts.models import User

    company_ids = {card.company_id for card in cards if card.company_id}
    owner_ids = {card.owner_id for card in cards if card.owner_id}
    companies = Company.objects.only("id", "name").in_bulk(company_ids) if company_ids else {}
    owners = (
        User.objects.only("id", "first_name", "last_name", "email", "name_order").in_bulk(owner_ids)
        if owner_ids
        else {}
    )
    attach_row_tags(cards)  # badges from the cached labels: no query
    for card in cards:
        if card.company_id:
            card.company = companies.get(card.company_id)
        if card.owner_id in owners:
            card.owner = owners[card.owner_id]


def _reporting(book: RateBook | None, date: dt.date | None) -> tuple[Any, Any, Q]:
    """The amount and weighted amount in the reporting currency, and the rows that cannot be
    converted (no rate), as expressions."""
    if book is None:
        return F("amount"), WEIGHTED, Q(pk__in=[])
    day = date or timezone.localdate()
    amount = converted("amount", book=book, date=day)
    weighted = ExpressionWrapper(
        amount * F("probability") / 100, output_field=DecimalField(max_digits=28, decimal_places=8)
    )
    return amount, weighted, unconverted(book=book, date=day)


def board_sums(*, book: RateBook | None, date: dt.date | None = None) -> tuple[Any, dict[str, Any]]:
    """The converted amount `grouped_pages` sums per column (its `total`), and the other sums
    of a column: the weighted total and the deals without a rate (`aggregates`)."""
    amount, weighted_amount, missing = _reporting(book, date)
    return amount, {
        "weighted": Sum(weighted_amount),
        "unconverted": Count("pk", filter=missing),
    }


def board_columns(
    *,
    qs: QuerySet[Opportunity],
    stages: list[Stage],
    per_column: int = CARDS_PER_COLUMN,
    book: RateBook | None = None,
    date: dt.date | None = None,
    closed_since: dt.datetime | None = None,
    sums_key: str | None = None,
) -> list[Column]:
    """Every stage's first cards, count, total and weighted total, in two queries (four with
    `closed_since`) whatever the number of deals (`crm.pagination.grouped_pages`: the columns'
    sums grouped by stage, then each column's first cards; `qs` is the user's filtered, scoped
    deals of one pipeline).
    With a `book`, totals are in its currency at the rates of `date` (today), and deals without
    a rate are counted, not added. With `sums_key` (the user, the filters and the day: the
    caller's) the columns' sums are kept BOARD_SUMS_SECONDS in the cache, forgotten when a deal
    is saved or deleted (`sales.apps`); the cards are read every time."""
    amount, sums = board_sums(book=book, date=date)
    # Won and lost columns read only the deals that entered them since `closed_since` (a
    # closed deal's stage_entered_at is its closed_at): a range of the board index, instead
    # of walking years of closed deals in card order to find the recent ones.
    parts = [(qs, stages)]
    if closed_since is not None:
        parts = [
            (qs, [s for s in stages if s.kind == StageKind.OPEN]),
            (
                qs.filter(stage_entered_at__gte=closed_since),
                [s for s in stages if s.kind != StageKind.OPEN],
            ),
        ]
    found: dict[int, Any] = {}
    for index, (part, part_stages) in enumerate(parts):
        if not part_stages:
            continue
        keys = [s.pk for s in part_stages]
        keep = None
        if sums_key is not None:
            keep = functools.partial(_keep_sums, f"{sums_key}:{index}")
        read = grouped_pages(
            board_cards(part),
            group_by="stage_id",
            ordering=BOARD_ORDERING,
            per_group=per_column,
            total=amount,
            groups=keys,
            aggregates=sums,
            keep_sums=keep,
        )
        found.update(zip(keys, read, strict=True))
    groups = [found[s.pk] for s in stages]
    columns = []
    maker = CardMaker(now=timezone.now())
    attach_card_relations([card for group in groups for card in group.items])
    for stage, group in zip(stages, groups, strict=True):
        columns.append(
            Column(
                stage=stage,
                cards=maker.cards(group.items, stage=stage),
                count=group.count,
                total=_money(group.total),
                weighted=_money(group.values.get("weighted")),
                next_cursor=group.next_cursor,
                unconverted=group.values.get("unconverted") or 0,
                stage_options=stage_options(stages, selected=stage.pk),
            )
        )
    return columns


def _keep_sums(key: str, compute: Callable[[], dict[Any, Any]]) -> dict[Any, Any]:
    return versioned_cache.get_or_compute(BOARD_SUMS, key, compute, BOARD_SUMS_SECONDS)


def board_column_page(
    *,
    qs: QuerySet[Opportunity],
    stage: Stage,
    cursor: str | None,
    size: int = CARDS_PER_COLUMN,
    closed_since: dt.datetime | None = None,
) -> tuple[list[Card], str | None]:
    """A column's next cards after `cursor` (one query) and the cursor after them; a won or
    lost column's since `closed_since`, as on the board."""
    rows = qs.filter(stage=stage)
    if closed_since is not None and stage.kind != StageKind.OPEN:
        rows = rows.filter(stage_entered_at__gte=closed_since)
    page = keyset_page(board_cards(rows), ordering=BOARD_ORDERING, cursor=cursor, size=size)
    attach_card_relations(page.items)
    return CardMaker(now=timezone.now()).cards(page.items, stage=stage), page.next_cursor


def column_totals(
    *,
    qs: QuerySet[Opportunity],
    book: RateBook | None = None,
    date: dt.date | None = None,
    closed_since: dt.datetime | None = None,
) -> dict[int, dict[str, Any]]:
    """Count, total and weighted total per stage (one query): what a move changes; a won or
    lost stage's of the deals that entered it since `closed_since`, as on the board."""
    amount, weighted_amount, _missing = _reporting(book, date)
    if closed_since is not None:
        qs = qs.filter(Q(stage__kind=StageKind.OPEN) | Q(stage_entered_at__gte=closed_since))
    rows = (
        qs.order_by()
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum(amount), weighted=Sum(weighted_amount))
    )
    return {
        row["stage_id"]: {
            "count": row["count"],
            "total": _money(row["total"]),
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
    """One period's numbers for a set of deals (see `forecast`), in `currency`."""

    start: dt.date
    end: dt.date  # exclusive
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    quota: Decimal | None
    currency: str = ""
    missing: str = ""  # amounts left out for want of an exchange rate (a message)

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
    book: RateBook | None = None,
    summed: DealSums | None = None,
) -> Forecast:
    """Closed won (deals won with `closed_at` in [start, end)), the open deals expected to close
    in the period by the forecast category their rep set (commit, best case = commit + best
    case, pipeline = every open deal), the weighted pipeline (amount x probability), and the
    quota of `owner` or `team_id` (neither: every deal `user` may see, against the company's
    quota, the sum of the team quotas) for the months of the period. Only deals `user` may see.

    Everything is in the reporting currency (`book`, default: every stored rate, one query): a
    won deal at the rate of the day it closed, an open deal at the rate of today (or of the
    period's last day, for a past period), a quota at the rate of its month. Amounts with no
    rate are left out and named in `missing`. Four queries; two when `summed` gives the sums of
    the same deals (`rep_forecast.rep_breakdown` reads them by owner and adds them up)."""
    from sales.models import ForecastCategory, Quota

    book = book or RateBook.load()
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
    counted = open_in_period & ~Q(forecast_category=ForecastCategory.OMITTED)
    zero = Decimal("0")
    missing: set[str] = set()
    open_day = min(timezone.localdate(), end - dt.timedelta(days=1))

    def convert(amount: Decimal | None, currency: str, day: dt.date) -> Decimal:
        try:
            return book.convert(amount or zero, currency, day)
        except MissingRate:
            missing.add(currency)
            return zero

    won_rows: Iterable[dict[str, Any]] = (
        summed.won
        if summed is not None
        else deals.filter(stage__kind=StageKind.WON, closed_at__gte=start_at, closed_at__lt=end_at)
        .order_by()
        .values("currency", day=TruncDate("closed_at", tzinfo=tz))
        .annotate(total=Sum("amount"))
    )
    closed_won = sum((convert(r["total"], r["currency"], r["day"]) for r in won_rows), zero)
    open_rows: Iterable[dict[str, Any]] = (
        summed.open
        if summed is not None
        else deals.filter(open_in_period)
        .order_by()
        .values("currency")
        .annotate(
            commit=Sum("amount", filter=Q(forecast_category=ForecastCategory.COMMIT)),
            best=Sum("amount", filter=Q(forecast_category=ForecastCategory.BEST_CASE)),
            pipeline=Sum("amount", filter=counted),
            weighted=Sum(WEIGHTED, filter=counted),
        )
    )
    sums = {"commit": zero, "best": zero, "pipeline": zero, "weighted": zero}
    for row in open_rows:
        for key in sums:
            sums[key] += convert(row[key], row["currency"], open_day)
    quota = None
    quotas = Quota.objects.filter(month__gte=start, month__lt=end)
    if owner is not None:
        quotas = quotas.filter(user=owner)
    elif team_id is not None:
        quotas = quotas.filter(team_id=team_id)
    else:  # the company's quota: the sum of the team quotas
        quotas = quotas.filter(team__isnull=False)
    rows = list(quotas.values_list("amount", "currency", "month"))
    if rows:
        quota = sum((convert(a, c, m) for a, c, m in rows), zero)
    commit = sums["commit"]
    return Forecast(
        start=start,
        end=end,
        closed_won=closed_won,
        commit=commit,
        best_case=commit + sums["best"],
        pipeline=sums["pipeline"],
        weighted=_money(sums["weighted"]),
        quota=quota,
        currency=book.to_currency,
        missing=missing_message(missing, book=book, date=open_day),
    )


@dataclass(frozen=True)
class DealSums:
    """The sums `forecast` reads, computed elsewhere from the same deals: won amounts by currency
    and closing day ({"currency", "day", "total"}) and open amounts by currency ({"currency",
    "commit", "best", "pipeline", "weighted"})."""

    won: list[dict[str, Any]]
    open: list[dict[str, Any]]


@dataclass(frozen=True)
class StatisticalForecast:
    """The latest run of the statistical forecast for the company (team None) or a team."""

    run: ForecastRun | None
    team_id: int | None
    forecast: list[ForecastLine]
    backtest: list[ForecastLine]
    accuracy: ForecastAccuracy | None

    @property
    def ready(self) -> bool:
        return self.run is not None and self.run.status == ForecastRunStatus.DONE

    @property
    def beats_baseline(self) -> bool | None:
        a = self.accuracy
        if a is None or a.mape is None or a.baseline_mape is None:
            return None
        return a.mape < a.baseline_mape


def may_see_company_forecast(user: User) -> bool:
    """Company-wide figures are for those who may see every deal."""
    return user.is_superuser or access.role_data(user).view_scope == Scope.ALL


def statistical_forecast(*, user: User, team_id: int | None) -> StatisticalForecast | None:
    """The latest run's lines for `team_id` (None: the company), or None when `user` may not see
    them (a team's figures: its members and those who see every deal). Three queries."""
    if team_id is None and not may_see_company_forecast(user):
        return None
    if team_id is not None and team_id != user.team_id and not may_see_company_forecast(user):
        return None
    run = ForecastRun.objects.order_by("-created_at", "-id").first()
    if run is None or run.status != ForecastRunStatus.DONE:
        return StatisticalForecast(run, team_id, [], [], None)
    team = Q(team__isnull=True) if team_id is None else Q(team_id=team_id)
    lines = list(ForecastLine.objects.filter(team, run=run).order_by("kind", "month"))
    accuracy = ForecastAccuracy.objects.filter(team, run=run).first()
    return StatisticalForecast(
        run=run,
        team_id=team_id,
        forecast=[line for line in lines if line.kind == ForecastLineKind.FORECAST],
        backtest=[line for line in lines if line.kind == ForecastLineKind.BACKTEST],
        accuracy=accuracy,
    )


def contact_roles(*, opportunity: Opportunity) -> list[OpportunityContact]:
    """The deal's contacts with their roles, decision makers first (one query); the caller
    fetched the deal through the permission layer."""
    return list(
        OpportunityContact.objects.filter(opportunity=opportunity)
        .select_related("contact", "contact__company")
        .order_by("role", "contact__sort_name", "id")
    )


def contact_suggestions(*, user: User, opportunity: Opportunity, query: str) -> list[Contact]:
    """Contacts for the deal's picker, only ones `user` may see: matches of `query` (the
    contacts search), or without a query the contacts of the deal's company."""
    from contacts.selectors import contact_search

    if query.strip():
        return contact_search(user=user, query=query, limit=8)
    if opportunity.company_id is None:
        return []
    return list(
        access.scoped(user, Contact)
        .filter(company_id=opportunity.company_id, archived_at__isnull=True)
        .select_related("company")
        .order_by("sort_name", "id")[:8]
    )
