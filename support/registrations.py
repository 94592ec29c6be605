"""What support plugs into the shared registries (called once from `SupportConfig.ready()`):
the Support navigation entry (with the count of the user's open tickets), the global search's
tickets, how ticket changes read in the history, the API routes, a customer-timeline source, a
panel on contact and company pages (the customer's tickets) and one for deal pages (the tickets
linked to the deal)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts import hooks, panels, timeline
from contacts.models import Contact
from crm import cache as versioned_cache
from crm import history, nav, search
from crm.registry import ApiRoute, api_routes
from support import selectors, services
from support.models import (
    OPEN_STATUSES,
    CustomerTier,
    Queue,
    QueueMember,
    RoleTicketScope,
    Ticket,
    TicketMessage,
)

SUBJECTS = ("contacts.contact", "contacts.company")


def ticket_timeline_entries(
    user: Any, subject: Any, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """The subject's tickets (as requester, or the company's) that `user` may see, newest
    first (one query; none more on a record page, whose panel reads the same rows)."""
    if before is None:  # the first page: the same rows as the record page's support panel
        rows = selectors.customer_tickets(user=user, record=subject, limit=limit)
    else:
        field = "requester" if isinstance(subject, Contact) else "company"
        qs = access.scoped(user, Ticket).filter(**{field: subject})
        rows = list(timeline.keyset_before(qs, before, time_field="created_at")[:limit])
    return [timeline.TimelineEntry("ticket", t.created_at, t.pk, t) for t in rows]


def _options_changed(**kwargs: Any) -> None:
    versioned_cache.bump(selectors.OPTIONS)


def _ticket_scopes_changed(**kwargs: Any) -> None:
    versioned_cache.bump("roles")  # support.scope.ticket_facts


def _company_changed(change: hooks.CompanyChange) -> None:
    """A company's size, industry, region or lifecycle stage decides which tier's rule covers
    it: its open tickets are re-tiered once the edit commits (an outbox row written in the
    edit's transaction; nothing when it has no open ticket)."""
    if Ticket.objects.filter(company_id=change.company_id, status__in=OPEN_STATUSES).exists():
        services.company_plan_changed(company_ids=[change.company_id])


def register() -> None:
    from contacts.activities import home
    from support.home import PANEL

    home.register_home_panel(PANEL)
    hooks.on_company_changed.register(
        hooks.CompanyHook(
            "support-retier",
            _company_changed,
            fields=frozenset(CustomerTier.RULE_FIELDS.values()),
        )
    )
    for model in (Queue, QueueMember):
        post_save.connect(_options_changed, sender=model, dispatch_uid=f"support-options-{model}")
        post_delete.connect(_options_changed, sender=model, dispatch_uid=f"support-del-{model}")
    # The workspace's cached counts (selectors.workspace_counts) follow ticket writes.
    post_save.connect(selectors.tickets_changed, sender=Ticket, dispatch_uid="support-tickets")
    post_delete.connect(selectors.tickets_changed, sender=Ticket, dispatch_uid="support-tickets-d")
    post_save.connect(_ticket_scopes_changed, sender=RoleTicketScope, dispatch_uid="support-ts")
    post_delete.connect(_ticket_scopes_changed, sender=RoleTicketScope, dispatch_uid="support-tsd")
    nav.register_nav(
        nav.NavEntry(
            "support",
            _("Tickets"),
            "support:ticket-list",
            order=60,
            active_for=("support:",),
            badge_url_name="support:nav-count",
            group="service",
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="tickets",
            label=_("Tickets"),
            order=40,
            template="support/search/ticket.html",
            search=lambda user, q, limit: selectors.ticket_search(user=user, query=q, limit=limit),
            see_all=lambda q: (
                f"{reverse('support:ticket-list')}?{urlencode({'q': q, 'view': 'all'})}"
            ),
        )
    )
    history.register_history(
        Ticket, hidden={"paused_seconds", "idempotency_key", "number", "owner"}
    )
    history.register_history(TicketMessage, parent="ticket", hidden={"emailed_at"})
    api_routes.register(ApiRoute("tickets", "support.api.TicketViewSet", "ticket", order=60))
    api_routes.register(
        ApiRoute("ticket-messages", "support.api.TicketMessageViewSet", "ticketmessage", order=61)
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="ticket",
            label=_("Tickets"),
            template="support/timeline_ticket.html",
            entries=ticket_timeline_entries,
            order=50,
            subjects=SUBJECTS,
        )
    )
    panels.register_panel(
        panels.RecordPanel("support", "support/partials/customer_tickets.html", 40, SUBJECTS)
    )
    # The deal page's tickets panel: the deal page includes contacts.panels' "side" panels
    # declared for "sales.opportunity".
    panels.register_panel(
        panels.RecordPanel(
            "support-deal", "support/partials/deal_tickets.html", 40, ("sales.opportunity",)
        )
    )
