"""The campaign registration point (`sales.sources`): no marketing app yet, so a deal's
campaign is named only by a lookup another app registers; the deal page shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sales import sources
from sales.models import DealSource
from tests.conftest import login
from tests.sales.factories import make_deal

pytestmark = pytest.mark.django_db


def _campaign(deal, user):
    return f"<Spring> {deal.name} for {user.email}" if deal.source == DealSource.CAMPAIGN else None


@pytest.fixture
def registered():
    sources.register_campaign_lookup(_campaign)
    sources.register_campaign_lookup(_campaign)  # twice: still one
    yield
    sources.unregister_campaign_lookup(_campaign)


def test_without_a_registered_lookup_a_deal_has_no_campaign(client, rep, pipeline):
    deal = make_deal(rep, name="Kiosks", source=DealSource.CAMPAIGN)
    assert sources.campaign_of(deal, user=rep) is None
    html = login(client, rep).get(reverse("sales:opportunity-detail", args=[deal.pk])).content
    assert b"data-campaign" not in html


def test_the_deal_page_shows_the_registered_campaign_escaped(client, rep, pipeline, registered):
    deal = make_deal(rep, name="Kiosks", source=DealSource.CAMPAIGN)
    other = make_deal(rep, name="Walk-in", source=DealSource.REFERRAL)
    assert sources._lookups == [_campaign]
    assert sources.campaign_of(other, user=rep) is None
    response = login(client, rep).get(reverse("sales:opportunity-detail", args=[deal.pk]))
    html = response.content.decode()
    assert f"<span data-campaign>&lt;Spring&gt; Kiosks for {rep.email}</span>" in html
