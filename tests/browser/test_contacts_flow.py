"""A sales rep's day in real Chromium, at desktop and phone widths."""

from __future__ import annotations

import re

import pytest

from contacts.models import Company, Contact
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_menu_if_collapsed(page) -> None:
    toggler = page.get_by_role("button", name="Toggle navigation")
    if toggler.is_visible():
        toggler.click()


def test_rep_creates_searches_edits_and_is_refused_other_team(
    page, live_server, rep, other_contact
):
    from playwright.sync_api import expect

    sign_in(page, live_server, rep.email)
    shot(page, "01-empty-contact-list")

    # A company.
    open_menu_if_collapsed(page)
    page.get_by_role("link", name="Companies").click()
    page.get_by_role("link", name="New company").click()
    page.get_by_label("Name").fill("Northwind Traders")
    page.get_by_label("Industry").select_option("logistics")
    page.get_by_label("City").fill("郑州")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Northwind Traders")).to_be_visible()
    expect(page.get_by_text("Company created.")).to_be_visible()
    company = Company.objects.get(name="Northwind Traders")

    # A contact at that company, picked with the type-ahead.
    page.get_by_role("link", name="Add person").click()
    page.get_by_label("Given name").fill("Grace")
    page.get_by_label("Family name").fill("Hopper")
    page.get_by_label("Email", exact=True).fill("grace@northwind.example")
    page.get_by_label("Phone", exact=True).fill("+1 (555) 010-7788")
    page.get_by_label("Job title").fill("Buyer")
    expect(page.get_by_label("Company")).to_have_value("Northwind Traders")
    shot(page, "02-new-contact-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    contact = Contact.objects.get(display_name="Grace Hopper")
    assert contact.company == company
    assert contact.owner == rep

    # Search the list: by a fragment of the phone number, updated in place by HTMX.
    page.goto(f"{live_server.url}/contacts/")
    page.get_by_label("Search", exact=True).fill("010-77")
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=010-77"))
    page.get_by_label("Search", exact=True).fill("张伟")
    expect(results.get_by_text("No contacts match")).to_be_visible()
    shot(page, "03-search")

    # Inline edit of one field, then the change shows in the history.
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.get_by_role("button", name="Edit Job title").click()
    field = page.locator("#field-job_title")
    field.get_by_role("textbox").fill("Head of Purchasing")
    field.get_by_role("button", name="Save").click()
    expect(field.get_by_text("Head of Purchasing")).to_be_visible()
    page.reload()
    history = page.locator("#timeline")
    expect(history.get_by_text("Head of Purchasing")).to_be_visible()
    expect(history.get_by_role("deletion").filter(has_text="Buyer")).to_be_visible()
    shot(page, "04-contact-with-history")
    contact.refresh_from_db()
    assert contact.job_title == "Head of Purchasing"

    # Another team's contact: a friendly 404, nothing leaked.
    response = page.goto(f"{live_server.url}/contacts/{other_contact.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("张伟")).to_have_count(0)
    shot(page, "05-other-team-404")


def test_inline_edit_with_bad_value_shows_the_error(page, live_server, rep, own_contact):
    from playwright.sync_api import expect

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/contacts/{own_contact.pk}/")
    page.get_by_role("button", name="Edit Website").click()
    field = page.locator("#field-website")
    field.get_by_role("textbox").fill("not a website")
    field.get_by_role("button", name="Save").click()
    expect(field.get_by_text("Enter a valid URL.")).to_be_visible()
    own_contact.refresh_from_db()
    assert own_contact.website == ""


@pytest.mark.parametrize("page", [375], indirect=True, ids=["phone"])
def test_pages_fit_a_phone_screen(page, live_server, rep, own_contact, own_company):
    sign_in(page, live_server, rep.email)
    for path in ("/contacts/", f"/contacts/{own_contact.pk}/", "/contacts/companies/",
                 f"/contacts/companies/{own_company.pk}/", "/contacts/new/"):  # fmt: skip
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
    shot(page, "06-phone-company")
