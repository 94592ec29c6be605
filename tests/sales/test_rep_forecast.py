"""The forecast per rep (issue 28): the breakdown of the team and company forecast against a
hand-computed book, the company quota (the sum of the team quotas), who may open a rep's
forecast, and the breakdown's query count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from sales import rep_forecast, selectors, services
from sales.currency import RateBook
from sales.models import Opportunity, Quota
from tests.accounts.factories import UserFactory
from tests.conftest import login, login_verified
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

NOV = (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
D = Decimal


def _won(pipeline, owner, amount, at):
    deal = make_deal(owner, amount=amount, expected_close_date=at.date())
    services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner)
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=at)


@pytest.fixture
def book(rep, rep_teammate, rep_other_team, manager, pipeline):
    """November 2026, two teams (east: the manager, the rep, the teammate; west: the other rep).

    rep: won 1,000.50; open in November: commit 2,000 (Meet, 30 %), best case 400 (Qualify,
      10 %), pipeline 100 (Qualify, 10 %), omitted 999 (left out); quota 2,601.00.
    teammate: won 50; open 10 (Qualify); a commit of 200 closing in December (outside); quota 500.
    manager: no deal; quota 100.
    other team's rep: won 9,999; best case 300 (Qualify, 10 %); quota 20,000.
    Team quotas: east 10,000, west 5,000 (the company's: 15,000)."""
    utc = dt.UTC
    nov = dt.date(2026, 11, 20)
    _won(pipeline, rep, "1000.50", dt.datetime(2026, 11, 5, 10, tzinfo=utc))
    make_deal(rep, amount="2000", forecast_category="commit", expected_close_date=nov,
              stage=stage(pipeline, "Meet"))  # fmt: skip
    make_deal(rep, amount="400", forecast_category="best_case", expected_close_date=nov)
    make_deal(rep, amount="100", expected_close_date=nov)
    make_deal(rep, amount="999", forecast_category="omitted", expected_close_date=nov)
    _won(pipeline, rep_teammate, "50", dt.datetime(2026, 11, 10, tzinfo=utc))
    make_deal(rep_teammate, amount="10", expected_close_date=nov)
    make_deal(rep_teammate, amount="200", forecast_category="commit",
              expected_close_date=dt.date(2026, 12, 1))  # fmt: skip
    _won(pipeline, rep_other_team, "9999", dt.datetime(2026, 11, 10, tzinfo=utc))
    make_deal(rep_other_team, amount="300", forecast_category="best_case", expected_close_date=nov)
    month = NOV[0]
    Quota.objects.create(user=rep, month=month, amount=D("2601.00"))
    Quota.objects.create(user=rep_teammate, month=month, amount=D("500"))
    Quota.objects.create(user=manager, month=month, amount=D("100"))
    Quota.objects.create(user=rep_other_team, month=month, amount=D("20000"))
    Quota.objects.create(team=rep.team, month=month, amount=D("10000"))
    Quota.objects.create(team=rep_other_team.team, month=month, amount=D("5000"))


def _figures(row):
    return (
        row.closed_won, row.commit, row.best_case, row.pipeline, row.weighted, row.quota,
        row.attainment,
    )  # fmt: skip


REP = (D("1000.50"), D(2000), D(2400), D(2500), D("650.00"), D("2601.00"), D("38.5"))
TEAMMATE = (D(50), D(0), D(0), D(10), D("1.00"), D(500), D("10.0"))
MANAGER = (D(0), D(0), D(0), D(0), D("0.00"), D(100), D("0.0"))
WEST = (D(9999), D(0), D(300), D(300), D("30.00"), D(20000), D("50.0"))  # 49.995 %


def test_team_breakdown_matches_hand_computation(rep, rep_teammate, manager, book):
    got = rep_forecast.rep_breakdown(user=manager, start=NOV[0], end=NOV[1], team_id=rep.team_id)
    rows = {row.rep.pk: row for row in got.rows}
    assert set(rows) == {rep.pk, rep_teammate.pk, manager.pk}  # the manager: a quota, no deal
    assert _figures(rows[rep.pk]) == REP
    assert _figures(rows[rep_teammate.pk]) == TEAMMATE
    assert _figures(rows[manager.pk]) == MANAGER
    assert all(row.can_open for row in got.rows)
    # The rows add up to the team's own figures.
    team = selectors.forecast(user=manager, start=NOV[0], end=NOV[1], team_id=rep.team_id)
    assert sum(row.closed_won for row in got.rows) == team.closed_won == D("1050.50")
    assert sum(row.weighted for row in got.rows) == team.weighted == D("651.00")
    assert sum(row.best_case for row in got.rows) == team.best_case == D(2400)


def test_company_breakdown_links_only_the_reps_one_may_open(
    rep, rep_teammate, rep_other_team, manager, admin_user, book
):
    got = rep_forecast.rep_breakdown(user=manager, start=NOV[0], end=NOV[1], team_id=None)
    rows = {row.rep.pk: row for row in got.rows}
    assert set(rows) == {rep.pk, rep_teammate.pk, manager.pk, rep_other_team.pk}
    assert _figures(rows[rep_other_team.pk]) == WEST
    # A sales manager sets (and opens) their own team's reps, not another team's.
    assert not rows[rep_other_team.pk].can_open
    assert rows[rep.pk].can_open
    admin_rows = rep_forecast.rep_breakdown(user=admin_user, start=NOV[0], end=NOV[1], team_id=None)
    assert all(row.can_open for row in admin_rows.rows)


def test_company_quota_is_the_sum_of_the_team_quotas(admin_user, book):
    f = selectors.forecast(user=admin_user, start=NOV[0], end=NOV[1])
    assert f.closed_won == D("11049.50")  # 1,000.50 + 50 + 9,999
    assert (f.commit, f.best_case, f.pipeline) == (D(2000), D(2700), D(2810))
    assert f.weighted == D("681.00")
    assert f.quota == D(15000)  # east 10,000 + west 5,000; the reps' own quotas not added
    assert f.attainment == D("73.7")  # 11,049.50 / 15,000 = 73.66 %


def test_company_page_states_its_quota_and_shows_every_rep(client, manager, rep_other_team, book):
    login(client, manager)
    response = client.get(reverse("sales:forecast"), {"who": "company", "period": "2026-11"})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["numbers"].quota == D(15000)
    assert "The sum of the team quotas" in html
    assert "73.7% of quota" in html
    assert len(response.context["breakdown"].rows) == 4
    assert f'data-rep="{rep_other_team.pk}"' in html
    assert reverse("sales:rep-forecast", args=[rep_other_team.pk]) not in html  # not linked


def test_team_page_links_each_rep_for_the_manager(client, manager, rep, book):
    login(client, manager)
    response = client.get(reverse("sales:forecast"), {"who": "team", "period": "2026-11"})
    html = response.content.decode()
    assert f'href="{reverse("sales:rep-forecast", args=[rep.pk])}?period=2026-11"' in html
    assert "38.5%" in html
    assert "1,000.50" in html


def test_a_rep_sees_no_breakdown_of_their_team(client, rep, book):
    login(client, rep)
    response = client.get(reverse("sales:forecast"), {"who": "team", "period": "2026-11"})
    assert response.status_code == 200
    assert response.context["breakdown"] is None
    assert "data-rep-breakdown" not in response.content.decode()


def test_rep_forecast_doors(client, rep, rep_teammate, rep_other_team, manager, admin_user, book):
    def get(user, target):
        (login_verified if user.is_superuser else login)(client, user)
        return client.get(reverse("sales:rep-forecast", args=[target.pk]), {"period": "2026-11"})

    mine = get(rep, rep)
    assert mine.status_code == 200
    assert mine.context["numbers"].closed_won == D("1000.50")
    assert get(rep, rep_teammate).status_code == 404  # a rep does not open a team-mate's
    assert get(rep_other_team, rep).status_code == 404
    opened = get(manager, rep)
    assert opened.status_code == 200
    numbers = opened.context["numbers"]
    assert (numbers.closed_won, numbers.weighted, numbers.quota) == (
        D("1000.50"), D("650.00"), D("2601.00")
    )  # fmt: skip
    assert numbers.attainment == D("38.5")
    html = opened.content.decode()
    assert f"Forecast of {rep}" in html
    assert f'action="{reverse("sales:rep-forecast", args=[rep.pk])}"' in html
    # pipeline performance knows no single rep: the link opens the team's
    assert f'{reverse("sales:analytics")}?period=2026-11&amp;who=team"' in html
    assert get(manager, rep_other_team).status_code == 404  # another team's rep
    assert get(admin_user, rep_other_team).status_code == 200
    login(client, manager)
    assert client.get(reverse("sales:rep-forecast", args=[999999])).status_code == 404
    response = client.get(reverse("sales:rep-forecast", args=[rep.pk]), {"period": "2026-Q9"})
    assert response.status_code == 400
    client.logout()
    assert client.get(reverse("sales:rep-forecast", args=[rep.pk])).status_code == 302


def _more_reps(team, pipeline, count):
    for i in range(count):
        extra = UserFactory(email=f"extra{i}@example.com", team=team, role=Role.SALES_REP)
        _won(pipeline, extra, "10", dt.datetime(2026, 11, 12, tzinfo=dt.UTC))
        make_deal(extra, amount="20", expected_close_date=dt.date(2026, 11, 25))
        Quota.objects.create(user=extra, month=NOV[0], amount=D("100"))


def test_breakdown_queries_do_not_grow_with_reps(manager, rep, pipeline, book):
    book_of_rates = RateBook.load()

    def count():
        with CaptureQueriesContext(connection) as queries:
            got = rep_forecast.rep_breakdown(
                user=manager, start=NOV[0], end=NOV[1], team_id=None, book=book_of_rates
            )
        return len(queries), len(got.rows)

    rep_forecast.rep_breakdown(user=manager, start=NOV[0], end=NOV[1], team_id=None)  # warm
    before, rows = count()
    assert rows == 4
    # Won, open, quotas (grouped by owner), the reps, the reps the manager may open.
    assert before == 5
    _more_reps(rep.team, pipeline, 6)
    after, rows = count()
    assert rows == 10
    assert after == before


def test_forecast_page_queries_do_not_grow_with_reps(client, manager, rep, pipeline, book):
    login(client, manager)
    params = {"who": "company", "period": "2026-11"}
    client.get(reverse("sales:forecast"), params)  # warm the session and role caches
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("sales:forecast"), params)
    _more_reps(rep.team, pipeline, 5)
    with CaptureQueriesContext(connection) as second:
        response = client.get(reverse("sales:forecast"), params)
    assert len(response.context["breakdown"].rows) == 9
    assert len(second) == len(first)


