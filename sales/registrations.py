"""What sales plugs into the shared registries (called once from `SalesConfig.ready()`): the
Deals navigation entry, the global search's deals, how deal changes read in the history, the
API route, and a customer-timeline source (a contact's or company's deals)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts import timeline
from contacts.models import Contact
from crm import history, nav, search
from crm.registry import ApiRoute, api_routes
from sales import selectors
from sales.models import QUALIFICATION_FIELDS, Opportunity, OpportunityContact


def opportunity_timeline_entries(
    user: Any, subject: Any, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """The subject's deals that `user` may see, newest first (one query)."""
    qs = access.scoped(user, Opportunity).select_related("stage")
    if isinstance(subject, Contact):
        roles = OpportunityContact.objects.filter(contact=subject)
        qs = qs.filter(pk__in=roles.values("opportunity"))
    else:
        qs = qs.filter(company=subject)
    rows = timeline.keyset_before(qs, before, time_field="created_at")[:limit]
    return [timeline.TimelineEntry("opportunity", d.created_at, d.pk, d) for d in rows]


def register() -> None:
    nav.register_nav(
        nav.NavEntry("sales", _("Deals"), "sales:board", 40, ("sales:",), group="sales")
    )
    nav.register_nav(
        nav.NavEntry(
            "forecast", _("Forecast"), "sales:forecast", 45, ("sales:forecast",), group="sales"
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="opportunities",
            label=_("Deals"),
            order=30,
            template="sales/search/opportunity.html",
            search=lambda user, q, limit: selectors.opportunity_search(
                user=user, query=q, limit=limit
            ),
            see_all=lambda q: f"{reverse('sales:opportunity-list')}?{urlencode({'q': q})}",
        )
    )
    history.register_history(
        Opportunity,
        hidden={"score", "stage_entered_at"},
        # A new deal's history shows what was set, not every unrated criterion at "Unknown".
        quiet_on_create={
            *QUALIFICATION_FIELDS,
            "amount",
            "source",
            "next_step",
            "loss_note",
            "tag_ids",
        },
    )
    history.register_history(OpportunityContact, parent="opportunity")
    api_routes.register(
        ApiRoute("opportunities", "sales.api.OpportunityViewSet", "opportunity", order=50)
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="opportunity",
            label=_("Deals"),
            template="sales/timeline_opportunity.html",
            entries=opportunity_timeline_entries,
            order=40,
            subjects=("contacts.contact", "contacts.company"),
        )
    )
