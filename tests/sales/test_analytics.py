"""Pipeline performance (sales/analytics.py): stage conversion, time in stage, velocity and loss
reasons over a period, checked against a hand-computed history; scoped; bad input is a 400.

The rep's deals, period 2025-Q1 (stages Qualify < Meet < Proposal, then Won and Lost):

* A (1,000): Qualify 01-05 -> Meet 01-15 -> Won 02-04 (created 01-05: a 30-day cycle)
* B (400): Qualify 01-10 -> Lost 01-30 (reason Price)
* C (300): Qualify 02-01, still there
* D (200): Meet 2024-12-01 -> Qualify 2025-01-11 (moved back) -> Meet 03-01, still there

Qualify stays begun in Q1: A, B, C, D -> moved on A, D; dropped B; still C: 50.0 %, days
(10 + 20 + 49) / 3 = 26.3. Meet: A (20 days, on to Won), D (still): 50.0 %, 20.0 days; D's
December stay began before the period. Velocity: 2 open x 1,000 x 50 % / 30 days = 33.33.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from sales.models import LossReason, Opportunity, StageChange
from tests.conftest import login
from tests.sales.factories import stage

pytestmark = pytest.mark.django_db


def _at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, tzinfo=dt.UTC)


def _deal(owner, pipeline, path, amount, reason=None):
    last = stage(pipeline, path[-1][0])
    deal = Opportunity.objects.create(
        name=f"Deal {path[0][1]:%m-%d} {amount}", pipeline=pipeline, stage=last, owner=owner,
        team_id=owner.team_id, amount=Decimal(amount), expected_close_date=dt.date(2025, 6, 1),
        probability=last.probability, stage_entered_at=path[-1][1],
        closed_at=path[-1][1] if last.kind != "open" else None, loss_reason=reason,
    )  # fmt: skip
    Opportunity.objects.filter(pk=deal.pk).update(created_at=path[0][1])
    previous = None
    for name, at in path:
        to = stage(pipeline, name)
        StageChange.objects.create(opportunity=deal, from_stage=previous, to_stage=to, at=at)
        previous = to
    return deal


@pytest.fixture
def book(rep, rep_other_team, pipeline):
    price = LossReason.objects.get_or_create(name="Price")[0]
    _deal(rep, pipeline, [("Qualify", _at(2025, 1, 5)), ("Meet", _at(2025, 1, 15)),
                          ("Won", _at(2025, 2, 4))], 1000)  # fmt: skip
    _deal(rep, pipeline, [("Qualify", _at(2025, 1, 10)), ("Lost", _at(2025, 1, 30))], 400, price)
    _deal(rep, pipeline, [("Qualify", _at(2025, 2, 1))], 300)
    _deal(rep, pipeline, [("Meet", _at(2024, 12, 1)), ("Qualify", _at(2025, 1, 11)),
                          ("Meet", _at(2025, 3, 1))], 200)  # fmt: skip
    # Another team's deal: never in the rep's numbers.
    _deal(rep_other_team, pipeline, [("Qualify", _at(2025, 1, 5))], 5000)


def _page(client, pipeline, **params):
    query = {"pipeline": pipeline.pk, "period": "2025-Q1"}
    return client.get(reverse("sales:analytics"), {**query, **params})


def test_conversion_time_in_stage_velocity_and_reasons(client, rep, book, pipeline):
    login(client, rep)
    response = _page(client, pipeline, who="me")
    assert response.status_code == 200
    metrics = response.context["metrics"]
    rows = {m.stage.name: m for m in metrics.stages}
    assert list(rows) == ["Qualify", "Meet", "Proposal"]  # open stages only
    q, m, p = rows["Qualify"], rows["Meet"], rows["Proposal"]
    assert (q.entered, q.moved_on, q.dropped, q.still_there) == (4, 2, 1, 1)
    assert (q.conversion, q.avg_days) == (Decimal("50.0"), Decimal("26.3"))
    assert (m.entered, m.moved_on, m.dropped, m.still_there) == (2, 1, 0, 1)
    assert (m.conversion, m.avg_days) == (Decimal("50.0"), Decimal("20.0"))
    assert (p.entered, p.conversion, p.avg_days) == (0, None, None)
    v = metrics.velocity
    assert (v.open_deals, v.won, v.lost) == (2, 1, 1)
    assert (v.win_rate, v.average_won, v.cycle_days) == (
        Decimal("50.0"),
        Decimal("1000.00"),
        Decimal("30.0"),
    )
    assert v.per_day == Decimal("33.33")
    assert [(r.name, r.count, r.amount) for r in metrics.loss_reasons] == [
        ("Price", 1, Decimal("400.00"))
    ]
    html = response.content.decode()
    for shown in ("50.0%", "33.33", "Price"):
        assert shown in html


def test_a_rep_never_sees_another_teams_deals(client, rep, book, pipeline):
    login(client, rep)
    response = _page(client, pipeline, who="company")  # not allowed: falls back to the team
    assert response.context["who"] != "company"
    rows = {m.stage.name: m for m in response.context["metrics"].stages}
    assert rows["Qualify"].entered == 4


def test_manager_sees_the_company(client, manager, book, pipeline):
    login(client, manager)
    response = _page(client, pipeline, who="company")
    rows = {m.stage.name: m for m in response.context["metrics"].stages}
    assert rows["Qualify"].entered == 5


def test_queries_do_not_grow_with_deals(client, rep, book, pipeline, django_assert_max_num_queries):
    login(client, rep)
    _page(client, pipeline)  # warm caches
    with django_assert_max_num_queries(12):  # computed anew, not the kept figures
        assert _page(client, pipeline, who="me", fresh="1").status_code == 200
    with django_assert_max_num_queries(6):  # the kept figures: none of the metrics queries
        assert _page(client, pipeline, who="me").status_code == 200


def test_figures_are_kept_five_minutes_and_refresh_on_asking(client, rep, book, pipeline):
    login(client, rep)
    first = _page(client, pipeline, who="me")
    assert "Figures as of" in first.content.decode()
    assert "fresh=1" in first.content.decode()
    _deal(rep, pipeline, [("Qualify", _at(2025, 3, 2))], 700)
    kept = _page(client, pipeline, who="me")
    assert kept.context["computed_at"] == first.context["computed_at"]
    assert {m.stage.name: m for m in kept.context["metrics"].stages}["Qualify"].entered == 4
    fresh = _page(client, pipeline, who="me", fresh="1")
    assert {m.stage.name: m for m in fresh.context["metrics"].stages}["Qualify"].entered == 5
    again = _page(client, pipeline, who="me")  # the refreshed figures are the ones kept now
    assert {m.stage.name: m for m in again.context["metrics"].stages}["Qualify"].entered == 5


def test_kept_figures_are_per_user_and_forgotten_when_a_stage_changes(
    client, rep, manager, book, pipeline, django_capture_on_commit_callbacks
):
    login(client, rep)
    assert _page(client, pipeline, who="team").status_code == 200
    login(client, manager)  # another user's view: never the rep's kept figures
    rows = {
        m.stage.name: m for m in _page(client, pipeline, who="company").context["metrics"].stages
    }
    assert rows["Qualify"].entered == 5
    login(client, rep)
    renamed = stage(pipeline, "Qualify")
    renamed.name = "Qualified"
    with django_capture_on_commit_callbacks(execute=True):  # the bump waits for the commit
        renamed.save()
    names = [m.stage.name for m in _page(client, pipeline, who="team").context["metrics"].stages]
    assert names[0] == "Qualified"


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2025-Q7"},
        {"period": "x\x00"},
        {"period": "二〇二五"},
        {"pipeline": "999999"},
        {"pipeline": "abc"},
    ],
)
def test_bad_input_is_a_400_with_a_message(client, rep, book, pipeline, params):
    login(client, rep)
    response = client.get(reverse("sales:analytics"), {"pipeline": pipeline.pk, **params})
    assert response.status_code == 400
    if "\x00" not in params.get("period", ""):
        html = response.content.decode()
        assert "Give the period as" in html or "Pick a pipeline from the list." in html


def test_anonymous_goes_to_login(client, pipeline):
    response = client.get(reverse("sales:analytics"))
    assert response.status_code == 302


def test_board_warns_of_stalled_cards_only(client, rep, pipeline):
    """A card stays past its stage's `stall_days` (30 by default): the board marks it."""
    from django.utils import timezone

    from tests.sales.factories import make_deal

    old = make_deal(rep, name="Old one")
    make_deal(rep, name="Fresh one")
    Opportunity.objects.filter(pk=old.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=31)
    )
    login(client, rep)
    response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk})
    cards = {c.name: c for column in response.context["columns"] for c in column.cards}
    assert (cards["Old one"].stalled, cards["Old one"].days_in_stage) == (True, 31)
    assert cards["Fresh one"].stalled is False
    assert response.content.decode().count(">Stalled</span>") == 1


