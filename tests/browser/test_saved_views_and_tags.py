"""Saved views and tag names in real Chromium at 1280 and 375 px: save the current filters from
the list's bar, open the view again, rename and delete it; the tag box offers known names for the
name being typed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_save_open_rename_and_delete_a_view(page, live_server, rep):
    from playwright.sync_api import expect

    vip = TagFactory(name="VIP")
    ContactFactory(owner=rep, given_name="Tagged", family_name="Person", tags=[vip])
    ContactFactory(owner=rep, given_name="Plain", family_name="Person")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/contacts/?tag={vip.pk}")
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Tagged Person")).to_be_visible()

    page.get_by_text("Save this view").click()
    page.get_by_placeholder("Name of the view").fill("VIP people")
    page.get_by_label("Share with my team").check()
    shot(page, "saved-views-save")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved the view VIP people.")).to_be_visible()

    page.goto(f"{live_server.url}/contacts/")
    expect(results.get_by_role("link", name="Plain Person")).to_be_visible()
    page.get_by_role("button", name="Saved views").click()
    shot(page, "saved-views-menu")
    page.get_by_role("link", name="VIP people").click()
    expect(results.get_by_role("link", name="Tagged Person")).to_be_visible()
    expect(results.get_by_role("link", name="Plain Person")).to_have_count(0)

    page.get_by_text("Manage views").click()
    box = page.locator("input[name=name][value='VIP people']")
    box.fill("Key accounts")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Saved the view Key accounts.")).to_be_visible()
    page.get_by_text("Manage views").click()
    shot(page, "saved-views-manage")
    page.get_by_role("button", name="Delete the view Key accounts").click()
    expect(page.get_by_text("Deleted the view Key accounts.")).to_be_visible()


def test_tag_box_offers_known_names_for_the_name_being_typed(page, live_server, rep):
    TagFactory(name="Newsletter")
    TagFactory(name="VIP")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/contacts/new/")
    box = page.get_by_label("Tags")
    box.fill("VIP, ")
    box.press("N")
    options = page.eval_on_selector_all(
        f"#{box.get_attribute('list')} option", "els => els.map(e => e.value)"
    )
    assert "VIP, Newsletter" in [o.replace("  ", " ") for o in options], options
    assert not [o for o in options if o.endswith(", VIP")], options  # already typed
    shot(page, "tag-names-input")
