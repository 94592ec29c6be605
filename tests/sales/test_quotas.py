"""The quota page (sales/quotas.py, /sales/quotas/): a quarter's monthly quotas per rep and team
as one grid, set by sales managers for their team (administrators for everyone), read by reps
(their own row and their team's) with what was won against them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales import quotas, services
from sales.models import Opportunity, Quota
from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

PERIOD = "2026-Q2"
APRIL, MAY, JUNE = dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)


def _url(period: str = PERIOD) -> str:
    return f"{reverse('sales:quotas')}?period={period}"


def _won(owner, pipeline, amount: str, closed: dt.datetime) -> Opportunity:
    deal = make_deal(owner, amount=amount)
    services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=owner)
    Opportunity.objects.filter(pk=deal.pk).update(closed_at=closed)
    return deal


def test_manager_sets_a_quarter_for_the_team_and_its_reps(
    client, manager, rep, rep_teammate, rep_other_team, team_east
):
    login(client, manager)
    page = client.get(_url())
    assert page.status_code == 200
    keys = [row.key for row in page.context["grid"].rows]
    assert f"team-{team_east.pk}" in keys
    assert {f"user-{rep.pk}", f"user-{rep_teammate.pk}"} <= set(keys)
    assert f"user-{rep_other_team.pk}" not in keys  # another team's rep is not offered
    assert page.context["grid"].editable
    body = {
        "period": PERIOD,
        f"user-{rep.pk}-2026-04": "1000",
        f"user-{rep.pk}-2026-05": "1,500.50",
        f"user-{rep.pk}-2026-06": "",
        f"team-{team_east.pk}-2026-04": "9000",
        # A forged cell for another team's rep changes nothing.
        f"user-{rep_other_team.pk}-2026-04": "5",
    }
    response = client.post(reverse("sales:quotas"), body)
    assert response.status_code == 302
    stored = {(q.user_id, q.team_id, q.month): q.amount for q in Quota.objects.all()}
    assert stored == {
        (rep.pk, None, APRIL): Decimal("1000.00"),
        (rep.pk, None, MAY): Decimal("1500.50"),
        (None, team_east.pk, APRIL): Decimal("9000.00"),
    }
    # Changed and cleared in a second save; untouched cells stay.
    body = {"period": PERIOD, f"user-{rep.pk}-2026-04": "1200", f"user-{rep.pk}-2026-05": ""}
    assert client.post(reverse("sales:quotas"), body).status_code == 302
    assert set(Quota.objects.values_list("user_id", "team_id", "month", "amount")) == {
        (rep.pk, None, APRIL, Decimal("1200.00")),
        (None, team_east.pk, APRIL, Decimal("9000.00")),
    }


def test_attainment_is_won_against_quota(client, manager, rep, team_east, pipeline):
    Quota.objects.create(user=rep, month=APRIL, amount=Decimal("1000"))
    Quota.objects.create(user=rep, month=MAY, amount=Decimal("1000"))
    Quota.objects.create(team=team_east, month=APRIL, amount=Decimal("4000"))
    _won(rep, pipeline, "500", dt.datetime(2026, 4, 10, 12, tzinfo=dt.UTC))
    _won(rep, pipeline, "700", dt.datetime(2026, 5, 3, 12, tzinfo=dt.UTC))
    _won(rep, pipeline, "999", dt.datetime(2026, 7, 3, 12, tzinfo=dt.UTC))  # next quarter
    login(client, manager)
    grid = client.get(_url()).context["grid"]
    rows = {row.key: row for row in grid.rows}
    mine = rows[f"user-{rep.pk}"]
    assert (mine.quota_total, mine.won_total, mine.attainment) == (
        Decimal("2000"),
        Decimal("1200"),
        Decimal("60.0"),
    )
    assert mine.won == {APRIL: Decimal("500"), MAY: Decimal("700"), JUNE: Decimal("0")}
    team = rows[f"team-{team_east.pk}"]
    assert (team.quota_total, team.won_total, team.attainment) == (
        Decimal("4000"),
        Decimal("1200"),
        Decimal("30.0"),
    )


def test_rep_reads_own_row_and_team_but_may_not_save(
    client, rep, rep_teammate, team_east, pipeline
):
    Quota.objects.create(user=rep, month=APRIL, amount=Decimal("1000"))
    login(client, rep)
    page = client.get(_url())
    assert page.status_code == 200
    grid = page.context["grid"]
    assert not grid.editable
    assert [row.key for row in grid.rows] == [f"team-{team_east.pk}", f"user-{rep.pk}"]
    html = page.content.decode()
    assert "1000.00" in html
    assert "Save quotas" not in html
    assert f'name="user-{rep.pk}-2026-04"' not in html
    response = client.post(reverse("sales:quotas"), {f"user-{rep.pk}-2026-04": "99999"})
    assert response.status_code == 403
    assert Quota.objects.get().amount == Decimal("1000")


def test_service_refuses_targets_outside_the_actors_reach(manager, rep_other_team, rep):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        quotas.quotas_set(
            actor=manager,
            cells=[quotas.QuotaCell(month=APRIL, amount=Decimal(1), user_id=rep_other_team.pk)],
        )
    with pytest.raises(PermissionDenied):
        quotas.quotas_set(
            actor=rep, cells=[quotas.QuotaCell(month=APRIL, amount=Decimal(1), user_id=rep.pk)]
        )
    assert not Quota.objects.exists()


def test_admin_sets_any_team(client, admin_user, team_west, rep_other_team):
    from tests.conftest import login_verified

    login_verified(client, admin_user)
    grid = client.get(_url()).context["grid"]
    assert f"team-{team_west.pk}" in [row.key for row in grid.rows]
    response = client.post(
        reverse("sales:quotas"), {"period": PERIOD, f"team-{team_west.pk}-2026-06": "10"}
    )
    assert response.status_code == 302
    assert Quota.objects.get().team == team_west


@pytest.mark.parametrize("value", ["-1", "lots", "1e400", "NaN", "1.234", "9" * 19])
def test_bad_cell_is_422_and_saves_nothing(client, manager, rep, value):
    login(client, manager)
    body = {"period": PERIOD, f"user-{rep.pk}-2026-04": "10", f"user-{rep.pk}-2026-05": value}
    response = client.post(reverse("sales:quotas"), body)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter each quota as an amount of zero or more." in html
    assert "is-invalid" in html
    assert not Quota.objects.exists()


def test_bad_period_is_400_with_message(client, manager):
    login(client, manager)
    response = client.get(reverse("sales:quotas"), {"period": "2026-Q9"})
    assert response.status_code == 400
    assert "quarter" in response.content.decode()
    response = client.post(reverse("sales:quotas"), {"period": "\u202e"})
    assert response.status_code == 400


def test_default_period_is_this_quarter(client, manager):
    login(client, manager)
    today = timezone.localdate()
    grid = client.get(reverse("sales:quotas")).context["grid"]
    assert len(grid.months) == 3
    assert grid.months[0] <= today.replace(day=1) <= grid.months[-1]


def test_query_count_does_not_grow_with_rows(
    client, manager, rep, rep_teammate, django_assert_max_num_queries
):
    from tests.accounts.factories import UserFactory

    login(client, manager)
    client.get(_url())
    with django_assert_max_num_queries(20) as few:
        client.get(_url())
    for n in range(6):
        UserFactory(email=f"extra{n}@example.com", team=manager.team, role="Sales rep")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url())
    assert len(response.context["grid"].rows) >= 9
