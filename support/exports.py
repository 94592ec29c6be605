"""The cells of the ticket export (the file is written by `crm.exports`): the list's rows as the
user filtered them, read in keyset chunks by id, with their requester, company, queue,
assignee and satisfaction survey joined (one query per chunk)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exports import chunks, local_time
from crm.tags import attach_row_tags
from support.models import OPEN_STATUSES, Channel, Priority, Status, Ticket
from support.rows import SOON  # the list's amber timers: at risk within the hour

RELATED = ("requester", "company", "queue", "assignee", "survey")
# What the cells read (not the description, nor the joined rows' other columns).
FIELDS = (
    "number", "subject", "status", "priority", "channel", "created_at", "first_response_due",
    "first_responded_at", "resolution_due", "solved_at", "paused_at", "tag_ids",
    "requester__display_name", "requester__primary_email", "company__name", "queue__name",
    "assignee__first_name", "assignee__last_name", "assignee__email", "assignee__name_order",
    "survey__rating",
)  # fmt: skip


def ticket_columns() -> list[str]:
    return [
        _("Number"), _("Subject"), _("Status"), _("Priority"), _("Queue"), _("Assignee"),
        _("Customer contact"), _("Customer email"), _("Company"), _("Channel"), _("Created"),
        _("First response due"), _("First responded"), _("Resolution due"), _("Solved"),
        _("SLA"), _("Tags"), _("Satisfaction rating"),
    ]  # fmt: skip


def _missed(due: dt.datetime | None, done: dt.datetime | None, now: dt.datetime) -> bool:
    """A target missed: met after it was due, or still unmet and past due."""
    if due is None:
        return False
    return done > due if done is not None else due <= now


def sla_state(ticket: Ticket, now: dt.datetime) -> str:
    """One word for the ticket's SLA: breached (a target met late, or unmet and past due),
    paused (waiting on the customer), at risk (a running target due within the hour), on
    track, met (solved or closed in time); empty when the ticket has no targets."""
    first_due, resolution_due = ticket.first_response_due, ticket.resolution_due
    if first_due is None and resolution_due is None:
        return ""
    is_open = ticket.status in OPEN_STATUSES
    # The clock stopped when the ticket was solved or closed (services set solved_at), and
    # stands still while it waits on the customer (resuming pushes the due dates later).
    end = (ticket.paused_at or now) if is_open else (ticket.solved_at or now)
    solved = None if is_open else ticket.solved_at
    if _missed(first_due, ticket.first_responded_at, end) or _missed(resolution_due, solved, end):
        return _("Breached")
    if not is_open:
        return _("Met")
    if ticket.status == Status.PENDING:
        return _("Paused")
    running = [resolution_due]
    if ticket.first_responded_at is None:
        running.append(first_due)
    if any(due is not None and due - now <= SOON for due in running):
        return _("At risk")
    return _("On track")


def ticket_rows(qs: QuerySet[Ticket]) -> Iterator[list[Any]]:
    """One list of cell values per ticket of `qs` (already scoped and filtered); one query per
    chunk (tag names come from the cached labels, read once a chunk; the rating from the joined
    survey)."""
    rows = qs.select_related(*RELATED).only(*FIELDS)
    # The choices' labels translated once, not get_FOO_display() (gettext) per cell.
    status, priority, channel = (
        {value: str(label) for value, label in choices.choices}
        for choices in (Status, Priority, Channel)
    )
    for chunk in chunks(rows):
        attach_row_tags(chunk)  # the cached labels read once a chunk, not once a row
        now = timezone.now()
        for ticket in chunk:
            survey = getattr(ticket, "survey", None)
            yield [
                ticket.reference,
                ticket.subject,
                status.get(ticket.status, ticket.status),
                priority.get(ticket.priority, ticket.priority),
                ticket.queue.name,
                str(ticket.assignee) if ticket.assignee else "",
                ticket.requester.display_name,
                ticket.requester.primary_email,
                ticket.company.name if ticket.company else "",
                channel.get(ticket.channel, ticket.channel),
                local_time(ticket.created_at),
                local_time(ticket.first_response_due),
                local_time(ticket.first_responded_at),
                local_time(ticket.resolution_due),
                local_time(ticket.solved_at),
                sla_state(ticket, now),
                ", ".join(tag.name for tag in ticket.row_tags),
                survey.rating if survey is not None and survey.rating is not None else "",
            ]
