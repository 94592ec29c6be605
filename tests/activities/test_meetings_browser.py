"""Scheduling a meeting in Chromium at 1280 and 375 px: from the contact page's quick action to
the meeting page with its attendee and queued invitation."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from contacts.activities.models import Meeting
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_schedule_a_meeting_from_the_contact_page(page, live_server, rep):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    page.get_by_role("link", name="Schedule a meeting").click()
    page.get_by_label("Title").fill("Quarterly review")
    page.get_by_label("Location").fill("Room 4")
    shot(page, "meetings-01-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("heading", name="Quarterly review")).to_be_visible()
    expect(page.get_by_text("mia@customer.test").first).to_be_visible()
    shot(page, "meetings-02-page")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    meeting = Meeting.objects.get()
    assert meeting.location == "Room 4"
    assert list(meeting.attendees.values_list("email", flat=True)) == ["mia@customer.test"]
