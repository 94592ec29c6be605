"""Reads of the agent workspace: views, counts, search and a customer's tickets, scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from support import selectors
from support.models import Status, Ticket
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_breaching_soon_takes_either_running_timer_and_skips_paused(queue, lead):
    now = timezone.now()
    first = make_ticket(queue, actor=lead, subject="first")
    resolution = make_ticket(queue, actor=lead, subject="resolution")
    paused = make_ticket(queue, actor=lead, subject="paused")
    answered = make_ticket(queue, actor=lead, subject="answered")
    calm = make_ticket(queue, actor=lead, subject="calm")
    later = now + dt.timedelta(days=30)
    soon = now + dt.timedelta(hours=1)
    Ticket.objects.update(first_response_due=later, resolution_due=later)
    Ticket.objects.filter(pk=first.pk).update(first_response_due=soon)
    Ticket.objects.filter(pk=resolution.pk).update(resolution_due=now - dt.timedelta(hours=1))
    Ticket.objects.filter(pk=paused.pk).update(first_response_due=soon, status=Status.PENDING)
    Ticket.objects.filter(pk=answered.pk).update(first_response_due=soon, first_responded_at=now)
    found = set(
        Ticket.objects.filter(selectors.breaching_q(now=now)).values_list("subject", flat=True)
    )
    assert found == {"first", "resolution"}
    assert calm.subject not in found
    assert selectors.view_counts(user=lead)["breaching"] == 2


def test_search_by_reference_number_or_subject(queue, lead):
    ticket = make_ticket(queue, actor=lead, subject="Coffee machine")
    assert selectors.ticket_search(user=lead, query=ticket.reference, limit=5) == [ticket]
    assert selectors.ticket_search(user=lead, query=str(ticket.number), limit=5) == [ticket]
    assert selectors.ticket_search(user=lead, query="coffee", limit=5) == [ticket]
    assert selectors.ticket_search(user=lead, query="9" * 40, limit=5) == []
    assert selectors.ticket_search(user=lead, query="  ", limit=5) == []


def test_customer_tickets_are_scoped(queue, lead, rep, rep_other_team):
    ticket = make_ticket(queue, actor=lead)
    contact = ticket.requester
    assert selectors.customer_tickets(user=lead, record=contact) == [ticket]
    assert selectors.customer_tickets(user=rep, record=contact) == []
    Ticket.objects.filter(pk=ticket.pk).update(team=rep.team)
    # Read once per request: the same user object keeps what it read; the next request's sees it.
    assert selectors.customer_tickets(user=rep, record=contact) == []
    rep = User.objects.get(pk=rep.pk)
    assert [t.pk for t in selectors.customer_tickets(user=rep, record=contact)] == [ticket.pk]
    assert selectors.customer_tickets(user=rep_other_team, record=contact) == []


def test_ticket_page_shows_only_visible_past_tickets(queue, lead, rep):
    one = make_ticket(queue, actor=lead, requester_email="same@example.net")
    two = make_ticket(queue, actor=lead, requester_email="same@example.net")
    page = selectors.ticket_page(user=lead, ticket=two)
    assert [t.pk for t in page.past_tickets] == [one.pk]
    Ticket.objects.filter(pk=two.pk).update(team=rep.team)
    two.refresh_from_db()
    assert selectors.ticket_page(user=rep, ticket=two).past_tickets == []


def test_demo_seed_makes_tickets_conversations_and_a_long_one(queue, lead):
    from support.demo import seed_tickets

    make_ticket(queue, actor=lead)  # a contact to be the requester
    facts = seed_tickets(40, long_for=lead)
    assert facts["tickets"] == 40
    assert facts["messages"] >= 40
    long = Ticket.objects.get(pk=facts["long"])
    assert long.messages.count() >= 100
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert Ticket.objects.filter(status__in=[Status.OPEN, Status.NEW]).exists()


def test_timeline_source_gives_the_customers_visible_tickets(queue, lead, rep):
    from contacts import timeline
    from support.registrations import ticket_timeline_entries

    ticket = make_ticket(queue, actor=lead)
    source = next(s for s in timeline.sources if s.kind == "ticket")
    assert source.entries is ticket_timeline_entries
    entries = ticket_timeline_entries(lead, ticket.requester, None, 10)
    assert [e.obj.pk for e in entries] == [ticket.pk]
    assert ticket_timeline_entries(rep, ticket.requester, None, 10) == []
    if ticket.company is not None:
        assert ticket_timeline_entries(lead, ticket.company, None, 10)[0].obj == ticket
