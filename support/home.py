"""The support card on the signed-in user's home page (contacts.activities.home): the tickets
assigned to the user, the one due first on top, with their SLA timers, and how many are open or
about to breach.

Two queries whatever the number of tickets, along the index `ticket_open_assignee_due`
(assignee, resolution due): one counting the user's open and breaching tickets, and one for
the first rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from contacts.activities import home
from support import selectors
from support.lists import DUE
from support.models import Ticket

if TYPE_CHECKING:
    from accounts.models import User
    from crm.http import AuthedHttpRequest

FIRST = 6

PANEL = home.HomePanel(
    key="support-my-tickets",
    title=_("My tickets"),
    url_name="support:home-tickets",
    order=30,
    available=lambda user: user.has_perm("support.add_ticket"),
)


@dataclass(frozen=True)
class MyTickets:
    tickets: list[Ticket]
    open: int
    breaching: int


def my_tickets(*, user: User, limit: int = FIRST) -> MyTickets:
    mine = selectors.ticket_list(user=user).filter(selectors.view_q("mine", user=user))
    counts = mine.order_by().aggregate(
        open=Count("pk"), breaching=Count("pk", filter=Q(selectors.breaching_q()))
    )
    rows = list(mine.annotate(**DUE).order_by("due_key", "id")[:limit])
    return MyTickets(rows, counts["open"] or 0, counts["breaching"] or 0)


@login_required
@require_GET
def home_tickets(request: AuthedHttpRequest) -> HttpResponse:
    """The home page's support card (an htmx fragment)."""
    return home.panel_response(
        request,
        PANEL,
        "support/partials/home_tickets.html",
        lambda: {"mine": my_tickets(user=request.user)},
    )
