"""`{% load support_tags %}`: SLA timers for ticket rows and pages, and a customer's tickets for
the contact and company pages' panel (templates/support/partials/customer_tickets.html)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from accounts import access
from crm.tags import TagLabel, labels_for
from support import selectors
from support.models import OPEN_STATUSES, Status, Ticket

register = template.Library()

SOON = dt.timedelta(hours=1)
PRIORITY_COLORS = {"low": "secondary", "normal": "info", "high": "warning", "urgent": "danger"}


@dataclass(frozen=True)
class Timer:
    label: str  # "First response" / "Resolution"
    text: str  # "due in 2 hours" / "overdue by 5 minutes" / "paused"
    color: str  # Bootstrap contextual colour
    due: dt.datetime | None


def _timer(label: str, due: dt.datetime | None, *, paused: bool, now: dt.datetime) -> Timer | None:
    if due is None:
        return None
    if paused:
        return Timer(label, _("paused"), "secondary", due)
    if due <= now:
        return Timer(
            label, _("overdue by %(time)s") % {"time": timesince(due, now, depth=1)}, "danger", due
        )
    color = "warning" if due - now <= SOON else "success"
    return Timer(label, _("due in %(time)s") % {"time": timeuntil(due, now, depth=1)}, color, due)


@register.simple_tag
def sla_timers(ticket: Ticket) -> list[Timer]:
    """The ticket's running timers (first response while unanswered, resolution while open)."""
    if ticket.status not in OPEN_STATUSES:
        return []
    now = timezone.now()
    paused = ticket.status == Status.PENDING
    timers = []
    if ticket.first_responded_at is None:
        timers.append(
            _timer(_("First response"), ticket.first_response_due, paused=paused, now=now)
        )
    timers.append(_timer(_("Resolution"), ticket.resolution_due, paused=paused, now=now))
    return [t for t in timers if t is not None]


@register.simple_tag
def sla_next(ticket: Ticket) -> Timer | None:
    """The timer that runs out first (a list row shows one)."""
    timers = sla_timers(ticket)
    return min(timers, key=lambda t: t.due) if timers else None  # type: ignore[arg-type,return-value]


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
