"""The support card on the home page (support/home.py): the agent's own open tickets, due first
on top, with how many are about to breach."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from support.home import my_tickets
from support.models import Status, Ticket
from tests.conftest import login
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_the_agents_open_tickets_due_first(client, queue, lead, agent_b):
    normal = make_ticket(queue, actor=lead, assignee=lead, subject="Normal one")
    urgent = make_ticket(queue, actor=lead, assignee=lead, subject="Urgent one", priority="urgent")
    make_ticket(queue, actor=lead, assignee=agent_b, subject="Someone else's")
    solved = make_ticket(queue, actor=lead, assignee=lead, subject="Solved one")
    type(solved).objects.filter(pk=solved.pk).update(status=Status.SOLVED)
    # Business hours decide the SLA's due times; set them so the test does not hang on the clock.
    soon, later = timezone.now() + dt.timedelta(hours=1), timezone.now() + dt.timedelta(days=3)
    Ticket.objects.filter(pk=urgent.pk).update(first_response_due=soon, resolution_due=soon)
    Ticket.objects.filter(pk=normal.pk).update(first_response_due=later, resolution_due=later)
    mine = my_tickets(user=lead)
    assert [t.pk for t in mine.tickets] == [urgent.pk, normal.pk]
    assert mine.open == 2
    assert mine.breaching == 1  # urgent: due within the 4-hour window
    login(client, lead)
    page = client.get(reverse("support:home-tickets")).content.decode()
    assert urgent.reference in page
    assert "Someone else" not in page
    assert "1 breaching soon" in page
