"""Logging a call in real Chromium, at desktop and phone (375 px) widths: two taps from the
record's activities panel (`Log a call`, then the outcome), the list refreshes in place."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from contacts.activities.models import Interaction, TaskStatus
from tests.activities.factories import make_task
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(rep, own_contact):
    """A flushed test database got its roles back from the old migrations (tests/roles.py);
    give them the declared grants, activities' included, as `migrate` does."""
    sync_role_grants()
    cache.delete("version:roles")
    return type(rep).objects.get(pk=rep.pk)  # without the decisions cached before the sync


def test_rep_logs_a_call_in_two_taps(page, live_server, granted, own_contact):
    from playwright.sync_api import expect

    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/activities/contacts/{own_contact.pk}/interactions/")
    expect(page.get_by_text("No interactions logged yet.")).to_be_visible()

    page.get_by_role("button", name="Log a call").click()  # tap 1
    form = page.locator("#interaction-form")
    expect(form.get_by_text("Call with Olivia Owner")).to_be_visible()
    expect(form.get_by_role("button", name="Left a message")).to_be_visible()
    # Everything the rep must tap is on the phone's screen without scrolling sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.width
    shot(page, "activities-01-quick-log-form")

    form.get_by_label("Subject").fill("Renewal")
    form.get_by_role("button", name="Left a message").click()  # tap 2 (the subject is optional)
    expect(page.get_by_text("Call logged.")).to_be_visible()
    listing = page.locator("#record-interactions")
    expect(listing.get_by_text("Renewal")).to_be_visible()
    expect(listing.get_by_text("Left a message")).to_be_visible()
    shot(page, "activities-02-call-logged")

    call = Interaction.objects.get()
    assert (call.contact, call.outcome, call.logged_by) == (own_contact, "left_message", granted)
    own_contact.refresh_from_db()
    assert own_contact.last_contacted_at == call.occurred_at


def test_rep_completes_a_task_from_my_work(page, live_server, granted, own_contact):
    from playwright.sync_api import expect

    task = make_task(granted, title="Send the contract", contact=own_contact)
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/activities/my-work/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    shot(page, "activities-03-my-work")
    page.get_by_role("button", name="Complete Send the contract").click()
    page.get_by_label("Log it as").select_option("call")
    page.get_by_label("Outcome").select_option("connected")
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("Task done.")).to_be_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.outcome_interaction is not None
    assert task.outcome_interaction.outcome == "connected"
