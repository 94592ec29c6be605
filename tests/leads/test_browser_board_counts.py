"""The lead board with a column over its count's cap, and a deal's page linking to the lead it
came from, in Chromium at 1280 and 375 px (screenshots in tests/browser/screenshots)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from leads import selectors
from leads.models import Lead, LeadSource
from tests.browser.conftest import shot, sign_in
from tests.leads.factories import make_lead, make_web_form

pytestmark = pytest.mark.django_db(transaction=True)


def test_board_column_over_the_cap(page, live_server, rep, monkeypatch) -> None:
    monkeypatch.setattr(selectors, "BOARD_COUNT_CAP", 3)
    for i in range(5):
        make_lead(rep, given_name=f"Lead {i}", email=f"l{i}@x.example", company_name="Globex")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/board/")
    column = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="New"))
    assert column.get_by_text("More than 3", exact=True).is_visible()
    link = column.get_by_role("link", name="All (more than 3)")
    assert link.is_visible()
    shot(page, "leads-board-capped")
    link.click()
    page.wait_for_url("**/leads/?*status=new*")
    assert page.get_by_text("Lead 4").is_visible()


def test_deal_page_links_to_its_lead(page, live_server, rep) -> None:
    from sales.models import Opportunity, Pipeline
    from sales.services import OpportunityInput, opportunity_create
    from tests.sales.factories import make_pipeline

    Pipeline.objects.update(is_default=False)
    pipeline = make_pipeline("Browser pipeline")
    form = make_web_form(rep, name="Spring sign-up")
    lead = make_lead(
        rep, company_name="Acme Works", source=LeadSource.WEB_FORM, utm_campaign="spring-2026"
    )  # fmt: skip
    Lead.objects.filter(pk=lead.pk).update(web_form=form)  # as a form's post sets it
    close = timezone.localdate() + dt.timedelta(days=30)
    deal = opportunity_create(
        data=OpportunityInput(
            name="Acme renewal", expected_close_date=close, pipeline=pipeline,
            amount=Decimal("1000"), source_lead=lead,
        ),
        actor=rep,
    )  # fmt: skip
    assert Opportunity.objects.get(pk=deal.pk).source_lead == lead
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{deal.get_absolute_url()}")
    source = page.locator("[data-source-lead]")
    assert "Web form · Spring sign-up · spring-2026" in source.inner_text()
    shot(page, "deal-source-lead")
    source.get_by_role("link", name=str(lead)).click()
    page.wait_for_url(f"**{lead.get_absolute_url()}")
