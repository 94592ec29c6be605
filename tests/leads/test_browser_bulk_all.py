"""The kit's bulk bar in Chromium at 1280 and 375 px: "all matching this filter" is offered only
once the page's own "select all" box is ticked, and applying it tags every lead the filter
matches, not only the page's."""

from __future__ import annotations

import pytest

from leads.models import Lead
from tests.browser.conftest import shot, sign_in
from tests.leads.test_nurture import _lead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_rep_tags_all_leads_matching_the_filter(page, live_server, rep, settings) -> None:
    settings.CRM_PAGE_SIZE = 5  # two pages: "all matching" reaches past the first
    leads = [_lead(rep, given_name=f"Ada{i}", email=f"a{i}@x.example") for i in range(7)]
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/?status=new")
    bar = page.get_by_role("form", name="Change the selected rows")
    matching = bar.get_by_label("Apply to all")
    assert not bar.is_visible()
    page.get_by_role("checkbox", name=str(leads[-1])).check()
    assert bar.is_visible()
    assert not matching.is_visible()  # one row ticked: not offered yet
    page.get_by_role("checkbox", name="Select all on this page").check()
    assert matching.is_visible()
    matching.check()
    bar.get_by_label("With selected").select_option(label="Add tags")
    bar.get_by_label("Tags to add").fill("Hot")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "leads-bulk-all")
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("7 leads updated.").wait_for()
    shot(page, "leads-bulk-all-done")
    assert Lead.objects.filter(tags__name="Hot").count() == 7
