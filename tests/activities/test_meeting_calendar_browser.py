"""Scheduling a meeting from the calendar in Chromium at 1280 and 375 px: a day's "+" (or
"New meeting"), pick the contact, the form has the day's time, and the meeting then shows on
the organiser's and the invited colleague's calendars."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.grants import sync_role_grants
from contacts.activities import agenda
from contacts.activities.models import Meeting
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_schedule_a_meeting_from_the_calendar(page, live_server, rep, rep_teammate):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    ContactFactory(owner=rep, given_name="Mia", family_name="Wong", emails=["mia@customer.test"])
    day = timezone.localdate() + dt.timedelta(days=1)
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/activities/calendar/?view=week&date={day.isoformat()}")
    shot(page, "meeting-calendar-01-week")
    if page.width >= 992:
        page.locator(f'[data-new-meeting="{day.isoformat()}"]').click()
    else:  # on a phone the empty days are folded away: the header's button, then the day
        page.goto(f"{live_server.url}/activities/calendar/?view=day&date={day.isoformat()}")
        page.get_by_role("link", name="New meeting").click()
    page.get_by_label("Who is the meeting with?").fill("wong")
    page.get_by_role("button", name="Search").click()
    shot(page, "meeting-calendar-02-who")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    page.get_by_role("link", name="Mia Wong").click()
    expect(page.get_by_label("Starts")).to_have_value(f"{day.isoformat()}T09:00")
    page.get_by_label("Title").fill("Kick-off")
    page.get_by_label(rep_teammate.get_full_name()).check()
    shot(page, "meeting-calendar-03-form")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("heading", name="Kick-off")).to_be_visible()
    meeting = Meeting.objects.select_related("interaction").get()
    assert timezone.localtime(meeting.interaction.occurred_at).date() == day
    page.goto(f"{live_server.url}/activities/calendar/?view=week&date={day.isoformat()}")
    expect(page.get_by_text("Kick-off").first).to_be_visible()
    shot(page, "meeting-calendar-04-on-calendar")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    found = agenda.items(user=rep_teammate, start=day, end=day + dt.timedelta(days=1))
    assert [i.title for items in found.values() for i in items if "Kick-off" in i.title]
