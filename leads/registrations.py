"""What leads plug into the shared registries (called once from `LeadsConfig.ready()`): the
Leads navigation entry, the global search's leads, how lead changes read in the history, the
leads-address mail handler, the rescore after an activity is logged on a lead, and the
converted-from-lead entries on contact and company timelines."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts import timeline
from contacts.activities import hooks
from crm import history, nav, outbox, search
from crm.registry import ApiRoute, api_routes
from leads import inbound, selectors, trail
from leads.models import Lead


def register() -> None:
    from contacts.activities import home
    from leads.home import PANEL

    nav.register_nav(
        nav.NavEntry("leads", _("Leads"), "leads:lead-list", 30, ("leads:",), group="sales")
    )
    home.register_home_panel(PANEL)
    nav.register_nav(
        nav.NavEntry(
            "lead-quick-add",
            _("Quick-add lead"),
            "leads:lead-quick-add",
            31,
            ("leads:lead-quick-add",),
            group="sales",
            available=lambda user: access.can_add(user, Lead),
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="leads",
            label=_("Leads"),
            order=25,
            template="leads/search/lead.html",
            search=lambda user, q, limit: selectors.lead_search(user=user, query=q, limit=limit),
            see_all=lambda q: f"{reverse('leads:lead-list')}?{urlencode({'q': q})}",
        )
    )
    history.register_history(
        Lead,
        hidden={"score", "capture_key", "display_name", "assignment_pending"},
        labels={"files": _("file deleted"), "nurture": _("nurture")},
        # A new lead's entry shows what was set, not "Possible duplicate: False, Cold".
        quiet_on_create={"temperature", "needs_review"},
    )
    api_routes.register(ApiRoute("leads", "leads.api.LeadViewSet", "lead", order=35))
    inbound.register()
    hooks.on_activity_logged.register(hooks.ActivityHook("leads-rescore", rescore_on_activity))
    # Email opens/clicks and page views (activities' tracking) rescore the leads they concern;
    # a web form's allowed origins may report page views.
    from leads import tracking

    tracking.register()
    # A converted contact's or company's timeline shows the lead it came from (source,
    # campaign, consent), so the trail reads on from the lead's page.
    timeline.register_source(
        timeline.TimelineSource(
            kind="lead",
            label=_("Leads"),
            template="leads/timeline_lead.html",
            entries=trail.lead_timeline_entries,
            order=35,
            subjects=("contacts.contact", "contacts.company"),
        )
    )


RESCORE_TASK = "leads.tasks.lead_rescore"


def rescore_on_activity(event: hooks.ActivityEvent) -> None:
    """An interaction or task was logged on a lead: recompute its score (engagement points) in
    the worker, through the outbox (the hook runs after the activity's commit)."""
    if event.target_model == "leads.lead" and event.target_id:
        outbox.enqueue(RESCORE_TASK, {"lead_id": event.target_id})