def test_a_role_that_sees_no_deal_gets_empty_figures(client, rep, book, pipeline):
    """An empty scope (the permission door's `.none()`) reads nothing and shows zeros."""
    from accounts import access
    from sales import analytics

    metrics = analytics.pipeline_metrics(
        deals=access.scoped(rep, Opportunity).none(),
        pipeline=pipeline,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 4, 1),
    )
    assert [m.entered for m in metrics.stages] == [0, 0, 0]
    assert (metrics.velocity.open_deals, metrics.velocity.per_day) == (0, None)


@pytest.mark.parametrize("who", ["rep", "admin_user"])
def test_a_narrow_scope_read_whole_counts_what_the_probes_count(request, book, pipeline, who):
    """The two ways of finding the visible touched deals (a narrow scope read whole and
    hash-joined, a wide one probed by id) give the same stays."""
    from accounts import access
    from sales import analytics

    user = request.getfixturevalue(who)
    deals = access.scoped(user, Opportunity).filter(pipeline=pipeline, archived_at__isnull=True)
    stages = list(pipeline.stages.order_by("position", "id"))
    period = {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 4, 1)}

    def counts(narrow):
        found = analytics.stage_metrics(deals=deals, stages=stages, narrow=narrow, **period)
        return [(m.stage.name, m.entered, m.moved_on, m.dropped, m.avg_days) for m in found]

    assert counts(True) == counts(False) == counts(None)
    assert ("Qualify", 4 if who == "rep" else 5) == counts(True)[0][:2]
