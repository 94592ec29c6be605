"""Demo and benchmark data: tickets with short conversations, in one queue per team.

`seed_tickets(n)` makes a queue for every team that has sales or support users (its members
those users, its lead the first), SLA policies when there are none, and `n` tickets from random
existing contacts over the last 90 days: most solved or closed, the rest open with due dates
around now (some overdue, some due within hours), assigned to the queue's members or
unassigned, each with one to four messages. Support agents without a team (the demo's
agent@demo.example) are agents of the first AGENT_QUEUES queues: an agent sees the tickets of
their queues (support/scope.py). One open ticket of a user's queue gets a 100-message
conversation (the benchmark's ticket page, for the rep and for the agent). Rows go in with
`bulk_create` in batches, numbers from the ticket sequence, without audit entries: seeding is
not a user's change.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from contacts.models import Contact
from support.models import (
    NUMBER_SEQUENCE,
    Channel,
    MessageKind,
    Priority,
    Queue,
    QueueMember,
    SlaPolicy,
    Status,
    Ticket,
    TicketMessage,
)

BATCH = 5000
TICKETS_PER_CONTACT = 0.2  # 200,000 tickets per million contacts (issue 29)
SUBJECTS = (
    "Cannot log in",
    "Invoice shows the wrong VAT",
    "Password reset mail never arrives",
    "Export times out",
    "Printer driver crashes",
    "How do I add a user?",
    "Refund for a double charge",
    "App slow since the update",
    "发票抬头错误",
    "无法登录账户",
)
STATUSES = [Status.SOLVED] * 45 + [Status.CLOSED] * 25 + [Status.OPEN] * 15 + [Status.NEW] * 6
STATUSES += [Status.PENDING] * 6 + [Status.ON_HOLD] * 3
SLA = {"low": (480, 2400), "normal": (240, 1440), "high": (60, 480), "urgent": (30, 240)}
AGENT_QUEUES = 2


def _queues() -> list[tuple[Queue, list[User]]]:
    if not SlaPolicy.objects.exists():
        for priority, (first, resolution) in SLA.items():
            SlaPolicy.objects.create(
                priority=priority, first_response_minutes=first, resolution_minutes=resolution
            )
    found = []
    roles = [Role.SALES_REP, Role.SALES_MANAGER, Role.SUPPORT_AGENT]
    for team in Team.objects.order_by("id"):
        members = list(
            User.objects.filter(team=team, is_active=True, groups__name__in=roles)
            .distinct()
            .order_by("id")
        )
        if not members:
            continue
        queue, _created = Queue.objects.get_or_create(
            name=f"{team.name} desk", defaults={"team": team, "lead": members[0]}
        )
        for member in members:
            QueueMember.objects.get_or_create(queue=queue, user=member)
        found.append((queue, members))
    if not found:
        raise RuntimeError("seed the demo users first (seed_demo)")
    _join_agents(found)
    return found


def _join_agents(found: list[tuple[Queue, list[User]]]) -> None:
    """Make support agents without a team agents of the first AGENT_QUEUES queues (idempotent;
    they take assignments there too)."""
    agents = User.objects.filter(
        team__isnull=True, is_active=True, groups__name=Role.SUPPORT_AGENT
    ).order_by("id")
    for agent in agents:
        for queue, members in found[:AGENT_QUEUES]:
            QueueMember.objects.get_or_create(queue=queue, user=agent)
            if agent not in members:
                members.append(agent)


def _numbers(n: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [NUMBER_SEQUENCE, n])
        return [int(row[0]) for row in cursor.fetchall()]


def _ticket(
    queue: Queue, members: list[User], contact: tuple[int, int | None], now: dt.datetime, rng: Any
) -> Ticket:
    status = rng.choice(STATUSES)
    created = now - dt.timedelta(minutes=rng.randint(10, 90 * 24 * 60))
    assignee = rng.choice(members) if rng.random() < 0.85 or status not in (Status.NEW,) else None
    is_open = status in (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
    # Open tickets' timers end around now: some overdue, some due within hours, most later.
    due = now + dt.timedelta(minutes=rng.randint(-600, 3 * 24 * 60)) if is_open else created
    ticket = Ticket(
        subject=rng.choice(SUBJECTS),
        description="Demo ticket.",
        requester_id=contact[0],
        company_id=contact[1],
        channel=rng.choice(Channel.values),
        priority=rng.choice(Priority.values),
        status=status,
        queue=queue,
        assignee=assignee,
        owner=assignee or queue.lead,
        team_id=queue.team_id,
        first_response_due=due - dt.timedelta(hours=6),
        resolution_due=due,
        first_responded_at=None if status == Status.NEW else created + dt.timedelta(hours=1),
        solved_at=None if is_open else created + dt.timedelta(hours=rng.randint(2, 200)),
        paused_at=now if status == Status.PENDING else None,
    )
    ticket.created_at = created
    return ticket


def _messages(ticket: Ticket, count: int, rng: Any) -> list[TicketMessage]:
    kinds = (MessageKind.CUSTOMER, MessageKind.PUBLIC, MessageKind.NOTE)
    return [
        TicketMessage(
            ticket=ticket,
            kind=kinds[0] if i % 2 == 0 else rng.choice(kinds[1:]),
            author=None if i % 2 == 0 else ticket.assignee or ticket.queue.lead,
            body=f"Message {i + 1} about {ticket.subject.lower()}.",
        )
        for i in range(count)
    ]


def _spread_times(table: str, ids: list[int], times: list[dt.datetime]) -> None:
    """auto_now_add overwrote created_at: put the spread back in one UPDATE."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET created_at = t.at, updated_at = t.at "  # noqa: S608 - fixed names
            f"FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, at) WHERE {table}.id = t.id",
            [ids, times],
        )


