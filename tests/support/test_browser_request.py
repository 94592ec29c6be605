"""A customer submits a request on the public page in real Chromium at 1280 and 375 px: the
article suggestions appear while they type the subject, a mistake is shown next to its field,
and the confirmation page shows the ticket number."""

from __future__ import annotations

import pytest

from support.models import Channel, Ticket
from support.plugins import Suggester, Suggestion, suggesters
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _articles(text: str, language: str, limit: int, public: bool) -> list[Suggestion]:
    if "password" not in text.lower():
        return []
    return [
        Suggestion(
            title="Reset your password",
            url="/kb/",
            snippet="Use “Forgot password?” on the sign-in page; the link is valid for a day.",
        ),
        Suggestion(title="Sign-in is locked", url="/kb/", snippet="After five wrong passwords."),
    ][:limit]


def test_customer_submits_a_request_and_gets_the_number(page, live_server, queue):
    from playwright.sync_api import expect

    with suggesters.temporarily(Suggester(key="browser-kb", suggest=_articles)):
        page.goto(f"{live_server.url}/support/request/")
        expect(page.get_by_role("heading", name="Submit a request")).to_be_visible()
        page.get_by_label("Your name").fill("Wang Fang")
        page.get_by_label("Email").fill("not-an-address")
        page.get_by_label("Subject").press_sequentially("Password reset mail", delay=20)
        expect(page.get_by_role("link", name="Reset your password")).to_be_visible()
        page.get_by_label("How can we help?").fill(
            "I asked for a reset link twice and nothing arrived, not even in spam."
        )
        shot(page, "support-request-01-suggestions")
        page.wait_for_timeout(3200)  # people take a few seconds; the form refuses faster posts
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
        expect(page.get_by_role("link", name="Reset your password")).to_be_visible()
        shot(page, "support-request-02-error")
        page.get_by_label("Email").fill("wang.fang@example.cn")
        page.wait_for_timeout(3200)
        page.get_by_role("button", name="Send request").click()
        thanks = page.get_by_role("heading", name="Thank you, we received your request")
        expect(thanks).to_be_visible()
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.WEB
    assert ticket.requester.primary_email == "wang.fang@example.cn"
    expect(page.locator("#ticket-reference")).to_have_text(ticket.reference)
    shot(page, "support-request-03-done")
