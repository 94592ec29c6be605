"""Issue 29's browser test "the customer's emailed reply lands in the ticket (through a real SMTP
and inbound path)", in real Chromium at 1280 and 375 px: a customer's mail comes in through the
inbound endpoint, the agent answers it on the ticket page, a real Celery worker sends the reply
to a real SMTP server (aiosmtpd), the customer answers that mail, and the agent's page shows the
answer in the conversation."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.grants import sync_role_grants
from support.models import MessageKind, Ticket, TicketMessage
from tests.browser.conftest import shot, sign_in
from tests.support.factories import make_agent, make_queue, make_sla_policies
from tests.support.test_inbound import SUPPORT, build
from tests.support.test_services import smtp  # noqa: F401  (the real SMTP server fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait(check: Callable[[], bool], seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_the_customers_emailed_answer_lands_in_the_agents_ticket(
    page,
    live_server,
    support_team,
    smtp,  # noqa: F811
    live_worker,
    settings,
):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    settings.CRM_INBOUND_SECRET = "inbound-secret"
    settings.SUPPORT_EMAIL_ADDRESSES = [SUPPORT]
    make_sla_policies()
    lead = make_agent(support_team, "lead@example.com")
    make_queue(lead)
    mail = Client()

    def post_raw(raw: bytes) -> int:
        response = mail.post(
            f"/inbound/raw/?mailbox={SUPPORT}",
            raw,
            content_type="message/rfc822",
            HTTP_AUTHORIZATION="Bearer inbound-secret",
        )
        return response.status_code

    assert post_raw(build(subject="Scanner jams", message_id="<jam-1@mail.example.net>")) == 202
    assert _wait(lambda: len(smtp.messages) == 1), "no confirmation"
    ticket = Ticket.objects.get()

    sign_in(page, live_server, lead.email)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Scanner jams")).to_be_visible()
    page.get_by_label("Message", exact=True).fill("Please open the rear tray and retry.")
    page.get_by_role("button", name="Send").click()
    expect(
        page.locator("#ticket-thread article").filter(has_text="open the rear tray")
    ).to_be_visible()
    assert _wait(lambda: len(smtp.messages) == 2), "the agent's reply was not mailed"
    reply = smtp.messages[1]
    assert reply["To"] == "mia@example.net"
    assert ticket.reference in reply["Subject"]

    answer = build(
        subject=f"Re: {reply['Subject']}",
        body="Rear tray opened. No more jams.",
        headers={"In-Reply-To": reply["Message-ID"], "References": reply["Message-ID"]},
    )
    assert post_raw(answer) == 202
    assert _wait(
        lambda: (
            TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER)
            .exclude(body__contains="smoking")
            .exists()
        )
    ), "the answer did not land in the ticket"
    page.reload()
    expect(page.locator("#ticket-thread article").filter(has_text="No more jams.")).to_be_visible()
    shot(page, "support-04-emailed-answer")
    assert Ticket.objects.count() == 1
    assert len(smtp.messages) == 2  # the answer is not confirmed again