def _requesters() -> list[tuple[int, Any]]:
    """(id, company id) of up to 200,000 active contacts, the tickets' requesters."""
    contacts = list(
        Contact.objects.filter(archived_at__isnull=True)
        .order_by("id")
        .values_list("id", "company_id")[:200_000]
    )
    if not contacts:
        raise RuntimeError("seed the demo contacts first (seed_demo)")
    return contacts


def seed_tickets(n: int, *, seed: int = 29, long_for: User | None = None) -> dict[str, Any]:
    """Write `n` tickets with conversations; returns facts for the benchmark's results."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    queues = _queues()
    contacts = _requesters()
    now = timezone.now()
    made = messages = 0
    while made < n:
        size = min(BATCH, n - made)
        rows = []
        for number in _numbers(size):
            queue, members = rng.choice(queues)
            ticket = _ticket(queue, members, rng.choice(contacts), now, rng)
            ticket.number = number
            rows.append(ticket)
        times = [row.created_at for row in rows]
        with transaction.atomic():
            created = Ticket.objects.bulk_create(rows)
            _spread_times("support_ticket", [t.pk for t in created], times)
            batch = [m for t in created for m in _messages(t, rng.randint(1, 4), rng)]
            TicketMessage.objects.bulk_create(batch, batch_size=BATCH)
        made += size
        messages += len(batch)
    long_id = seed_long_conversation(long_for) if long_for is not None else None
    return {"tickets": made, "messages": messages, "queues": len(queues), "long": long_id}


TICKET_COLUMNS = (
    "id", "created_at", "updated_at", "number", "subject", "description", "channel", "type",
    "priority", "status", "first_response_due", "resolution_due", "first_responded_at",
    "solved_at", "paused_at", "paused_seconds", "idempotency_key", "assignee_id", "company_id",
    "owner_id", "queue_id", "requester_id", "team_id", "tag_ids",
)  # fmt: skip
MESSAGE_COLUMNS = ("created_at", "updated_at", "kind", "body", "author_id", "ticket_id")
COPY_CHUNK = 20_000


def _ticket_row(ticket: Ticket, pk: int, tags: list[int], rng: Any) -> tuple[Any, ...]:
    tag_ids = (
        sorted(set(rng.sample(tags, min(len(tags), rng.randint(1, 2)))))
        if tags and rng.random() < 0.2
        else []
    )
    return (
        pk, ticket.created_at, ticket.created_at, ticket.number, ticket.subject,
        ticket.description, ticket.channel, ticket.type, ticket.priority, ticket.status,
        ticket.first_response_due, ticket.resolution_due, ticket.first_responded_at,
        ticket.solved_at, ticket.paused_at, 0, "", ticket.assignee_id, ticket.company_id,
        ticket.owner_id, ticket.queue_id, ticket.requester_id, ticket.team_id, tag_ids,
    )  # fmt: skip


def copy_tickets(n: int, *, seed: int = 29) -> dict[str, Any]:
    """`seed_tickets` with PostgreSQL COPY (for 200,000 tickets): the same tickets and one to
    four messages each, ids and numbers reserved from their sequences up front, a fifth of the
    tickets with one or two tags, each chunk in its own transaction. No audit entries and no
    signals (seeding is not a user's change); run ANALYZE afterwards."""
    from contacts.models import Tag
    from crm.bulk import copy_rows, reserve_ids

    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    queues = _queues()
    tags = list(Tag.objects.values_list("id", flat=True)[:20])
    contacts = _requesters()
    now = timezone.now()
    made = messages = 0
    while made < n:
        size = min(COPY_CHUNK, n - made)
        with transaction.atomic(), connection.cursor() as cursor:
            ids = reserve_ids(cursor, Ticket._meta.db_table, size)
            numbers = _numbers(size)
            tickets = []
            for pk, number in zip(ids, numbers, strict=True):
                queue, members = rng.choice(queues)
                ticket = _ticket(queue, members, rng.choice(contacts), now, rng)
                ticket.pk, ticket.number = pk, number
                tickets.append(ticket)
            rows = [_ticket_row(t, t.pk, tags, rng) for t in tickets]
            copy_rows(cursor, Ticket._meta.db_table, TICKET_COLUMNS, rows)
            message_rows = []
            for ticket in tickets:
                for i, message in enumerate(_messages(ticket, rng.randint(1, 4), rng)):
                    at = ticket.created_at + dt.timedelta(hours=i)
                    message_rows.append(
                        (at, at, message.kind, message.body, message.author_id, ticket.pk)
                    )
            copy_rows(cursor, TicketMessage._meta.db_table, MESSAGE_COLUMNS, message_rows)
        made += size
        messages += len(message_rows)
    return {"tickets": made, "messages": messages, "queues": len(queues)}


def seed_demo(*, contacts: int, seed: int) -> dict[str, Any]:
    """seed_demo's hook (contacts' command finds it by name): 0.2 tickets per contact with
    their conversations, by COPY; nothing when there are tickets already."""
    if Ticket.objects.exists():
        _queues()  # the queues' agents, for data seeded before they were added
        return {"tickets": 0}
    return copy_tickets(int(contacts * TICKETS_PER_CONTACT), seed=seed)


def seed_long_conversation(user: User, *, count: int = 100) -> int | None:
    """Give one open ticket of one of `user`'s queues (else of their team) a `count`-message
    conversation (idempotent: a ticket that already has as many is reused). Returns its id."""
    queue_ids = list(
        QueueMember.objects.filter(user=user).order_by("queue_id").values_list("queue", flat=True)
    )
    if queue_ids:
        where: dict[str, Any] = {"queue_id": queue_ids[0]}
    elif user.team_id is not None:
        where = {"team_id": user.team_id}
    else:
        return None
    open_ids = Ticket.objects.filter(**where, status__in=[Status.OPEN, Status.NEW]).order_by("id")
    for ticket in open_ids.select_related("queue", "assignee")[:50]:
        have = TicketMessage.objects.filter(ticket=ticket).count()
        if have >= count:
            return ticket.pk
    first = open_ids.select_related("queue", "assignee").first()
    if first is None:
        return None
    rng = random.Random(first.pk)  # noqa: S311 - demo data
    have = TicketMessage.objects.filter(ticket=first).count()
    TicketMessage.objects.bulk_create(_messages(first, count - have, rng))
    return first.pk
