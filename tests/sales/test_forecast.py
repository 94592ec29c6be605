"""Forecast arithmetic against a hand-computed fixture, and the page's period parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from sales import selectors, services
from sales.models import Opportunity, Quota
from sales.views import parse_period
from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

NOV = (dt.date(2026, 11, 1), dt.date(2026, 12, 1))


@pytest.fixture
def book(rep, rep_teammate, rep_other_team, pipeline, loss_reason):
    """November 2026. The rep: won 1,000.50 (closed 5 Nov) and 300 (closed 30 Nov 23:59);
    open, closing in November: commit 2,000 (Meet, 30 %), best case 400 (Qualify, 10 %),
    pipeline 100 (Qualify, 10 %), omitted 999 (ignored); open but closing in December 5,000
    (commit: outside); lost 700 (ignored); won in October 800 (outside). The teammate: won 50 and
    a pipeline deal of 10 (Qualify). Another team's won 9,999 is never counted."""

    def won(owner, amount, at):
        deal = make_deal(owner, amount=amount, expected_close_date=at.date())
        services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner)
        Opportunity.objects.filter(pk=deal.pk).update(closed_at=at)

    utc = dt.UTC
    won(rep, "1000.50", dt.datetime(2026, 11, 5, 10, tzinfo=utc))
    won(rep, "300", dt.datetime(2026, 11, 30, 23, 59, tzinfo=utc))
    won(rep, "800", dt.datetime(2026, 10, 31, 12, tzinfo=utc))
    nov = dt.date(2026, 11, 20)
    make_deal(rep, amount="2000", forecast_category="commit", expected_close_date=nov,
              stage=stage(pipeline, "Meet"))  # fmt: skip
    make_deal(rep, amount="400", forecast_category="best_case", expected_close_date=nov)
    make_deal(rep, amount="100", expected_close_date=nov)
    make_deal(rep, amount="999", forecast_category="omitted", expected_close_date=nov)
    make_deal(
        rep, amount="5000", forecast_category="commit", expected_close_date=dt.date(2026, 12, 1)
    )
    lost = make_deal(rep, amount="700", expected_close_date=nov)
    services.opportunity_move_stage(
        opportunity=lost, stage=stage(pipeline, "Lost"), actor=rep, loss_reason=loss_reason
    )
    won(rep_teammate, "50", dt.datetime(2026, 11, 10, tzinfo=utc))
    make_deal(rep_teammate, amount="10", expected_close_date=nov)
    won(rep_other_team, "9999", dt.datetime(2026, 11, 10, tzinfo=utc))
    Quota.objects.create(user=rep, month=dt.date(2026, 11, 1), amount=Decimal("2601.00"))
    Quota.objects.create(team=rep.team, month=dt.date(2026, 11, 1), amount=Decimal("10000"))


def test_rep_forecast_matches_hand_computation(rep, book):
    f = selectors.forecast(user=rep, start=NOV[0], end=NOV[1], owner=rep)
    assert f.closed_won == Decimal("1300.50")
    assert f.commit == Decimal("2000")
    assert f.best_case == Decimal("2400")  # commit + best case
    assert f.pipeline == Decimal("2500")  # every open deal closing in November, omitted out
    assert f.weighted == Decimal("650.00")  # 2000 x 30 % + 400 x 10 % + 100 x 10 %
    assert f.quota == Decimal("2601.00")
    assert f.attainment == Decimal("50.0")
    assert f.forecast_commit == Decimal("3300.50")


def test_team_forecast_adds_teammates_but_not_other_teams(rep, manager, book):
    f = selectors.forecast(user=manager, start=NOV[0], end=NOV[1], team_id=rep.team_id)
    assert f.closed_won == Decimal("1350.50")
    assert f.pipeline == Decimal("2510")
    assert f.quota == Decimal("10000")
    assert f.attainment == Decimal("13.5")


def test_company_forecast_adds_every_team_against_the_team_quotas(admin_user, book):
    """Company figures (someone who sees every deal, neither owner nor team): both teams' deals,
    against the company's quota, the sum of the team quotas (east's 10,000; the rep's own quota
    is not added)."""
    f = selectors.forecast(user=admin_user, start=NOV[0], end=NOV[1])
    assert f.closed_won == Decimal("11349.50")  # 1,300.50 + the teammate's 50 + west's 9,999
    assert (f.commit, f.best_case, f.pipeline) == (Decimal(2000), Decimal(2400), Decimal(2510))
    assert f.weighted == Decimal("651.00")  # the rep's 650 + the teammate's 10 x 10 %
    assert f.quota == Decimal("10000")
    assert f.attainment == Decimal("113.5")  # 11,349.50 / 10,000


def test_company_forecast_page_only_for_those_who_see_every_deal(client, rep, manager, book):
    login(client, rep)
    response = client.get(reverse("sales:forecast"), {"who": "company", "period": "2026-11"})
    assert response.context["who"] == "team"  # a rep asking for the company gets their team
    assert response.context["numbers"].closed_won == Decimal("1350.50")
    login(client, manager)  # a sales manager sees every deal
    response = client.get(reverse("sales:forecast"), {"who": "company", "period": "2026-11"})
    assert response.context["who"] == "company"
    assert response.context["numbers"].closed_won == Decimal("11349.50")


def test_a_rep_sees_only_what_they_may_see(rep_other_team, rep, book):
    f = selectors.forecast(user=rep_other_team, start=NOV[0], end=NOV[1], team_id=rep.team_id)
    assert f.closed_won == 0
    assert f.pipeline == 0


def test_no_quota_means_no_attainment(rep_teammate, book):
    f = selectors.forecast(user=rep_teammate, start=NOV[0], end=NOV[1], owner=rep_teammate)
    assert f.quota is None
    assert f.attainment is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11", (dt.date(2026, 11, 1), dt.date(2026, 12, 1))),
        ("2026-12", (dt.date(2026, 12, 1), dt.date(2027, 1, 1))),
        ("2026-q4", (dt.date(2026, 10, 1), dt.date(2027, 1, 1))),
        ("2026-Q1", (dt.date(2026, 1, 1), dt.date(2026, 4, 1))),
        ("", (dt.date(2026, 10, 1), dt.date(2027, 1, 1))),
    ],
)
def test_parse_period(value, expected):
    assert parse_period(value, dt.date(2026, 11, 30))[:2] == expected


@pytest.mark.parametrize(
    "value", ["2026-13", "2026-Q5", "nonsense", "2026", "9999-01", "2026-\x00"]
)
def test_bad_period_is_refused(value):
    with pytest.raises(ValueError, match="quarter"):
        parse_period(value, dt.date(2026, 11, 30))


def test_forecast_page(client, rep, book):
    login(client, rep)
    response = client.get(reverse("sales:forecast"), {"period": "2026-11"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1,300.50" in html
    assert "50.0% of quota" in html
    response = client.get(reverse("sales:forecast"), {"period": "2026-Q9"})
    assert response.status_code == 400
    assert "quarter (2026-Q4)" in response.content.decode()
    response = client.get(reverse("sales:forecast"), {"period": "2026-11", "who": "team"})
    assert response.context["numbers"].closed_won == Decimal("1350.50")
