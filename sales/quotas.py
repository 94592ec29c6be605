"""Quotas outside the admin: the grid of a period's monthly quotas per rep and team, with what
was won against them (`quota_grid`), and the bulk write of a grid (`quotas_set`).

Who may set whose quota: a role with the quota permissions (sales managers, administrators)
sets the quotas of the users it may give deals to (`access.assignable_owners`: a manager's
team-mates, everyone for an all-records scope) and of their teams. Everyone else reads their
own row and their team's. Its own module (read and write together) because the grid is one
feature and `sales/services.py`/`selectors.py` are near their size limit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Role, Team
from crm.errors import DomainError
from sales.currency import MissingRate, RateBook, reporting_currency
from sales.models import Opportunity, Quota, StageKind

if TYPE_CHECKING:
    from accounts.models import User

SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)
MAX_AMOUNT = Decimal("999999999999.99")


def months_of(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of the months in [start, end)."""
    months = []
    day = start.replace(day=1)
    while day < end:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def may_set_quotas(user: User) -> bool:
    return access.has_model_perm(user, Quota, "add") and access.has_model_perm(
        user, Quota, "change"
    )


def quota_targets(user: User) -> tuple[list[User], list[Team]]:
    """The reps and teams whose quotas `user` may set (none without the permission)."""
    if not may_set_quotas(user):
        return [], []
    users = list(
        access.assignable_owners(user, Opportunity)
        .filter(Q(groups__name__in=SALES_ROLES) | Q(pk=user.pk))
        .distinct()
    )
    team_ids = {u.team_id for u in users if u.team_id}
    if user.team_id:
        team_ids.add(user.team_id)
    return users, list(Team.objects.filter(pk__in=team_ids).order_by("name"))


@dataclass
class QuotaRow:
    """One rep's or team's quotas and wins for each month of the period."""

    key: str  # "user-3" / "team-2": the grid's input names start with it
    label: str
    is_team: bool
    quotas: dict[dt.date, Quota | None] = field(default_factory=dict)
    won: dict[dt.date, Decimal] = field(default_factory=dict)
    quota_total: Decimal | None = None
    won_total: Decimal = Decimal("0")
    cells: list[tuple[dt.date, Quota | None, Decimal, str]] = field(default_factory=list)

    @property
    def attainment(self) -> Decimal | None:
        if not self.quota_total:
            return None
        return (self.won_total * 100 / self.quota_total).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class QuotaGrid:
    months: list[dt.date]
    rows: list[QuotaRow]
    editable: bool
    currency: str
    missing: frozenset[str] = frozenset()


def _won_by(
    user: User, start: dt.date, end: dt.date, book: RateBook, missing: set[str]
) -> tuple[dict[tuple[int, dt.date], Decimal], dict[tuple[int, dt.date], Decimal]]:
    """Won amounts per (owner, month) and (team, month), of the deals `user` may see, at the
    rate of the day each closed. One query."""
    tz = timezone.get_current_timezone()
    rows = (
        access.scoped(user, Opportunity)
        .filter(
            archived_at__isnull=True,
            stage__kind=StageKind.WON,
            closed_at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            closed_at__lt=dt.datetime.combine(end, dt.time.min, tzinfo=tz),
        )
        .order_by()
        .values("owner_id", "team_id", "currency", day=TruncDate("closed_at", tzinfo=tz))
        .annotate(total=Sum("amount"))
    )
    by_owner: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    by_team: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    for row in rows:
        try:
            value = book.convert(row["total"] or Decimal(0), row["currency"], row["day"])
        except MissingRate:
            missing.add(row["currency"])
            continue
        month = row["day"].replace(day=1)
        by_owner[(row["owner_id"], month)] += value
        if row["team_id"]:
            by_team[(row["team_id"], month)] += value
    return by_owner, by_team