@pytest.mark.parametrize("who", ["team", "company"])
def test_the_breakdowns_sums_give_the_forecast_read_directly(rep, manager, admin_user, book, who):
    """The team and company pages take their figures from the breakdown's sums (the deals read
    once, by owner): the same figures as `selectors.forecast` reading them itself, with a
    currency converted at the rate of each day."""
    user, team_id = (manager, rep.team_id) if who == "team" else (admin_user, None)
    rates = RateBook.load()
    got = rep_forecast.rep_breakdown(user=user, start=NOV[0], end=NOV[1], team_id=team_id)
    summed = selectors.forecast(
        user=user, start=NOV[0], end=NOV[1], team_id=team_id, book=rates, summed=got.summed
    )
    direct = selectors.forecast(user=user, start=NOV[0], end=NOV[1], team_id=team_id, book=rates)
    assert summed == direct
    assert summed.closed_won == (D("1050.50") if who == "team" else D("11049.50"))


def test_the_team_page_reads_the_deals_once(client, manager, rep, book):
    login(client, manager)
    params = {"who": "team", "period": "2026-11"}
    client.get(reverse("sales:forecast"), params)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sales:forecast"), params)
    deal_reads = [q["sql"] for q in queries if 'FROM "sales_opportunity"' in q["sql"]]
    assert len(deal_reads) == 2, deal_reads  # won by owner and day; open by owner
    assert response.context["numbers"].closed_won == D("1050.50")
