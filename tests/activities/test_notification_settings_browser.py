"""The notification settings page in real Chromium (1280 and 375 px): choosing the daily digest."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from contacts.activities import notifications
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_choosing_the_daily_digest(page, live_server, rep):
    from playwright.sync_api import expect

    sync_role_grants()  # a flushed database: the roles' grants back, as `migrate` gives them
    cache.delete("version:roles")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/activities/notifications/settings/")
    page.get_by_label("One digest a day").check()
    shot(page, "activities-notification-settings")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    expect(page.get_by_label("One digest a day")).to_be_checked()
    assert notifications.email_mode(user=rep) == "daily"
