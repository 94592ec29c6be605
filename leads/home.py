"""The leads card on the signed-in user's home page (contacts.activities.home): the user's own
leads still to work (new or contacted), hottest first, and how many are new.

Three queries whatever the number of leads: two along the index `lead_owner_status` (owner,
status), the count of new ones and the top of the open ones by score, and the user's
availability for new leads (the card's switch, `leads.availability`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from contacts.activities import home
from leads import availability, selectors
from leads.models import Lead, LeadStatus

if TYPE_CHECKING:
    from accounts.models import User
    from crm.http import AuthedHttpRequest

TO_WORK = 6
COUNT_CAP = 1000
OPEN = (LeadStatus.NEW, LeadStatus.CONTACTED)

PANEL = home.HomePanel(
    key="leads-to-work",
    title=_("My leads to work"),
    url_name="leads:home-leads",
    order=20,
    available=lambda user: user.has_perm("leads.add_lead"),
)


@dataclass(frozen=True)
class LeadsToWork:
    leads: list[Lead]
    new: int
    capped: bool
    available: bool = True  # for new leads from team assignment rules (LeadAvailability)

    @property
    def new_label(self) -> str:
        return f"{self.new}+" if self.capped else str(self.new)


def leads_to_work(*, user: User, limit: int = TO_WORK) -> LeadsToWork:
    mine = selectors.lead_list(user=user).filter(owner=user, archived_at__isnull=True)
    new = mine.filter(status=LeadStatus.NEW).values("pk")[: COUNT_CAP + 1].count()
    top = list(mine.filter(status__in=OPEN).order_by("-score", "-created_at", "-id")[:limit])
    available = availability.is_available(user)
    return LeadsToWork(top, min(new, COUNT_CAP), new > COUNT_CAP, available)


@login_required
@require_GET
def home_leads(request: AuthedHttpRequest) -> HttpResponse:
    """The home page's leads card (an htmx fragment)."""
    return home.panel_response(
        request,
        PANEL,
        "leads/partials/home_leads.html",
        lambda: {"work": leads_to_work(user=request.user)},
    )
