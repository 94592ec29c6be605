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


def test_over_the_limit_the_bar_starts_a_job_and_shows_its_progress(
    page, live_server, rep, rep_teammate, live_worker, settings
) -> None:
    settings.CRM_BULK_IN_REQUEST = 3  # more than this runs in the worker
    leads = [_lead(rep, given_name=f"Bo{i}", email=f"b{i}@x.example") for i in range(5)]
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/")
    bar = page.get_by_role("form", name="Change the selected rows")
    page.get_by_role("checkbox", name="Select all on this page").check()
    bar.get_by_label("Apply to all").check()
    bar.get_by_label("With selected").select_option(label="Assign owner")
    bar.get_by_label("New owner").select_option(value=str(rep_teammate.pk))
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("5 rows match the filter").wait_for()
    page.get_by_text("5 leads updated.").wait_for(timeout=30_000)  # the finished job's outcome
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "leads-bulk-job")
    owners = set(Lead.objects.filter(pk__in=[x.pk for x in leads]).values_list("owner", flat=True))
    assert owners == {rep_teammate.pk}
