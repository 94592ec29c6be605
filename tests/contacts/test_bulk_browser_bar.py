"""The contact list's bulk bar in Chromium at 1280 and 375 px shows only the chosen action's
options (static/js/bulk_bar.js): none for Archive, the tags for Add tags; archiving the ticked
contacts works with the options hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from contacts.models import Contact
from tests.browser.conftest import sign_in
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
SHOTS = Path("/tmp/shots-bulk2")  # noqa: S108


def test_the_contact_bar_shows_only_the_chosen_actions_options(page, live_server, rep) -> None:
    contacts = [ContactFactory(owner=rep, given_name=f"Eve{i}") for i in range(2)]
    sign_in(page, live_server, rep.email)
    bar = page.get_by_role("form", name="Change the selected rows")
    page.get_by_role("checkbox", name=str(contacts[0])).check()
    owner, tags = bar.get_by_label("New owner"), bar.get_by_label("Tags to add")
    action = bar.get_by_label("With selected")
    assert action.input_value() == "assign"
    assert owner.is_visible()
    assert not tags.is_visible()
    action.select_option(label="Add tags")
    assert tags.is_visible()
    assert not owner.is_visible()
    action.select_option(label="Archive")
    assert not owner.is_visible()
    assert not tags.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"contacts-bulk-archive-{page.width}.png"), full_page=True)
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("1 contact updated.").wait_for()
    archived = Contact.objects.filter(archived_at__isnull=False).values_list("pk", flat=True)
    assert list(archived) == [contacts[0].pk]
