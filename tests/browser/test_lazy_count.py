"""The lazy count in real Chromium at 1280 and 375 px (issue 31): the rows come first, the pager's
count loads after them from the list's URL with `count=1`, and a filtered list under the cap
counts with its rows."""

from __future__ import annotations

import pytest
from django.db import connection

from crm import pagination
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def big(rep, settings, monkeypatch):
    settings.CRM_COUNT_CAP = 3
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 0)  # the table is small here
    for i in range(12):
        ContactFactory(owner=rep, given_name=f"Person{i:02d}", family_name="Lazy")
    ContactFactory(owner=rep, given_name="Only", family_name="Customer", lifecycle_stage="customer")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")


def test_the_count_loads_after_the_rows(page, live_server, rep, big):
    from playwright.sync_api import expect

    counted = []
    page.on("request", lambda r: counted.append(r.url) if "count=1" in r.url else None)
    sign_in(page, live_server, rep.email)
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Person00 Lazy")).to_be_visible()
    pager = results.locator("nav[aria-label='Pages']")
    expect(pager.get_by_text("More than 3")).to_be_visible()
    expect(pager.get_by_role("link", name="Count the results")).to_have_count(0)
    assert counted, "the count came with the page instead of after it"
    assert page.url.endswith("/contacts/")  # loading the count does not change the address
    shot(page, "lazy-count")
    page.goto(f"{live_server.url}/contacts/?stage=customer")
    expect(results.get_by_role("link", name="Only Customer")).to_be_visible()
    expect(pager.get_by_text("1 result")).to_be_visible()
