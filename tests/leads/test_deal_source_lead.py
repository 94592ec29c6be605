"""Issue 27: a deal converted from a lead links back to it on the deal's page, with the lead's
source, web form and campaign (revenue traced to where the lead came from), for users who may
see the lead; no query more than a deal without one. And the other way: the lead's page shows
the deal(s) made from it (name, stage, amount, link) through the record-panel registry
(contacts.panels for "leads.lead"; sales registers the card, leads never imports sales), only
the deals the user may see, in a fixed number of queries whatever the number of deals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.panels import panels
from leads.models import Lead, LeadSource
from sales.models import Opportunity, Pipeline
from tests.conftest import login
from tests.leads.factories import make_lead, make_web_form
from tests.sales.factories import make_deal, make_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(client, rep) -> Opportunity:
    """A deal made by converting a web-form lead of a spring campaign."""
    Pipeline.objects.update(is_default=False)
    pipeline = make_pipeline("Conversion pipeline")
    form = make_web_form(rep, name="Spring sign-up")
    lead = make_lead(
        rep, company_name="Acme Works", email="grace@acme.example", source=LeadSource.WEB_FORM,
        utm_campaign="spring-2026",
    )  # fmt: skip
    Lead.objects.filter(pk=lead.pk).update(web_form=form)  # as a form's post sets it
    login(client, rep)
    close = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client.post(
        reverse("leads:lead-convert", args=[lead.pk]),
        {
            "contact": "", "create_company": "on", "deal-create": "on",
            "deal-name": "Acme renewal", "deal-pipeline": str(pipeline.pk),
            "deal-amount": "1000", "deal-expected_close_date": close,
        },
    )  # fmt: skip
    assert response.status_code == 302
    return Opportunity.objects.get(source_lead=lead)


def _page(client, deal: Opportunity) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(deal.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries]


def test_the_deal_page_links_to_its_lead_with_source_form_and_campaign(client, deal) -> None:
    _page(client, deal)  # warm caches (content types)
    html, queries = _page(client, deal)
    lead = deal.source_lead
    assert lead is not None
    assert f'data-source-lead><a href="{lead.get_absolute_url()}">{lead}</a>' in html
    assert "Web form · Spring sign-up · spring-2026" in html
    # The link costs no query: the lead and its form come with the deal.
    Opportunity.objects.filter(pk=deal.pk).update(source_lead=None)
    html, without = _page(client, deal)
    assert "data-source-lead" not in html
    assert len(queries) == len(without), [q for q in queries if q not in without]


def test_a_user_who_may_not_see_the_lead_gets_no_link(client, deal, rep_other_team) -> None:
    Lead.objects.filter(pk=deal.source_lead_id).update(
        owner=rep_other_team, team=rep_other_team.team
    )
    html, _queries = _page(client, deal)
    assert "data-source-lead" not in html
    assert "spring-2026" not in html


def _lead_page(client, lead: Lead) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_lead_page_shows_the_deal_made_from_it(client, deal) -> None:
    assert deal.source_lead is not None
    html, _n = _lead_page(client, deal.source_lead)
    assert "Deals from this lead" in html
    assert f'<a href="{deal.get_absolute_url()}">Acme renewal</a>' in html
    assert deal.stage.name in html
    assert f"1,000.00 {deal.currency}" in html


def test_the_deals_card_takes_fixed_queries_whatever_the_deals(client, rep, deal) -> None:
    lead = deal.source_lead
    _lead_page(client, lead)  # warm caches
    _html, one = _lead_page(client, lead)
    for n in range(4):
        extra = make_deal(rep, name=f"Upsell {n}", amount="10")
        Opportunity.objects.filter(pk=extra.pk).update(source_lead=lead)
    html, five = _lead_page(client, lead)
    assert "Upsell 3" in html
    assert five == one


def test_deals_the_user_may_not_see_are_not_on_the_lead_page(client, deal, rep_other_team) -> None:
    Opportunity.objects.filter(pk=deal.pk).update(owner=rep_other_team, team=rep_other_team.team)
    html, _n = _lead_page(client, deal.source_lead)
    assert "Acme renewal" not in html
    assert "Deals from this lead" not in html


def test_a_lead_without_deals_has_no_deals_card(client, rep) -> None:
    plain = make_lead(rep, email="plain@x.example")
    login(client, rep)
    html, _n = _lead_page(client, plain)
    assert "Deals from this lead" not in html
    assert panels.get("lead-deals") is not None  # registered by sales


def test_leads_does_not_import_sales() -> None:
    from pathlib import Path

    import leads

    for path in Path(leads.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "from sales" not in text, path
        assert "import sales" not in text, path
