"""The sales card on the signed-in user's home page (contacts.activities.home): the quarter's
closed won against quota, commit and weighted pipeline, and the user's own deals closing soon.

Six queries whatever the number of deals: the forecast's four (rates, won, open, quota) and one
for the deals, along the index `opp_owner_close` (owner, expected close date)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from contacts.activities import home
from sales import selectors
from sales.models import Opportunity
from sales.views import parse_period

if TYPE_CHECKING:
    from accounts.models import User
    from crm.http import AuthedHttpRequest

CLOSING_SOON = 6
# Deals whose expected close date passed this long ago or more are stale, not "closing soon".
CLOSING_FROM_DAYS = 30
CLOSING_TO_DAYS = 60

PANEL = home.HomePanel(
    key="sales-quarter",
    title=_("My quarter"),
    url_name="sales:home-quarter",
    order=10,
    available=lambda user: user.has_perm("sales.add_opportunity"),
)


@dataclass(frozen=True)
class Quarter:
    period: str
    numbers: selectors.Forecast
    closing: list[Opportunity]
    today: dt.date


def closing_soon(*, user: User, today: dt.date, limit: int = CLOSING_SOON) -> list[Opportunity]:
    """`user`'s own open deals whose expected close date lies from a month ago to two months
    ahead, soonest first (late ones first of all)."""
    return list(
        selectors.opportunity_list(user=user)
        .filter(
            owner=user,
            archived_at__isnull=True,
            closed_at__isnull=True,
            expected_close_date__gte=today - dt.timedelta(days=CLOSING_FROM_DAYS),
            expected_close_date__lte=today + dt.timedelta(days=CLOSING_TO_DAYS),
        )
        .select_related("company", "stage")
        .order_by("expected_close_date", "id")[:limit]
    )


def quarter(*, user: User) -> Quarter:
    today = timezone.localdate()
    start, end, period = parse_period("", today)
    numbers = selectors.forecast(user=user, start=start, end=end, owner=user)
    return Quarter(period, numbers, closing_soon(user=user, today=today), today)


@login_required
@require_GET
def home_quarter(request: AuthedHttpRequest) -> HttpResponse:
    """The home page's sales card (an htmx fragment)."""
    return home.panel_response(
        request,
        PANEL,
        "sales/partials/home_quarter.html",
        lambda: {"q": quarter(user=request.user)},
    )
