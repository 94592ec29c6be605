"""Queues and SLA policies are configuration (built directly); tickets go through the services."""

from __future__ import annotations

from typing import Any

from accounts.models import Role, Team, User
from support import services
from support.models import Queue, QueueMember, SlaPolicy, Ticket
from tests.accounts.factories import TeamFactory, UserFactory

SLA = {"low": (480, 2400), "normal": (240, 1440), "high": (60, 480), "urgent": (30, 240)}


def make_sla_policies() -> None:
    for priority, (first, resolution) in SLA.items():
        SlaPolicy.objects.create(
            priority=priority, first_response_minutes=first, resolution_minutes=resolution
        )


def make_agent(team: Team, email: str) -> User:
    return UserFactory(email=email, team=team, role=Role.SUPPORT_AGENT)


def make_queue(
    lead: User, *, name: str = "Helpdesk", members: tuple[User, ...] = (), **values: Any
) -> Queue:
    values.setdefault("team", lead.team or TeamFactory(name=f"{name} team"))
    queue = Queue.objects.create(name=name, lead=lead, **values)
    for member in (lead, *members):
        QueueMember.objects.get_or_create(queue=queue, user=member)
    return queue


def make_ticket(queue: Queue, *, actor: User | None = None, **values: Any) -> Ticket:
    values.setdefault("subject", "Printer on fire")
    values.setdefault("requester_email", "customer@example.net")
    values.setdefault("requester_name", "Chris Customer")
    return services.ticket_create(data=services.TicketInput(queue=queue, **values), actor=actor)
