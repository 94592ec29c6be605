"""The bulk bar in Chromium at 1280 and 375 px shows only the chosen action's options
(static/js/bulk_bar.js), and a rep unqualifies the ticked leads with a reason. Without
JavaScript every option shows (and the server reads only the chosen action's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leads.models import Lead, LeadStatus
from tests.browser.conftest import shot, sign_in
from tests.leads.test_nurture import _lead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
SHOTS = Path("/tmp/shots-bulk2")  # noqa: S108


def test_the_bar_shows_the_chosen_actions_options_and_unqualifies(page, live_server, rep) -> None:
    leads = [_lead(rep, given_name=f"Cy{i}", email=f"c{i}@x.example") for i in range(3)]
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/")
    bar = page.get_by_role("form", name="Change the selected rows")
    for lead in leads[:2]:
        page.get_by_role("checkbox", name=str(lead)).check()
    action = bar.get_by_label("With selected")
    owner, tags = bar.get_by_label("New owner"), bar.get_by_label("Tags to add")
    status, reason = bar.get_by_label("New status"), bar.get_by_label("Reason (if unqualified)")
    action.select_option(label="Assign owner")
    assert owner.is_visible()
    assert not any(x.is_visible() for x in (tags, status, reason))
    action.select_option(label="Set status")
    assert status.is_visible()
    assert reason.is_visible()
    assert not any(x.is_visible() for x in (owner, tags))
    status.select_option(label="Unqualified")
    reason.fill("No budget")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "leads-bulk-status")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"leads-bulk-status-{page.width}.png"), full_page=True)
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("2 leads updated.").wait_for()
    page.screenshot(path=str(SHOTS / f"leads-bulk-status-done-{page.width}.png"), full_page=True)
    rows = Lead.objects.filter(pk__in=[x.pk for x in leads]).order_by("pk")
    assert [(x.status, x.unqualified_reason) for x in rows] == [
        (LeadStatus.UNQUALIFIED, "No budget"),
        (LeadStatus.UNQUALIFIED, "No budget"),
        (LeadStatus.NEW, ""),
    ]


def test_without_javascript_every_option_shows_and_the_chosen_one_applies(
    browser, live_server, rep
) -> None:
    leads = [_lead(rep, given_name=f"Di{i}", email=f"d{i}@x.example") for i in range(2)]
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/leads/")
        page.get_by_label("Email address").fill(rep.email)
        page.get_by_label("Password").fill("secret-pass-123")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/leads/")
        bar = page.get_by_role("form", name="Change the selected rows")
        page.get_by_role("checkbox", name=str(leads[0])).check()
        for label in ("New owner", "Tags to add", "New status", "Reason (if unqualified)"):
            assert bar.get_by_label(label).is_visible()
        bar.get_by_label("With selected").select_option(label="Set status")
        bar.get_by_label("New status").select_option(label="Contacted")
        bar.get_by_label("Tags to add").fill("Ignored")  # another action's option
        page.screenshot(path=str(SHOTS / "leads-bulk-nojs-1280.png"), full_page=True)
        bar.get_by_role("button", name="Apply to selected").click()
        page.get_by_text("1 lead updated.").wait_for()
    finally:
        context.close()
    assert Lead.objects.get(pk=leads[0].pk).status == LeadStatus.CONTACTED
    assert not Lead.objects.filter(tags__name="Ignored").exists()
