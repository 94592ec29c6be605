"""Issue 25: after an inline edit the subtitle under the name and the timeline refresh without a
reload; the timeline loads older entries as it scrolls into view. Real Chromium, 1280 and 375 px."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from contacts import services, timeline
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_inline_edit_refreshes_subtitle_and_timeline_and_older_entries_load_on_scroll(
    page, live_server, rep
):
    from playwright.sync_api import expect

    company = CompanyFactory(owner=rep, name="Northwind Traders")
    contact = ContactFactory(
        owner=rep, given_name="Grace", family_name="Hopper", job_title="Buyer", company=company
    )
    for n in range(timeline.PAGE_SIZE * 2 + 5):
        services.contact_update(contact=contact, actor=rep, values={"department": f"Team {n}"})
    services.contact_update(contact=contact, actor=rep, values={"department": "Purchasing"})

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    subtitle = page.locator("#contact-subtitle")
    entries = page.locator("#timeline-entries > li[data-kind]")
    expect(subtitle).to_contain_text("Buyer")
    expect(entries).to_have_count(timeline.PAGE_SIZE)

    page.get_by_role("button", name="Edit Job title").click()
    field = page.locator("#field-job_title")
    field.get_by_role("textbox").fill("Head of Purchasing")
    field.get_by_role("button", name="Save").click()
    # No reload: the header and the timeline listen for contact-changed.
    expect(subtitle).to_contain_text("Head of Purchasing")
    expect(subtitle).not_to_contain_text("Buyer")
    newest = entries.first
    expect(newest.get_by_role("insertion")).to_have_text("Head of Purchasing")
    expect(newest.get_by_role("deletion")).to_have_text("Buyer")

    page.get_by_role("button", name="Edit Lifecycle stage").click()
    page.locator("#field-lifecycle_stage").get_by_role("combobox").select_option("customer")
    page.locator("#field-lifecycle_stage").get_by_role("button", name="Save").click()
    expect(page.locator("#contact-header .badge").first).to_have_text("Customer")
    expect(entries.first.get_by_role("insertion")).to_have_text("Customer")
    shot(page, "10-contact-timeline")

    # Scrolling the last row into view loads the next page, then the rest.
    total = LogEntry.objects.get_for_object(contact).count()
    assert total > timeline.PAGE_SIZE * 2
    page.locator("#timeline-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(timeline.PAGE_SIZE * 2)
    page.locator("#timeline-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(total)
    expect(page.locator("#timeline-more")).to_have_count(0)
    expect(entries.last).to_contain_text("created")

    # The filter by kind swaps the timeline in place.
    page.get_by_role("link", name="Changes").click()
    expect(page.get_by_role("link", name="Changes")).to_have_attribute("aria-current", "true")
    expect(entries).to_have_count(timeline.PAGE_SIZE)


def test_company_timeline_and_grouped_search(page, live_server, rep, rep_other_team):
    from playwright.sync_api import expect

    company = CompanyFactory(owner=rep, name="Quillfeather Ltd", city="Lyon")
    services.company_update(company=company, actor=rep, values={"city": "Paris"})
    ContactFactory(owner=rep, given_name="Ada", family_name="Quillfeather", company=company)
    ContactFactory(owner=rep_other_team, given_name="Bob", family_name="Quillfeather")

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/contacts/companies/{company.pk}/")
    timeline_card = page.locator("#timeline")
    expect(timeline_card.get_by_role("insertion").filter(has_text="Paris")).to_be_visible()
    expect(timeline_card.get_by_role("deletion").filter(has_text="Lyon")).to_be_visible()
    shot(page, "11-company-timeline")

    page.goto(f"{live_server.url}/search/?q=quillfeather")
    contacts = page.get_by_role("region", name="Contacts")
    companies = page.get_by_role("region", name="Companies")
    expect(contacts.get_by_role("link", name="Ada Quillfeather")).to_be_visible()
    expect(page.get_by_text("Bob Quillfeather")).to_have_count(0)  # another team's
    expect(companies.get_by_role("link", name="Quillfeather Ltd")).to_be_visible()
    shot(page, "12-search-groups")