def quota_grid(*, user: User, start: dt.date, end: dt.date) -> QuotaGrid:
    """The quotas of each month in [start, end) of the reps and teams `user` may set (or, for
    anyone else, of themselves and their team) and what was won against them, in the reporting
    currency (quotas at their month's rate). Four queries whatever the number of rows."""
    users, teams = quota_targets(user)
    editable = bool(users or teams)
    if not editable:
        users = [user]
        teams = [user.team] if user.team_id and user.team else []
    months = months_of(start, end)
    book = RateBook.load()
    missing: set[str] = set()
    quotas = Quota.objects.filter(month__gte=start, month__lt=end).filter(
        Q(user__in=[u.pk for u in users]) | Q(team__in=[t.pk for t in teams])
    )
    by_key: dict[tuple[str, int, dt.date], Quota] = {}
    for stored in quotas:
        if stored.user_id:
            by_key[("user", stored.user_id, stored.month)] = stored
        else:
            by_key[("team", stored.team_id or 0, stored.month)] = stored
    won_owner, won_team = _won_by(user, start, end, book, missing)
    rows = [QuotaRow(f"team-{t.pk}", t.name, True) for t in teams]
    rows += [QuotaRow(f"user-{u.pk}", str(u), False) for u in users]
    for row in rows:
        kind, pk = row.key.split("-")
        won = won_team if kind == "team" else won_owner
        total: Decimal | None = None
        for month in months:
            quota = by_key.get((kind, int(pk), month))
            got = won.get((int(pk), month), Decimal(0))
            row.quotas[month] = quota
            row.won[month] = got
            row.won_total += got
            if quota is not None:
                try:
                    value = book.convert(quota.amount, quota.currency, month)
                except MissingRate:
                    missing.add(quota.currency)
                else:
                    total = (total or Decimal(0)) + value
            row.cells.append((month, quota, got, f"{row.key}-{month:%Y-%m}"))
        row.quota_total = total
    return QuotaGrid(months, rows, editable, book.to_currency, frozenset(missing))


@dataclass(frozen=True)
class QuotaCell:
    """One cell of a posted grid: a rep's (user_id) or team's month; None clears it."""

    month: dt.date
    amount: Decimal | None
    user_id: int | None = None
    team_id: int | None = None


def quotas_set(*, actor: User, cells: Iterable[QuotaCell]) -> int:
    """Write a grid: each cell's quota is created, changed or (amount None) removed; cells that
    say what is stored change nothing. Atomic (all or none); needs the quota permissions and
    every cell's rep or team among `quota_targets(actor)` (PermissionDenied otherwise). A new
    quota is in the reporting currency; a changed one keeps its currency. Returns the number of
    quotas written or removed."""
    if not may_set_quotas(actor):
        raise PermissionDenied(_("Your role does not allow this."))
    users, teams = quota_targets(actor)
    user_ids = {u.pk for u in users}
    team_ids = {t.pk for t in teams}
    cells = list(cells)
    for cell in cells:
        if (cell.user_id is None) == (cell.team_id is None):
            raise DomainError(_("A quota is a rep's or a team's."))
        if cell.user_id is not None and cell.user_id not in user_ids:
            raise PermissionDenied(_("No such record, or you do not have access to it."))
        if cell.team_id is not None and cell.team_id not in team_ids:
            raise PermissionDenied(_("No such record, or you do not have access to it."))
        if cell.month.day != 1:
            raise DomainError(_("A quota is for a month."))
        if cell.amount is not None and not (0 <= cell.amount <= MAX_AMOUNT):
            raise DomainError(_("Enter each quota as an amount of zero or more."))
    currency = reporting_currency()
    changed = 0
    with transaction.atomic(), set_actor(actor):
        months = {c.month for c in cells}
        existing = {
            (q.user_id, q.team_id, q.month): q
            for q in Quota.objects.select_for_update().filter(month__in=months)
        }
        for cell in cells:
            quota = existing.get((cell.user_id, cell.team_id, cell.month))
            if cell.amount is None:
                if quota is not None:
                    quota.delete()
                    changed += 1
            elif quota is None:
                Quota.objects.create(
                    user_id=cell.user_id,
                    team_id=cell.team_id,
                    month=cell.month,
                    amount=cell.amount,
                    currency=currency,
                )
                changed += 1
            elif quota.amount != cell.amount:
                quota.amount = cell.amount
                quota.save(update_fields=["amount", "updated_at"])
                changed += 1
    return changed
