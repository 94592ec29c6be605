"""The satisfaction survey in real Chromium at 1280 and 375 px: the requester opens the emailed
link, a missing rating is shown next to the question, and the answer is thanked and noted."""

from __future__ import annotations

import pytest

from support import services, surveys
from support.models import SatisfactionSurvey, Status
from tests.browser.conftest import shot
from tests.support.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_customer_rates_a_solved_ticket(page, live_server, queue, lead):
    from playwright.sync_api import expect

    ticket = make_ticket(queue, actor=lead, subject="Invoices do not export")
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    page.goto(f"{live_server.url}/support/survey/{surveys.survey_token(survey)}/")
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_text("Choose a rating from 1 to 5.")).to_be_visible()
    shot(page, "support-survey-01-error")
    page.get_by_label("5 · Very satisfied").check()
    page.get_by_label("Anything you would like to tell us? (optional)").fill("Fixed in an hour.")
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_role("heading", name="Thank you for your answer")).to_be_visible()
    shot(page, "support-survey-02-thanks")
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (5, "Fixed in an hour.")
