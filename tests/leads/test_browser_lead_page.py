"""Logging a call and uploading a file from the lead page, in Chromium at 1280 and 375 px."""

from __future__ import annotations

import pytest

from contacts.activities.models import Interaction
from leads.models import LeadFile
from tests.browser.conftest import shot, sign_in
from tests.leads.factories import make_lead

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_rep_logs_a_call_and_uploads_a_file_from_the_lead_page(
    page, live_server, rep, settings, tmp_path
) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    lead = make_lead(rep, given_name="Hedy", family_name="Lamarr", phone="+1 555 0100")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    shot(page, "lead-page-actions")
    page.get_by_role("group", name="Quick actions").get_by_role("link", name="Log a call").click()
    form = page.locator("#interaction-form")
    form.get_by_label("Subject").fill("Intro call")
    shot(page, "lead-page-log-call")
    form.get_by_role("button", name="Connected").click()
    page.get_by_role("status").filter(has_text="Call logged.").wait_for()
    # The activity card reloads itself (lead-changed) with the call.
    page.locator("#lead-trail").get_by_text("Intro call").wait_for()
    assert Interaction.objects.get().outcome == "connected"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width  # no sideways scroll

    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "brief.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n"}]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_role("status").filter(has_text="brief.pdf uploaded.").wait_for()
    assert page.locator("#lead-files").get_by_role("link", name="brief.pdf").is_visible()
    assert LeadFile.objects.get().filename == "brief.pdf"
    shot(page, "lead-page-logged")
