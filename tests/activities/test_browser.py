"""Logging a call in real Chromium, at desktop and phone (375 px) widths: two taps from the
record's activities panel (`Log a call`, then the outcome), the list refreshes in place; a
phone number or address on a record page (the header's quick action, its key facts, a
contact's "Contact details" card) opens the call's or email's log form with the same tap."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.grants import sync_role_grants
from contacts.activities.models import Interaction, TaskStatus
from contacts.models import Contact
from tests.activities.factories import make_task
from tests.browser.conftest import shot, sign_in
from tests.conftest import login

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


def _fits_the_screen(page) -> None:
    """Nothing to scroll sideways to at this width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width


def _drop_app_navigation(page) -> None:
    """The phone or mail app is the device's business: headless Chromium's pending tel: (or
    mailto:) navigation swallows the next real click, so the test keeps the tap and drops the
    navigation only."""
    page.evaluate(
        """document.addEventListener("click", (event) => {
            if (event.target.closest('a[href^="tel:"], a[href^="mailto:"]')) {
                event.preventDefault();
            }
        }, true)"""
    )


NUMBER = "+1 (555) 010-2000"  # own_contact's (tests/conftest.py)

# Where a contact's number is on its page: the header's "Call <number>" quick action, the
# number in the "Contact details" card and in the header's key facts (both through
# contacts/partials/reach_link.html, the quick action's mechanism).
CALL_LINKS = {
    "quick-action": ("group", "Quick actions", f"Call {NUMBER}"),
    "contact-details": ("region", "Contact details", NUMBER),
    "key-facts": ("list", "Key facts", NUMBER),
}


@pytest.mark.parametrize("where", CALL_LINKS)
def test_click_to_call_on_the_contact_page_offers_to_log_the_call(
    page, live_server, granted, own_contact, where
):
    """A phone number on the contact's page is a tel: link (the phone app opens) and the same
    tap puts the call's log form, time and contact filled in, above the timeline; one outcome
    tap logs it. At 1280 and 375 px, nothing scrolling sideways."""
    from playwright.sync_api import expect

    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}{own_contact.get_absolute_url()}")
    role, place, name = CALL_LINKS[where]
    call = page.get_by_role(role, name=place).get_by_role("link", name=name)
    expect(call).to_have_attribute("href", "tel:+1(555)010-2000")
    _drop_app_navigation(page)
    call.click()  # tap 1: the phone app, and the form here
    form = page.locator("#quick-log-slot #interaction-form")
    expect(form.get_by_text("Call with Olivia Owner")).to_be_visible()
    # On a phone the form is below the side column (where the card is): the tap scrolls it
    # into view.
    expect(form.get_by_role("button", name="Connected")).to_be_in_viewport()
    assert form.get_by_label("When").input_value()  # now, in the user's time zone
    _fits_the_screen(page)
    shot(page, f"activities-04-click-to-call-{where}")
    form.get_by_role("button", name="Connected").click()  # tap 2, after the call
    expect(page.locator("#quick-log-done")).to_be_visible()
    expect(page.locator("#timeline-entries > li[data-kind=interaction]")).to_have_count(1)
    shot(page, f"activities-05-called-{where}")
    call_row = Interaction.objects.get()
    assert (call_row.contact, call_row.channel, call_row.outcome) == (
        own_contact,
        "call",
        "connected",
    )


def test_mailto_on_the_company_page_offers_to_log_the_email(page, live_server, granted):
    """A company's address has no CRM composer (it is not a contact's): its "Email" is a
    mailto: link, and the same tap opens the log form for the email, ready for when it is
    sent."""
    from playwright.sync_api import expect

    from tests.contacts.factories import CompanyFactory

    company = CompanyFactory(owner=granted, name="Acme Tools", email="sales@acme-tools.example")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}{company.get_absolute_url()}")
    mail = page.get_by_role("group", name="Quick actions").get_by_role("link", name="Email")
    expect(mail).to_have_attribute("href", "mailto:sales@acme-tools.example")
    mail.click()
    form = page.locator("#quick-log-slot #interaction-form")
    expect(form.get_by_text("Email with Acme Tools")).to_be_visible()
    expect(form.get_by_role("button", name="Save")).to_be_in_viewport()
    _fits_the_screen(page)
    shot(page, "activities-06-mailto")
    form.get_by_label("Subject").fill("Price list sent")
    form.get_by_role("button", name="Save").click()
    expect(page.locator("#quick-log-done")).to_be_visible()
    logged = Interaction.objects.get()
    assert (logged.company, logged.channel, logged.subject) == (company, "email", "Price list sent")


def test_the_header_address_and_number_offer_to_log(page, live_server, granted, own_contact):
    from playwright.sync_api import expect

    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}{own_contact.get_absolute_url()}")
    facts = page.get_by_role("list", name="Key facts")
    _drop_app_navigation(page)
    mail = facts.get_by_role("link", name="olivia@acme.example")
    expect(mail).to_have_attribute("href", "mailto:olivia@acme.example")
    mail.click()
    form = page.locator("#quick-log-slot #interaction-form")
    expect(form.get_by_text("Email with Olivia Owner")).to_be_visible()
    expect(form.get_by_role("button", name="Save")).to_be_in_viewport()
    facts.get_by_role("link", name=NUMBER).click()
    expect(form.get_by_text("Call with Olivia Owner")).to_be_visible()
    expect(form.get_by_role("button", name="Connected")).to_be_in_viewport()
    _fits_the_screen(page)
    shot(page, "activities-08-header-tel")


def test_a_company_number_offers_to_log_the_call(page, live_server, granted):
    from playwright.sync_api import expect

    from tests.contacts.factories import CompanyFactory

    company = CompanyFactory(owner=granted, name="Acme Tools", phone="+1 555 010 3000")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}{company.get_absolute_url()}")
    number = page.get_by_role("list", name="Key facts").get_by_role("link", name="+1 555 010 3000")
    expect(number).to_have_attribute("href", "tel:+15550103000")
    _drop_app_navigation(page)
    number.click()
    form = page.locator("#quick-log-slot #interaction-form")
    expect(form.get_by_text("Call with Acme Tools")).to_be_visible()
    expect(form.get_by_role("button", name="Connected")).to_be_in_viewport()
    _fits_the_screen(page)
    form.get_by_role("button", name="Connected").click()
    expect(page.locator("#quick-log-done")).to_be_visible()
    logged = Interaction.objects.get()
    assert (logged.company, logged.channel) == (company, "call")


def test_an_archived_contact_keeps_plain_links(client, granted, own_contact):
    """No logging on an archived record (its quick actions are gone too): the links stay, the
    log trigger does not. The live contact's page wraps the number and the address in the
    header and in the card."""
    log = reverse("activities:contact-log", args=[own_contact.pk])
    trigger = (
        f'<span hx-get="{log}?channel={{}}" hx-trigger="click" hx-target="#quick-log-slot"'
        ' hx-swap="innerHTML show:top">'
    )
    number = '<a href="tel:+1(555)010-2000">+1 (555) 010-2000</a>'
    page = login(client, granted).get(own_contact.get_absolute_url()).content.decode()
    assert page.count(trigger.format("call") + number + "</span>") == 2
    assert page.count(trigger.format("email") + '<a href="mailto:olivia@acme.example"') == 2
    Contact.objects.filter(pk=own_contact.pk).update(archived_at=timezone.now())
    page = client.get(own_contact.get_absolute_url()).content.decode()
    assert page.count(number) == 2
    assert "?channel=" not in page
