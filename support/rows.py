"""What a ticket list row and a conversation message show, computed once per row in Python.

A ticket list page holds 50 rows and a ticket page up to 200 messages. Rendered from the
models, each row resolved some thirty dotted lookups, method calls (`get_priority_display`,
`get_absolute_url`), filters and a timer tag: most of the page's CPU (bench/results/
2026-12-01-support-rows.md). Here the link comes from one reverse per page
(`crm.links.record_url_parts`), the choice labels are translated once per page, the timer and
the dates are formatted once per row, so the templates (`support/ticket_list.html`'s `rows`,
`support/ticket_detail.html`'s `thread`) read flat values. Strings stay plain: the template
escapes them as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from crm.links import record_url_parts
from crm.tags import TagLabel
from support.models import OPEN_STATUSES, MessageKind, Priority, Status

if TYPE_CHECKING:
    from support.models import Ticket, TicketMessage

SOON = dt.timedelta(hours=1)
PRIORITY_COLORS = {"low": "secondary", "normal": "info", "high": "warning", "urgent": "danger"}


@dataclass(frozen=True, slots=True)
class Timer:
    label: str  # "First response" / "Resolution"
    text: str  # "due in 2 hours" / "overdue by 5 minutes" / "paused"
    color: str  # Bootstrap contextual colour
    due: dt.datetime | None


class Timers:
    """The SLA timers of tickets at one moment, their words translated once (a list page
    reads 50 tickets' timers)."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.first_response = _("First response")
        self.resolution = _("Resolution")
        self.paused = _("paused")
        self.overdue = _("overdue by %(time)s")
        self.due_in = _("due in %(time)s")

    def timer(self, label: str, due: dt.datetime | None, *, paused: bool) -> Timer | None:
        if due is None:
            return None
        if paused:
            return Timer(label, self.paused, "secondary", due)
        now = self.now
        if due <= now:
            return Timer(
                label, self.overdue % {"time": timesince(due, now, depth=1)}, "danger", due
            )
        color = "warning" if due - now <= SOON else "success"
        return Timer(label, self.due_in % {"time": timeuntil(due, now, depth=1)}, color, due)

    def running(self, ticket: Ticket) -> list[Timer]:
        """The ticket's running timers (first response while unanswered, resolution while
        open)."""
        if ticket.status not in OPEN_STATUSES:
            return []
        paused = ticket.status == Status.PENDING
        timers = []
        if ticket.first_responded_at is None:
            timers.append(self.timer(self.first_response, ticket.first_response_due, paused=paused))
        timers.append(self.timer(self.resolution, ticket.resolution_due, paused=paused))
        return [t for t in timers if t is not None]

    def next(self, ticket: Ticket) -> Timer | None:
        """The timer that runs out first (a list row shows one)."""
        timers = self.running(ticket)
        return min(timers, key=lambda t: t.due) if timers else None  # type: ignore[arg-type,return-value]


class Dates:
    """Dates as `{{ value|date:"NAME" }}` writes them (the current time zone, the page's
    language), the zone and each format looked up once."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.formats: dict[str, str] = {}

    def __call__(self, value: dt.datetime, name: str) -> str:
        found = self.formats.get(name)
        if found is None:
            found = self.formats[name] = formats.get_format(name)
        return dateformat.format(value.astimezone(self.zone), found)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One ticket of the list, as its `rows` partial shows it."""

    pk: int
    url: str
    subject: str
    reference: str  # "T-000123"
    priority: str  # the translated label
    priority_color: str
    status: str  # the translated label
    requester: str
    tags: list[TagLabel]
    timer_label: str  # the next timer's ("" when none runs)
    timer_text: str
    timer_color: str
    queue: str
    assignee: str  # "" when unassigned
    created: str  # SHORT_DATETIME_FORMAT in the current time zone


class RowMaker:
    """Builds the rows of one list page: the URL reversed, the labels translated and the date
    format looked up once, each assignee's name written once."""

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.timers = Timers(now=now or timezone.now())
        self.dates = Dates()
        self.url = record_url_parts("support:ticket-detail")
        self.priorities = {value: str(label) for value, label in Priority.choices}
        self.statuses = {value: str(label) for value, label in Status.choices}
        self.names: dict[int, str] = {}

    def rows(self, tickets: Sequence[Ticket]) -> list[TicketRow]:
        return [self.row(ticket) for ticket in tickets]

    def row(self, ticket: Ticket) -> TicketRow:
        timer = self.timers.next(ticket)
        assignee = ""
        if ticket.assignee_id:
            assignee = self.names.get(ticket.assignee_id) or self.names.setdefault(
                ticket.assignee_id, str(ticket.assignee)
            )
        before, after = self.url
        return TicketRow(
            pk=ticket.pk,
            url=f"{before}{ticket.pk}{after}",
            subject=ticket.subject,
            reference=ticket.reference,
            priority=self.priorities.get(ticket.priority, ticket.priority),
            priority_color=PRIORITY_COLORS.get(ticket.priority, "secondary"),
            status=self.statuses.get(ticket.status, ticket.status),
            requester=str(ticket.requester),
            tags=getattr(ticket, "row_tags", []),
            timer_label=timer.label if timer else "",
            timer_text=timer.text if timer else "",
            timer_color=timer.color if timer else "",
            queue=ticket.queue.name,
            assignee=assignee,
            created=self.dates(ticket.created_at, "SHORT_DATETIME_FORMAT"),
        )


def ticket_rows(tickets: list[Ticket]) -> list[TicketRow]:
    """The list kit's `make_rows` for tickets (`support.lists.TICKETS`)."""
    return RowMaker().rows(tickets)


@dataclass(frozen=True, slots=True)
class FileRow:
    url: str
    name: str
    size: str  # "1.2 MB"


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message of the conversation, as the ticket page's `thread` partial shows it."""

    pk: int
    card_class: str  # the card's colours by kind, and a red border when newer than seen
    author: str
    kind: str  # the translated label
    created_iso: str
    created: str
    body: SafeString  # escaped, its line breaks as <br>
    newer: bool  # arrived while the agent was writing (a refused reply)
    files: list[FileRow]
    splittable: bool  # a customer's message the viewer may split into a new ticket


KIND_CLASSES = {
    MessageKind.NOTE: "bg-warning-subtle border-warning-subtle",
    MessageKind.CUSTOMER: "border-primary-subtle",
}


def message_rows(
    ticket: Ticket,
    messages: Sequence[TicketMessage],
    *,
    can_work: bool,
    newer_ids: Collection[int] = (),
) -> list[MessageRow]:
    """The conversation's messages (authors selected, attachments prefetched) as rows."""
    kinds = {value: str(label) for value, label in MessageKind.choices}
    before, after = record_url_parts("support:attachment-download")
    dates = Dates()
    names: dict[int | None, str] = {
        None: _("System")
    }  # author id -> name (a message without one is the system's)
    requester = str(ticket.requester)
    may_split = can_work and ticket.status != Status.CLOSED
    rows = []
    for message in messages:
        customer = message.kind == MessageKind.CUSTOMER
        newer = message.pk in newer_ids
        if customer:
            author = requester
        else:
            author = names.get(message.author_id) or names.setdefault(
                message.author_id, str(message.author)
            )
        rows.append(
            MessageRow(
                pk=message.pk,
                card_class=KIND_CLASSES.get(message.kind, "")  # type: ignore[call-overload]
                + (" border-danger border-2" if newer else ""),
                author=author,
                kind=kinds.get(message.kind, message.kind),
                created_iso=dates(message.created_at, "c"),
                created=dates(message.created_at, "SHORT_DATETIME_FORMAT"),
                body=linebreaksbr(message.body, autoescape=True),
                newer=newer,
                files=[
                    FileRow(f"{before}{f.pk}{after}", f.name, filesizeformat(f.size))
                    for f in message.attachments.all()
                ],
                splittable=may_split and customer,
            )
        )
    return rows
