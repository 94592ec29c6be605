"""The agent workspace in real Chromium at 1280 and 375 px: the agent's queue with its counts and
SLA timers, a ticket answered with a canned response (merge fields filled, its status change
applied), and a reply written over a newer customer message refused with that message shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.grants import sync_role_grants
from support.models import CannedResponse, MessageKind, Status, Ticket, TicketMessage
from tests.browser.conftest import shot, sign_in
from tests.support.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(queue, lead):
    """A flushed test database got its roles back from the old migrations: give them the
    declared grants, as `migrate` does; then a queue with a few tickets."""
    sync_role_grants()
    cache.delete("version:roles")
    late = make_ticket(
        queue, actor=lead, subject="Invoice shows the wrong VAT", assignee=lead, priority="high"
    )
    Ticket.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - dt.timedelta(minutes=40)
    )
    make_ticket(queue, actor=lead, subject="Password reset mail never arrives", assignee=lead)
    make_ticket(queue, actor=lead, subject="Printer on fire")
    CannedResponse.objects.create(
        title="Ask for details",
        body=(
            "Hello {requester_first_name}, thanks for {ticket_number}. Could you send a screenshot?"
        ),
        set_status=Status.PENDING,
    )
    return late


def test_agent_answers_with_a_canned_response_and_the_collision_guard_holds(
    page, live_server, lead, desk
):
    from playwright.sync_api import expect

    ticket = desk
    sign_in(page, live_server, lead.email)
    page.goto(f"{live_server.url}/support/")
    expect(page.get_by_role("link", name="Invoice shows the wrong VAT")).to_be_visible()
    expect(page.get_by_role("link", name="My open tickets 2")).to_be_visible()
    expect(page.get_by_text("overdue by 40").filter(visible=True)).to_be_visible()
    shot(page, "support-01-my-open")

    page.get_by_role("link", name="Unassigned 1").click()
    expect(page.get_by_role("link", name="Printer on fire")).to_be_visible()

    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Invoice shows the wrong VAT")).to_be_visible()
    expect(page.get_by_text("First response").first).to_be_visible()
    shot(page, "support-02-ticket")

    page.get_by_label("Canned response").select_option(label="Ask for details")
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_value(
        f"Hello Chris, thanks for {ticket.reference}. Could you send a screenshot?"
    )
    page.get_by_role("button", name="Send").click()
    expect(
        page.locator("#ticket-thread article").filter(has_text="Could you send a screenshot?")
    ).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.first_responded_at is not None

    # While the agent writes, the customer answers: the reply is refused, the answer shown.
    composer.fill("Any news on this?")
    TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.CUSTOMER, body="Here is the screenshot you asked for."
    )
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("A newer message arrived")).to_be_visible()
    expect(page.get_by_text("New since you started writing")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_have_value("Any news on this?")
    shot(page, "support-03-collision")
    assert not TicketMessage.objects.filter(body="Any news on this?").exists()
    page.get_by_role("button", name="Send").click()
    expect(
        page.locator("#ticket-thread article").filter(has_text="Any news on this?")
    ).to_be_visible()
