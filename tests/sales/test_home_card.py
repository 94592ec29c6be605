"""The sales card on the home page (sales/home.py): the quarter's numbers and the rep's own deals
closing soon, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.home import closing_soon
from sales.models import Opportunity, Quota
from sales.views import parse_period
from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


def _won(deal, pipeline, actor):
    services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=actor)


def test_closing_soon_is_the_reps_own_open_deals_soonest_first(
    rep, rep_teammate, pipeline, loss_reason
):
    today = timezone.localdate()
    late = make_deal(rep, name="Late", expected_close_date=today - dt.timedelta(days=5))
    soon = make_deal(rep, name="Soon", expected_close_date=today + dt.timedelta(days=3))
    make_deal(rep, name="Far", expected_close_date=today + dt.timedelta(days=200))
    make_deal(rep, name="Stale", expected_close_date=today - dt.timedelta(days=90))
    make_deal(rep_teammate, name="Teammate's", expected_close_date=today)
    won = make_deal(rep, name="Won already", expected_close_date=today)
    _won(won, pipeline, rep)
    assert [d.name for d in closing_soon(user=rep, today=today)] == [late.name, soon.name]


def test_the_card_shows_the_quarter_against_quota(client, rep, pipeline):
    today = timezone.localdate()
    start, _end, period = parse_period("", today)
    deal = make_deal(rep, name="Big win", amount="1500", expected_close_date=today)
    _won(deal, pipeline, rep)
    Quota.objects.create(user=rep, month=start, amount=Decimal("3000"))
    make_deal(rep, name="Next one", amount="700", expected_close_date=today)
    login(client, rep)
    page = client.get(reverse("sales:home-quarter"), HTTP_HX_REQUEST="true").content.decode()
    assert period in page
    assert "50.0% of quota" in page
    assert "1,500" in page
    assert "Next one" in page
    assert "Big win" not in page.split('data-home="closing"')[1]


def test_the_card_costs_the_same_queries_with_more_deals(client, rep, pipeline):
    today = timezone.localdate()
    make_deal(rep, name="One", expected_close_date=today)
    login(client, rep)
    client.get(reverse("sales:home-quarter"))  # warm the session and role caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sales:home-quarter"))
    for n in range(8):
        make_deal(rep, name=f"More {n}", amount="10", expected_close_date=today)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("sales:home-quarter"))
    assert response.status_code == 200
    # Session, user, object grants, then the card's own: rates, won, open, quota, deals.
    assert len(many) == len(few) <= 12
    assert Opportunity.objects.filter(owner=rep).count() == 9
