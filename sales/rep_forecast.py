"""The forecast per rep (issue 28): the breakdown table of the team and company forecast, and
who may open one rep's forecast.

Who may open a rep's forecast (`may_open_rep`): the rep themselves, and whoever sets that rep's
quotas (`sales.quotas.quota_targets`: a sales manager their team-mates, an administrator
everyone). Anyone else gets a 404, as for a record they may not see. The breakdown is shown to
those who set quotas (a rep's team view shows the team's totals, not their team-mates' quotas);
a row links to the rep's forecast when its reader may open it.

`rep_breakdown` reads every rep's numbers in a bounded number of queries (sums grouped by
owner), whatever the number of reps; the figures are those of `selectors.forecast` per owner.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts import access
from sales.currency import MissingRate, RateBook, missing_message
from sales.models import ForecastCategory, Opportunity, Quota, StageKind
from sales.quotas import may_set_quotas
from sales.selectors import WEIGHTED, DealSums, _money

if TYPE_CHECKING:
    from accounts.models import User

ZERO = Decimal("0")
KEYS = ("closed_won", "commit", "best", "pipeline", "weighted")


def openable_reps(user: User) -> set[int]:
    """The ids of the reps whose forecast `user` may open (one query; themselves without the
    quota permissions)."""
    if not may_set_quotas(user):
        return {user.pk}
    ids = set(access.assignable_owners(user, Opportunity).values_list("pk", flat=True))
    return ids | {user.pk}


def may_open_rep(user: User, rep: User) -> bool:
    return rep.pk == user.pk or rep.pk in openable_reps(user)


@dataclass(frozen=True)
class RepRow:
    """One rep's figures for the period, in the reporting currency."""

    rep: User
    closed_won: Decimal
    commit: Decimal
    best_case: Decimal  # commit + best case, as in `selectors.forecast`
    pipeline: Decimal
    weighted: Decimal
    quota: Decimal | None
    can_open: bool

    @property
    def attainment(self) -> Decimal | None:
        if not self.quota:
            return None
        return (self.closed_won * 100 / self.quota).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Breakdown:
    rows: list[RepRow]
    missing: str = ""
    # The same deals' sums over every owner, for `selectors.forecast(summed=)`: the team's or
    # company's figures without reading the deals twice.
    summed: DealSums | None = None


def rep_breakdown(
    *, user: User, start: dt.date, end: dt.date, team_id: int | None, book: RateBook | None = None
) -> Breakdown:
    """One row per rep who owns deals `user` may see in the period's figures (of team `team_id`,
    None: every team) or has a quota for one of its months (a member of `team_id`; None: anyone),
    by name. Money as in `selectors.forecast`: won at the rate of its closing day, open deals at
    today's (or the period's last day's), quotas at their month's. Five queries (six without
    `book`) whatever the number of reps."""
    from accounts.models import User

    book = book or RateBook.load()
    deals = access.scoped(user, Opportunity).filter(archived_at__isnull=True)
    quotas = Quota.objects.filter(month__gte=start, month__lt=end, user__isnull=False)
    if team_id is not None:
        deals = deals.filter(team_id=team_id)
        quotas = quotas.filter(user__team_id=team_id)
    tz = timezone.get_current_timezone()
    open_day = min(timezone.localdate(), end - dt.timedelta(days=1))
    missing: set[str] = set()
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(KEYS, ZERO))

    def add(owner: int, key: str, amount: Decimal | None, currency: str, day: dt.date) -> None:
        try:
            sums[owner][key] += book.convert(amount or ZERO, currency, day)
        except MissingRate:
            missing.add(currency)

    won = (
        deals.filter(
            stage__kind=StageKind.WON,
            closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            closed_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz),
        )
        .order_by()
        .values("owner_id", "currency", day=TruncDate("closed_at", tzinfo=tz))
        .annotate(total=Sum("amount"))
    )
    won_total: dict[tuple[str, dt.date], Decimal] = defaultdict(lambda: ZERO)
    for row in won:
        add(row["owner_id"], "closed_won", row["total"], row["currency"], row["day"])
        won_total[row["currency"], row["day"]] += row["total"] or ZERO
    counted = ~Q(forecast_category=ForecastCategory.OMITTED)
    open_rows = (
        deals.filter(closed_at__isnull=True, expected_close_date__gte=start)
        .filter(expected_close_date__lt=end)
        .order_by()
        .values("owner_id", "currency")
        .annotate(
            commit=Sum("amount", filter=Q(forecast_category=ForecastCategory.COMMIT)),
            best=Sum("amount", filter=Q(forecast_category=ForecastCategory.BEST_CASE)),
            pipeline=Sum("amount", filter=counted),
            weighted=Sum(WEIGHTED, filter=counted),
        )
    )
    open_keys = ("commit", "best", "pipeline", "weighted")
    open_total: dict[str, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(open_keys, ZERO))
    for row in open_rows:
        for key in open_keys:
            add(row["owner_id"], key, row[key], row["currency"], open_day)
            open_total[row["currency"]][key] += row[key] or ZERO
    quota_of: dict[int, Decimal] = {}
    quota_rows = quotas.values_list("user_id", "amount", "currency", "month")
    for rep_id, amount, currency, month in quota_rows:
        try:
            value = book.convert(amount, currency, month)
        except MissingRate:
            missing.add(currency)
            continue
        quota_of[rep_id] = quota_of.get(rep_id, ZERO) + value
    ids = set(sums) | set(quota_of)
    reps = User.objects.filter(pk__in=ids).order_by("first_name", "last_name", "email")
    openable = openable_reps(user) if ids else set()
    rows = []
    for rep in reps:
        got = sums[rep.pk]
        rows.append(
            RepRow(
                rep=rep,
                closed_won=got["closed_won"],
                commit=got["commit"],
                best_case=got["commit"] + got["best"],
                pipeline=got["pipeline"],
                weighted=_money(got["weighted"]),
                quota=quota_of.get(rep.pk),
                can_open=rep.pk in openable,
            )
        )
    summed = DealSums(
        won=[{"currency": c, "day": d, "total": t} for (c, d), t in won_total.items()],
        open=[{"currency": c, **totals} for c, totals in open_total.items()],
    )
    return Breakdown(rows, missing_message(missing, book=book, date=open_day), summed)
