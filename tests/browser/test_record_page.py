"""The contact and company pages a rep works from (issue 26), in real Chromium at 1280 and 375 px:
the header's quick actions open the call log above the timeline, a call is logged in two taps and
shows on the timeline, fields are edited in place (a bad value shows its error in place), and the
company page's header follows an in-place edit. Nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt

import pytest

from contacts import services
from contacts.activities.comments import comment_create
from contacts.activities.models import Interaction
from tests.activities.factories import log_interaction, make_task
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {page.width}px"


def test_a_rep_works_from_the_contact_page(page, live_server, rep, rep_teammate):
    from playwright.sync_api import expect

    company = CompanyFactory(
        owner=rep, name="Northwind Traders", industry="retail", phone="+44 20 7946 0000"
    )
    contact = ContactFactory(
        owner=rep,
        given_name="Grace",
        family_name="Hopper",
        job_title="Buyer",
        company=company,
        emails=["grace@northwind.example"],
        phones=["+44 20 7946 0958"],
    )
    ContactFactory(owner=rep, company=company, given_name="Alan", family_name="Turing")
    log_interaction(rep, contact=contact, subject="Intro call", ago=dt.timedelta(days=3))
    make_task(rep, contact=contact, title="Send the price list")
    comment_create(target=contact, body="She prefers mornings.", actor=rep_teammate)

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    header = page.get_by_role("region", name="Grace Hopper")
    expect(header.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(header.get_by_role("link", name="grace@northwind.example")).to_be_visible()
    expect(header.get_by_text("Last contacted")).to_be_visible()
    actions = header.get_by_role("group", name="Quick actions")
    for name in ("Log a call", "Email", "Task", "Comment", "Meeting"):
        expect(actions.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("region", name="Company").get_by_text("Alan Turing")).to_be_visible()
    expect(page.locator("#timeline").get_by_text("She prefers mornings.")).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "record-01-contact")

    # Log a call in two taps: the form opens above the timeline, an outcome saves it.
    actions.get_by_role("link", name="Log a call", exact=True).click()
    form = page.locator("#quick-log-slot form")
    expect(form).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "record-02-log-call")
    form.get_by_role("button").first.click()
    expect(page.locator("#quick-log-done")).to_be_visible()
    assert Interaction.objects.filter(contact=contact).count() == 2
    expect(page.locator("#timeline-entries > li[data-kind=interaction]")).to_have_count(2)

    # A field edited in place: the value is the button; the header follows.
    page.get_by_role("button", name="Edit Job title").click()
    field = page.locator("#field-job_title")
    field.get_by_role("textbox").fill("Head of Purchasing")
    field.get_by_role("button", name="Save").click()
    expect(page.locator("#contact-subtitle")).to_contain_text("Head of Purchasing")
    expect(field.get_by_role("textbox")).to_have_count(0)

    # A bad value: the error in place, nothing saved, Cancel puts the value back.
    page.get_by_role("button", name="Edit Website").click()
    website = page.locator("#field-website")
    website.get_by_role("textbox").fill("not a website")
    website.get_by_role("button", name="Save").click()
    expect(website.get_by_text("Enter a valid URL.")).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "record-03-bad-value")
    website.get_by_role("button", name="Cancel").click()
    expect(website.get_by_role("textbox")).to_have_count(0)
    contact.refresh_from_db()
    assert contact.job_title == "Head of Purchasing"
    assert contact.website == ""


def test_a_rep_works_from_the_company_page(page, live_server, rep):
    from playwright.sync_api import expect

    company = CompanyFactory(owner=rep, name="Quillfeather Ltd", industry="retail", city="Lyon")
    for given in ("Ada", "Bea", "Cy"):
        person = ContactFactory(owner=rep, company=company, given_name=given, family_name="Quill")
        log_interaction(rep, contact=person, subject=f"Call with {given}")
    services.company_update(company=company, actor=rep, values={"city": "Paris"})

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{company.get_absolute_url()}")
    header = page.get_by_role("region", name="Quillfeather Ltd")
    expect(header.get_by_role("group", name="Quick actions")).to_be_visible()
    people = page.locator("#company-people")
    expect(people.get_by_role("link", name="Ada Quill")).to_be_visible()
    expect(page.locator("#timeline").get_by_text("Call with Cy")).to_be_visible()
    _no_sideways_scroll(page)
    shot(page, "record-04-company")

    page.get_by_role("button", name="Edit Industry").click()
    page.locator("#field-industry").get_by_role("combobox").select_option("software")
    page.locator("#field-industry").get_by_role("button", name="Save").click()
    expect(page.locator("#company-subtitle")).to_contain_text("Software")
    expect(page.locator("#timeline").get_by_role("insertion").first).to_have_text("Software and IT")
    _no_sideways_scroll(page)
    shot(page, "record-05-company-edited")
    company.refresh_from_db()
    assert company.industry == "software"
