""" "My work" in real Chromium: "Show more" appends a section's next rows in place (HTMX)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from contacts.activities import selectors
from tests.activities.test_my_work_pages import _tasks
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_show_more_appends_the_next_rows(page, live_server, rep):
    from playwright.sync_api import expect

    sync_role_grants()  # a flushed database: the roles' grants back, as `migrate` gives them
    cache.delete("version:roles")
    _tasks(rep, selectors.MY_WORK_SIZE + 5, prefix="soon")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/activities/my-work/")
    rows = page.locator("#work-upcoming-rows a.fw-semibold")
    expect(rows).to_have_count(selectors.MY_WORK_SIZE)
    page.locator("#work-upcoming-rows").get_by_role("link", name="Show more").click()
    expect(rows).to_have_count(selectors.MY_WORK_SIZE + 5)
    expect(page.locator("#work-upcoming-rows").get_by_role("link", name="Show more")).to_have_count(
        0
    )
    assert page.url == f"{live_server.url}/activities/my-work/"  # in place, no navigation
    shot(page, "activities-my-work-more")
