"""The kit's list pages in real Chromium at 1280 and 375 px (issue 25): the table fits its card,
the bulk bar waits until a row is selected, read-only users get neither checkboxes nor the bar."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = """() => {
  const box = document.querySelector('#contact-list-results .table-responsive');
  return [box.scrollWidth, box.clientWidth];
}"""


@pytest.fixture
def long_rows(rep):
    company = CompanyFactory(owner=rep, name="Internationale Handelsgesellschaft Nordwest GmbH")
    tags = [TagFactory(name="VIP"), TagFactory(name="Newsletter")]
    for i in range(12):
        ContactFactory(
            owner=rep,
            given_name=f"Maximiliane{i}",
            family_name="Oberhuber-Wittgenstein",
            job_title="Head of International Procurement and Logistics",
            company=company,
            emails=[f"maximiliane.oberhuber-wittgenstein.{i}@handelsgesellschaft.example"],
            phones=[f"+49 170 1234 56{i:02d}"],
            tags=tags,
        )


def test_contact_table_fits_and_bulk_bar_waits_for_a_selection(page, live_server, rep, long_rows):
    from playwright.sync_api import expect

    sign_in(page, live_server, rep.email)
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Maximiliane0 Oberhuber-Wittgenstein")).to_be_visible()
    scroll_width, client_width = page.evaluate(FITS)
    assert scroll_width <= client_width, (scroll_width, client_width)  # no cut-off column
    # The last column is on screen.
    created = results.get_by_role("columnheader", name="Created")
    if page.width >= 768:
        box = created.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= page.width
    bar = page.locator(".list-bulk-bar")
    expect(bar).to_be_hidden()
    shot(page, "list-contacts")

    results.get_by_role("checkbox", name="Maximiliane0 Oberhuber-Wittgenstein").check()
    expect(bar).to_be_visible()
    height = bar.bounding_box()["height"]
    assert height < 900 / 3, height
    shot(page, "list-contacts-selected")
    results.get_by_role("checkbox", name="Maximiliane0 Oberhuber-Wittgenstein").uncheck()
    expect(bar).to_be_hidden()


def test_sort_link_reloads_the_results_in_place(page, live_server, rep, long_rows):
    from playwright.sync_api import expect

    sign_in(page, live_server, rep.email)
    results = page.locator("#contact-list-results")
    results.get_by_role("link", name="Name").click()
    expect(page).to_have_url(f"{live_server.url}/contacts/?sort=-name")
    first = results.locator("tbody tr").first
    expect(first).to_contain_text("Maximiliane9")


def test_read_only_gets_no_checkboxes_or_bulk_bar(page, live_server, read_only, rep, long_rows):
    from playwright.sync_api import expect

    sign_in(page, live_server, read_only.email)
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Maximiliane0 Oberhuber-Wittgenstein")).to_be_visible()
    expect(results.get_by_role("checkbox")).to_have_count(0)
    expect(page.locator(".list-bulk-bar")).to_have_count(0)
    shot(page, "list-contacts-read-only")
    page.goto(f"{live_server.url}/contacts/companies/")
    expect(page.get_by_role("link", name="Internationale Handelsgesellschaft")).to_be_visible()
    shot(page, "list-companies")
