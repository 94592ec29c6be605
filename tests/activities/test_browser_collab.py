"""Collaboration in real Chromium at 1280 and 375 px: one user comments on a contact with an
@mention chosen from the autocomplete; the mentioned colleague's bell, on a page they opened
before, shows the new notification without a reload, and its dropdown leads to the record."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from auditlog.context import set_actor
from django.core.cache import cache
from django.utils import timezone

from accounts.grants import sync_role_grants
from contacts.activities.models import Comment, Notification, Task
from tests.activities.factories import make_task
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cast(rep, rep_teammate, own_contact, settings):
    """Roles with their declared grants (as `migrate` gives them), and a fast bell."""
    sync_role_grants()
    cache.delete("version:roles")
    settings.CRM_BELL_POLL_SECONDS = 1
    return rep, rep_teammate


def test_mention_shows_on_the_colleagues_bell_without_reload(
    page, browser, live_server, cast, own_contact
):
    from playwright.sync_api import expect

    rep, teammate = cast
    # The colleague's page, open before anything happens.
    context = browser.new_context(
        viewport={"width": page.width, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    context.set_default_timeout(15_000)
    theirs = context.new_page()
    theirs.width = page.width
    try:
        sign_in(theirs, live_server, teammate.email)
        theirs.goto(f"{live_server.url}/activities/my-work/")
        count = theirs.locator("#notification-count")
        expect(count).to_have_attribute("data-count", "0")

        # The rep comments on the contact and mentions the colleague through the autocomplete.
        sign_in(page, live_server, rep.email)
        page.goto(f"{live_server.url}{own_contact.get_absolute_url()}")
        box = page.get_by_role("textbox", name="Comment")
        box.click()
        box.press_sequentially(f"Please call her back @{teammate.first_name[:3]}")
        option = page.get_by_role("option", name=str(teammate))
        expect(option).to_be_visible()
        shot(page, "collab-01-mention-autocomplete")
        option.click()
        box.press_sequentially("today.")
        expect(box).to_have_value(f"Please call her back @[{teammate}]({teammate.pk}) today.")
        page.get_by_role("button", name="Comment", exact=True).click()
        expect(page.get_by_text("Comment added.")).to_be_visible()
        expect(page.locator(".badge", has_text=f"@{teammate}").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= page.width
        shot(page, "collab-02-comment-on-timeline")
        assert Comment.objects.count() == 1

        # The colleague's bell changes by itself (no reload, no navigation).
        url_before = theirs.url
        expect(count).to_have_attribute("data-count", "1", timeout=10_000)
        expect(count.locator(".badge")).to_contain_text("1")
        assert theirs.url == url_before
        shot(theirs, "collab-03-bell-count")

        theirs.locator("#notification-toggle").click()
        item = theirs.locator("#notification-menu-items").get_by_text(
            f"{rep} mentioned you on {own_contact}"
        )
        expect(item).to_be_visible()
        assert theirs.evaluate("document.documentElement.scrollWidth") <= theirs.width
        shot(theirs, "collab-04-bell-menu")
        item.click()
        theirs.wait_for_url(f"{live_server.url}{own_contact.get_absolute_url()}")
        expect(theirs.locator("#notification-count")).to_have_attribute("data-count", "0")
        assert Notification.objects.get(recipient=teammate).read_at is not None
        shot(theirs, "collab-05-after-reading")

        # Their home page: the day's work, the notification (read), the navigation's count.
        due = timezone.now() + dt.timedelta(minutes=5)
        task = make_task(rep, title="Prepare the renewal", contact=own_contact, assignee=teammate)
        Task.objects.filter(pk=task.pk).update(due_at=due)
        theirs.goto(f"{live_server.url}/")
        theirs.wait_for_url(f"{live_server.url}/activities/home/")
        expect(theirs.get_by_role("link", name="Prepare the renewal")).to_be_visible()
        # Given a task by a colleague: they are told (notification preferences' "assignment").
        expect(theirs.get_by_text("assigned you a task").first).to_be_visible()
        # My work sits in the Activities menu, whose toggle carries its count.
        my_work = theirs.locator("#nav-group-work")
        expect(my_work).to_contain_text("1 task overdue or due today")
        assert theirs.evaluate("document.documentElement.scrollWidth") <= theirs.width
        shot(theirs, "collab-06-home")

        # Their notifications page and, after following the contact, its changes in the feed.
        theirs.goto(f"{live_server.url}/activities/notifications/")
        expect(theirs.get_by_text(f"{rep} mentioned you on {own_contact}")).to_be_visible()
        shot(theirs, "collab-09-notifications")
        theirs.goto(f"{live_server.url}{own_contact.get_absolute_url()}")
        theirs.get_by_role("button", name="Follow", exact=True).click()
        expect(theirs.get_by_role("button", name="Following")).to_be_visible()
        with set_actor(rep):
            own_contact.job_title = "Head of purchasing"
            own_contact.save()
        theirs.goto(f"{live_server.url}/activities/feed/")
        expect(theirs.get_by_text("Head of purchasing")).to_be_visible()
        assert theirs.evaluate("document.documentElement.scrollWidth") <= theirs.width
        shot(theirs, "collab-10-feed")
    finally:
        context.close()


def test_reschedule_a_task_on_the_calendar(page, live_server, cast, own_contact):
    """Desktop: drag the task to another day. Phone: the day view's date picker."""
    from playwright.sync_api import expect

    rep, _teammate = cast
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    due = dt.datetime.combine(monday, dt.time(10, 30), tzinfo=dt.UTC)
    task = make_task(rep, title="Send the proposal", contact=own_contact)
    Task.objects.filter(pk=task.pk).update(due_at=due)
    target = monday + dt.timedelta(days=2)

    sign_in(page, live_server, rep.email)
    if page.width >= 992:
        page.goto(f"{live_server.url}/activities/calendar/?view=week&date={monday:%Y-%m-%d}")
        card = page.locator("[data-reschedule-url]", has_text="Send the proposal")
        expect(card).to_be_visible()
        shot(page, "collab-07-calendar-week")
        card.drag_to(page.locator(f'[data-day="{target:%Y-%m-%d}"]'))
        moved = page.locator(f'[data-day="{target:%Y-%m-%d}"]').get_by_text("Send the proposal")
        expect(moved).to_be_visible()
        page.wait_for_function(
            "() => document.getElementById('calendar-error').classList.contains('d-none')"
        )
        page.goto(f"{live_server.url}/activities/calendar/?date={monday:%Y-%m-%d}")
        shot(page, "collab-08-calendar-month")
    else:
        page.goto(f"{live_server.url}/activities/calendar/?view=day&date={monday:%Y-%m-%d}")
        expect(page.get_by_role("link", name="Send the proposal")).to_be_visible()
        page.get_by_label("New day for Send the proposal").fill(f"{target:%Y-%m-%d}")
        shot(page, "collab-07-calendar-day")
        page.get_by_role("button", name="Move").click()
        expect(page.get_by_text("Task moved.")).to_be_visible()
        page.goto(f"{live_server.url}/activities/calendar/?view=week&date={monday:%Y-%m-%d}")
        assert page.evaluate("document.documentElement.scrollWidth") <= page.width
        shot(page, "collab-08-calendar-week")
    deadline = time.monotonic() + 5  # the drop's request may still be on its way
    while time.monotonic() < deadline:
        task.refresh_from_db()
        if task.due_at.date() == target:
            break
        time.sleep(0.1)
    assert task.due_at == dt.datetime.combine(target, dt.time(10, 30), tzinfo=dt.UTC)
