"""The mailbox page with a mail provider set up for OAuth2, in real Chromium (1280 and 375 px):
the "Sign in with" form sends the user to the provider."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_sign_in_button_goes_to_the_provider(page, live_server, rep, settings):
    from playwright.sync_api import expect

    sync_role_grants()  # a flushed database: the roles' grants back, as `migrate` gives them
    cache.delete("version:roles")
    settings.CRM_MAIL_OAUTH_PROVIDERS = {
        "google": {
            "client_id": "crm-client",
            "client_secret": "crm-secret",
            "authorize_url": f"{live_server.url}/healthz",  # stands in for the provider
            "token_url": f"{live_server.url}/token",
            "scope": "https://mail.google.com/",
            "imap_host": "imap.gmail.com",
            "smtp_host": "smtp.gmail.com",
        }
    }
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/activities/mail/mailbox/")
    expect(page.get_by_label("Email address").first).to_have_value(rep.email)
    shot(page, "activities-mailbox-oauth")
    page.get_by_role("button", name="Sign in with Google").click()
    page.wait_for_url("**/healthz?**")
    assert "client_id=crm-client" in page.url
    assert "login_hint=rep%40example.com" in page.url
