"""The lead list's bulk bar in Chromium at 1280 and 375 px: tick leads, choose a sequence,
enrol; the bar appears only once a lead is ticked, and the messages say what was skipped."""

from __future__ import annotations

import pytest

from leads import services
from leads.models import NurtureEnrolment
from tests.browser.conftest import shot, sign_in
from tests.leads.test_nurture import _lead, _sequence

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_rep_enrols_ticked_leads_from_the_list(page, live_server, rep) -> None:
    _sequence("Paused", active=False)
    welcome = _sequence("Welcome")
    ada = _lead(rep, given_name="Ada", email="ada@x.example")
    grace = _lead(rep, given_name="Grace", email="grace@x.example")
    closed = services.lead_set_status(
        lead=_lead(rep, given_name="Edsger", email="e@x.example"),
        status="unqualified",
        reason="no budget",
        actor=rep,
    )
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/")
    bar = page.get_by_role("form", name="Change the selected rows")
    assert not bar.is_visible()  # out of the way until a lead is ticked
    for lead in (ada, grace, closed):
        page.get_by_role("checkbox", name=str(lead)).check()
    assert bar.is_visible()
    bar.get_by_label("With selected").select_option(label="Enrol in a nurture sequence")
    sequence = bar.get_by_label("Sequence")
    # Active ones only (after "—": the bar offers other actions too).
    assert sequence.locator("option").all_inner_texts() == ["—", "Welcome"]
    sequence.select_option(label="Welcome")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "leads-bulk-enrol")
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("2 leads enrolled in Welcome.").wait_for()
    page.get_by_text("1 lead was skipped: it is converted or unqualified.").wait_for()
    shot(page, "leads-bulk-enrolled")
    enrolled = NurtureEnrolment.objects.filter(sequence=welcome)
    assert sorted(enrolled.values_list("lead_id", flat=True)) == [ada.pk, grace.pk]
