from __future__ import annotations

import datetime as dt
import re
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections
from django.utils import timezone

from contacts.models import Contact
from crm.models import OutboxMessage
from support import services
from support.models import (
    AssignmentMode,
    MessageKind,
    QueueMember,
    SlaEvent,
    Status,
    Ticket,
    TicketMessage,
)
from tests.contacts.factories import ContactFactory
from tests.support.factories import make_agent, make_queue, make_sla_policies, make_ticket

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_agent_creates_ticket_with_readable_number_due_dates_and_audit(queue, lead):
    first = make_ticket(queue, actor=lead)
    second = make_ticket(queue, actor=lead, priority="urgent")
    assert re.fullmatch(r"T-\d{6}", first.reference)
    assert second.number == first.number + 1
    assert first.status == Status.NEW
    assert first.team_id == queue.team_id
    assert first.owner == lead
    assert first.first_response_due is not None
    assert first.resolution_due is not None
    assert first.first_response_due < first.resolution_due
    assert second.resolution_due < first.resolution_due  # urgent: 4 business hours, not 24
    assert LogEntry.objects.get_for_object(first).get().actor == lead


def test_unknown_requester_becomes_a_contact_owned_by_the_queue_lead(queue, lead):
    ticket = make_ticket(queue, actor=None, requester_email="New.Person@Example.net")
    contact = ticket.requester
    assert contact.primary_email == "new.person@example.net"
    assert (contact.given_name, contact.family_name) == ("Chris", "Customer")
    assert contact.owner == lead
    assert ticket.owner == lead


def test_known_requester_email_reuses_the_contact(queue, lead, own_contact):
    contacts_before = Contact.objects.count()
    ticket = make_ticket(queue, actor=None, requester_email=own_contact.primary_email.upper())
    assert ticket.requester == own_contact
    assert Contact.objects.count() == contacts_before


def test_idempotency_key_returns_the_first_ticket(queue, lead):
    first = make_ticket(queue, actor=lead, idempotency_key="abc-1")
    again = make_ticket(queue, actor=lead, idempotency_key="abc-1", subject="Other")
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1


def test_bad_input_is_refused_and_writes_nothing(queue, lead):
    with pytest.raises(services.DomainError) as caught:
        make_ticket(queue, actor=lead, subject="   ")
    assert caught.value.field == "subject"
    with pytest.raises(services.DomainError) as caught:
        make_ticket(queue, actor=lead, requester_email="")
    assert caught.value.field == "requester_email"
    with pytest.raises(services.DomainError):
        make_ticket(queue, actor=lead, priority="panic")
    assert not Ticket.objects.exists()


def test_read_only_cannot_create(queue, read_only):
    with pytest.raises(PermissionDenied):
        make_ticket(queue, actor=read_only)


def test_round_robin_is_fair_and_skips_unavailable_agents(queue, lead, agent_b, support_team):
    agent_c = make_agent(support_team, "agent-c@example.com")
    away = make_agent(support_team, "away@example.com")
    QueueMember.objects.create(queue=queue, user=agent_c)
    QueueMember.objects.create(queue=queue, user=away, available=False)
    queue.assignment_mode = AssignmentMode.ROUND_ROBIN
    queue.save()
    tickets = [make_ticket(queue, actor=None) for _ in range(6)]
    counts = {u.email: sum(t.assignee == u for t in tickets) for u in (lead, agent_b, agent_c)}
    assert counts == {u.email: 2 for u in (lead, agent_b, agent_c)}
    assert all(t.owner == t.assignee for t in tickets)
    assert not any(t.assignee == away for t in tickets)


@pytest.mark.django_db(transaction=True)
def test_round_robin_under_concurrency_spreads_tickets(support_team):
    make_sla_policies()
    agents = [make_agent(support_team, f"rr{i}@example.com") for i in range(4)]
    queue = make_queue(agents[0], members=tuple(agents[1:]))
    queue.assignment_mode = AssignmentMode.ROUND_ROBIN
    queue.save()
    made: list[int] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        try:
            barrier.wait()
            made.append(make_ticket(queue, actor=None, requester_email="cc@example.net").pk)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assignees = list(Ticket.objects.filter(pk__in=made).values_list("assignee", flat=True))
    assert len(made) == 4
    # SKIP LOCKED: concurrent creations never wait for, nor take, the same agent's turn.
    assert len(set(assignees)) == len([a for a in assignees if a is not None])


