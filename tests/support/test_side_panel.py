"""The ticket page's side panel (issue 29: "a side panel with the customer's profile, past
tickets, open opportunities and recent interactions"): the requester's profile and their recent
interactions (activities' timeline, through the door), and their other tickets the user sees.
Open opportunities: tests/support/test_deal_sight.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contacts.activities import services as activity_services
from contacts.activities.models import Channel
from tests.conftest import login
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def _call(contact, actor, subject: str) -> None:
    activity_services.interaction_log(
        data=activity_services.InteractionInput(
            channel=Channel.CALL,
            occurred_at=timezone.now() - dt.timedelta(hours=1),
            contact=contact,
            subject=subject,
        ),
        actor=actor,
    )


def test_the_side_panel_shows_the_requesters_profile_past_tickets_and_calls(client, queue, lead):
    ticket = make_ticket(queue, actor=lead, subject="Scanner jams")
    earlier = make_ticket(queue, actor=lead, subject="Toner smudges")
    other = make_ticket(queue, actor=lead, subject="Someone else's", requester_email="x@y.net")
    _call(ticket.requester, lead, "Called about the scanner")
    _call(other.requester, lead, "A call with someone else")
    login(client, lead)
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    panel = html[html.index('aria-label="Ticket details"') :]
    assert ticket.requester.get_absolute_url() in panel  # the profile
    assert "customer@example.net" in panel
    assert earlier.reference in panel
    assert "Toner smudges" in panel
    assert other.reference not in panel
    recent = panel[panel.index('id="interactions-heading"') :]
    assert "Called about the scanner" in recent
    assert "A call with someone else" not in recent
