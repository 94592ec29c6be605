"""Issue 27: a deal converted from a lead links back to it on the deal's page, with the lead's
source, web form and campaign (revenue traced to where the lead came from), for users who may
see the lead; no query more than a deal without one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadSource
from sales.models import Opportunity, Pipeline
from tests.conftest import login
from tests.leads.factories import make_lead, make_web_form
from tests.sales.factories import make_pipeline

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
