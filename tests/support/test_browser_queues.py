"""Queues in real Chromium at 1280 and 375 px: an agent's "All open, by queue" shows only their
queues with counts, the queue filter offers only those, and moving a ticket to another team's
queue lands on the list with a message saying they no longer see it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from accounts.models import User
from support.models import AssignmentMode, QueueMember, Ticket
from tests.browser.conftest import shot, sign_in
from tests.support.factories import make_agent, make_queue, make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_sees_their_queues_and_hands_a_ticket_to_billing(
    page, live_server, queue, agent: User
):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    QueueMember.objects.create(queue=queue, user=agent)
    billing = make_queue(
        make_agent(queue.team, "billing-lead@example.com"),
        name="Billing",
        assignment_mode=AssignmentMode.MANUAL,
    )
    mine = make_ticket(queue, subject="Refund asked in Helpdesk", requester_email="a@x.net")
    make_ticket(queue, subject="Printer on fire", requester_email="b@x.net")
    make_ticket(billing, subject="Invoice twice", requester_email="c@x.net")

    sign_in(page, live_server, agent.email)
    page.goto(f"{live_server.url}/support/?view=open")
    counts = page.locator("#ticket-queue-counts")
    expect(counts.get_by_role("link", name="Helpdesk 2")).to_be_visible()
    expect(counts).not_to_contain_text("Billing")
    queue_filter = page.locator("#ticket-filters").get_by_label("Queue")
    assert queue_filter.locator("option").all_inner_texts() == ["Every queue", "Helpdesk"]
    shot(page, "support-05-by-queue")

    page.goto(f"{live_server.url}{mine.get_absolute_url()}")
    page.locator("#ticket-sideform").get_by_label("Queue").select_option(label="Billing")
    page.locator("#ticket-sideform").get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{live_server.url}/support/")
    expect(
        page.get_by_text(f"{mine.reference} moved to Billing; you no longer see it.")
    ).to_be_visible()
    shot(page, "support-06-moved-away")
    assert Ticket.objects.get(pk=mine.pk).queue_id == billing.pk