def test_manual_assign_to_a_non_member_is_refused(queue, lead, rep):
    ticket = make_ticket(queue, actor=lead)
    with pytest.raises(services.DomainError) as caught:
        services.ticket_assign(ticket=ticket, assignee=rep, actor=lead)
    assert caught.value.field == "assignee"
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_reply_opens_ticket_stops_first_response_and_queues_one_email(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    message = services.ticket_reply(ticket=ticket, body="On our way", actor=lead)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_responded_at == message.created_at
    rows = OutboxMessage.objects.filter(task_name=services.REPLY_TASK)
    assert [r.kwargs for r in rows] == [{"message_id": message.pk}]


def test_note_is_never_emailed(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    note = services.ticket_note(ticket=ticket, body="Customer is VIP", actor=lead)
    assert note.kind == MessageKind.NOTE
    assert not OutboxMessage.objects.filter(task_name=services.REPLY_TASK).exists()
    assert services.ticket_reply_deliver(message_id=note.pk) is False


def test_empty_reply_and_reply_to_closed_ticket_are_refused(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    with pytest.raises(services.DomainError, match="message"):
        services.ticket_reply(ticket=ticket, body="  ", actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=lead)
    with pytest.raises(services.DomainError):
        services.ticket_reply(ticket=ticket, body="Hello", actor=lead)


def test_outsider_cannot_work_the_ticket(queue, lead, rep, support_team):
    ticket = make_ticket(queue, actor=lead)
    stranger = make_agent(support_team, "stranger@example.com")  # not a member, not the owner
    with pytest.raises(PermissionDenied):
        services.ticket_note(ticket=ticket, body="x", actor=stranger)
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=ticket, body="x", actor=rep)


def test_pending_pauses_the_sla_and_resuming_pushes_due_dates(queue, lead, agent_b):
    # Monday 10:00 Shanghai; normal priority: resolution due after 24 business hours.
    monday = dt.datetime(2026, 11, 30, 10, tzinfo=SHANGHAI)
    ticket = make_ticket(queue, actor=lead)
    Ticket.objects.filter(pk=ticket.pk).update(
        resolution_due=dt.datetime(2026, 12, 3, 16, tzinfo=SHANGHAI)
    )
    ticket.refresh_from_db()
    original = ticket.resolution_due
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: monday)
        services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=lead)
        patch.setattr(timezone, "now", lambda: monday + dt.timedelta(hours=3))
        services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=lead)
    ticket.refresh_from_db()
    assert ticket.paused_at is None
    assert ticket.paused_seconds == 3 * 3600
    # Paused three business hours: Thursday 16:00 + 3h = Friday 10:00 (day ends 18:00).
    assert ticket.resolution_due == dt.datetime(2026, 12, 4, 10, tzinfo=SHANGHAI)
    assert ticket.resolution_due > original


def test_solved_records_when_and_reopening_clears_it(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    solved = services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    assert solved.solved_at is not None
    reopened = services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=lead)
    assert reopened.solved_at is None
    with pytest.raises(services.DomainError):
        services.ticket_set_status(ticket=ticket, status="gone", actor=lead)


# --- delivery through a real worker and a real SMTP server -----------------------------------


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    yield inbox
    controller.stop()


@pytest.mark.slow
def test_reply_is_emailed_once_by_a_real_worker(support_team, smtp, live_worker):
    make_sla_policies()
    lead = make_agent(support_team, "lead@example.com")
    queue = make_queue(lead)
    requester = ContactFactory(owner=lead, given_name="Mia")
    services_ticket = make_ticket(queue, actor=lead, requester=requester)
    Contact.objects.filter(pk=requester.pk).update(primary_email="mia@example.net")
    message = services.ticket_reply(ticket=services_ticket, body="Fixed it.", actor=lead)
    deadline = time.monotonic() + 15
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "mia@example.net"
    assert services_ticket.reference in mail["Subject"]
    assert "Fixed it." in mail.get_payload()
    # A second delivery of the task (acks_late redelivery) sends nothing.
    assert services.ticket_reply_deliver(message_id=message.pk) is False
    time.sleep(0.5)
    assert len(smtp.messages) == 1


# --- SLA warnings and escalations -------------------------------------------------------------


def _due_in(ticket: Ticket, **delta: float) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due=timezone.now() + dt.timedelta(**delta),
        resolution_due=timezone.now() + dt.timedelta(days=30),
    )


def test_sla_check_warns_then_escalates_once_each(queue, lead):
    ticket = make_ticket(queue, actor=lead)  # normal priority, warn 30 min before
    _due_in(ticket, minutes=10)
    assert services.sla_check() == 1
    assert services.sla_check() == 0
    notes = list(TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE))
    assert len(notes) == 1
    assert "First response" in notes[0].body
    _due_in(ticket, minutes=-1)
    assert services.sla_check() == 1
    assert services.sla_check() == 0
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    kinds = set(SlaEvent.objects.filter(ticket=ticket).values_list("target", "kind"))
    assert kinds == {("first_response", "warning"), ("first_response", "breach")}


def test_sla_check_ignores_paused_answered_and_far_tickets(queue, lead):
    paused = make_ticket(queue, actor=lead)
    answered = make_ticket(queue, actor=lead)
    far = make_ticket(queue, actor=lead)
    for ticket in (paused, answered, far):
        _due_in(ticket, minutes=-5 if ticket is not far else 600)
    services.ticket_set_status(ticket=paused, status=Status.PENDING, actor=lead)
    Ticket.objects.filter(pk=answered.pk).update(first_responded_at=timezone.now())
    assert services.sla_check() == 0
    assert not SlaEvent.objects.exists()


@pytest.mark.slow
def test_escalation_happens_once_through_a_real_worker_run_twice(support_team, live_worker):
    from support import tasks

    make_sla_policies()
    lead = make_agent(support_team, "lead@example.com")
    queue = make_queue(lead)
    ticket = make_ticket(queue, actor=lead)
    _due_in(ticket, minutes=-1)
    results = [tasks.sla_check.delay(), tasks.sla_check.delay()]
    assert sorted(r.get(timeout=20) for r in results) == [0, 1]
    assert SlaEvent.objects.filter(ticket=ticket, kind="breach").count() == 1
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1
    ticket.refresh_from_db()
    assert ticket.priority == "high"
