"""`{% load support_tags %}`: SLA timers for ticket rows and pages, and a customer's tickets for
the contact and company pages' panel (templates/support/partials/customer_tickets.html)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from accounts import access
from crm.tags import TagLabel, labels_for
from support import selectors
from support.models import Ticket
from support.rows import PRIORITY_COLORS, Timer, Timers

register = template.Library()


@register.simple_tag
def sla_timers(ticket: Ticket) -> list[Timer]:
    """The ticket's running timers (first response while unanswered, resolution while open)."""
    return Timers(now=timezone.now()).running(ticket)


@register.simple_tag
def sla_next(ticket: Ticket) -> Timer | None:
    """The timer that runs out first (the home page's card shows one; the list's rows are
    `support.rows.TicketRow`)."""
    return Timers(now=timezone.now()).next(ticket)


@register.filter
def priority_color(value: str) -> str:
    return PRIORITY_COLORS.get(value, "secondary")


@register.simple_tag(takes_context=True)
def customer_tickets(context: template.Context, record: Any) -> dict[str, Any]:
    """`{% customer_tickets contact as found %}`: the record's tickets the user may see (one
    query; none without the role's view_ticket) and whether they may open a new one."""
    user: Any = context["request"].user
    if not access.has_model_perm(user, Ticket, "view"):
        return {"visible": False, "tickets": [], "can_add": False}
    return {
        "visible": True,
        "tickets": selectors.customer_tickets(user=user, record=record),
        "can_add": access.can_add(user, Ticket) and record._meta.model_name == "contact",
    }


@register.simple_tag
def ticket_tags(ticket: Ticket) -> list[TagLabel]:
    """`{% ticket_tags ticket as tags %}`: the ticket's tags from the cached labels (no query)."""
    return labels_for(ticket.tag_ids or [])


@register.simple_tag(takes_context=True)
def deal_tickets(context: template.Context, record: Any) -> dict[str, Any]:
    """`{% deal_tickets opportunity as found %}`: the tickets linked to a deal that the user may
    see (one query; none without the role's view_ticket)."""
    user: Any = context["request"].user
    if not access.has_model_perm(user, Ticket, "view"):
        return {"visible": False, "tickets": []}
    return {"visible": True, "tickets": selectors.deal_tickets(user=user, opportunity=record)}
