from __future__ import annotations

import datetime as dt
import itertools
import threading
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections, connection

from sales import selectors, services
from sales.models import ForecastCategory, Opportunity, Stage, StageChange
from tests.sales.factories import make_deal, make_pipeline, stage

pytestmark = pytest.mark.django_db


def test_create_starts_in_first_stage_with_its_probability_and_records_history(rep, pipeline):
    deal = make_deal(rep, name="Robots", amount="1200.50")
    assert deal.stage.name == "Qualify"
    assert deal.probability == 10
    assert deal.amount == Decimal("1200.50")
    assert deal.team_id == rep.team_id
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage, change.to_stage, change.by) == (None, deal.stage, rep)
    assert LogEntry.objects.get_for_object(deal).get().actor == rep


def test_create_refused_into_a_stage_whose_required_fields_are_missing(rep, pipeline):
    with pytest.raises(services.DomainError, match="amount"):
        make_deal(rep, stage=stage(pipeline, "Proposal"))
    assert not Opportunity.objects.exists()


def test_move_without_required_amount_is_refused_and_changes_nothing(rep, pipeline):
    deal = make_deal(rep)
    with pytest.raises(services.DomainError) as caught:
        services.opportunity_move_stage(
            opportunity=deal, stage=stage(pipeline, "Proposal"), actor=rep
        )
    assert "Proposal" in caught.value.message
    assert "amount" in caught.value.message
    assert caught.value.field == "amount"
    deal.refresh_from_db()
    assert deal.stage.name == "Qualify"
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_move_sets_stage_probability_and_history(rep, pipeline):
    deal = make_deal(rep, amount="500")
    moved = services.opportunity_move_stage(
        opportunity=deal, stage=stage(pipeline, "Proposal"), actor=rep
    )
    assert (moved.stage.name, moved.probability) == ("Proposal", 50)
    last = StageChange.objects.filter(opportunity=deal).last()
    assert last is not None
    assert (last.from_stage.name, last.to_stage.name) == ("Qualify", "Proposal")
    assert moved.weighted_amount == Decimal("250.00")


def test_move_to_same_stage_records_nothing(rep, pipeline):
    deal = make_deal(rep)
    services.opportunity_move_stage(opportunity=deal, stage=deal.stage, actor=rep)
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_move_to_another_pipelines_stage_is_refused(rep, pipeline):
    other = make_pipeline("Renewals", default=False)
    deal = make_deal(rep)
    with pytest.raises(services.DomainError, match="pipeline"):
        services.opportunity_move_stage(opportunity=deal, stage=stage(other, "Meet"), actor=rep)


def test_lost_needs_a_reason_then_closes_and_reopen_is_recorded(rep, pipeline, loss_reason):
    deal = make_deal(rep, amount="100", forecast_category=ForecastCategory.COMMIT)
    lost = stage(pipeline, "Lost")
    with pytest.raises(services.DomainError, match="lost"):
        services.opportunity_move_stage(opportunity=deal, stage=lost, actor=rep)
    deal = services.opportunity_move_stage(
        opportunity=deal, stage=lost, actor=rep, loss_reason=loss_reason, loss_note=" too dear "
    )
    assert deal.closed_at is not None
    assert (deal.loss_reason, deal.loss_note) == (loss_reason, "too dear")
    assert deal.forecast_category == ForecastCategory.CLOSED
    assert deal.probability == 0
    reopened = services.opportunity_move_stage(
        opportunity=deal, stage=stage(pipeline, "Meet"), actor=rep
    )
    assert reopened.closed_at is None
    assert reopened.loss_reason is None
    assert reopened.forecast_category == ForecastCategory.PIPELINE
    moves = list(
        StageChange.objects.filter(opportunity=deal).values_list(
            "from_stage__name", "to_stage__name"
        )
    )
    assert moves == [(None, "Qualify"), ("Qualify", "Lost"), ("Lost", "Meet")]


def test_won_closes_with_probability_100(rep, pipeline):
    deal = make_deal(rep, amount="100")
    won = services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=rep)
    assert (won.probability, won.forecast_category) == (100, ForecastCategory.CLOSED)
    assert won.closed_at is not None
    assert won.loss_reason is None


def test_other_team_rep_may_not_move_or_update(rep, rep_other_team, pipeline):
    deal = make_deal(rep)
    with pytest.raises(PermissionDenied):
        services.opportunity_move_stage(
            opportunity=deal, stage=stage(pipeline, "Meet"), actor=rep_other_team
        )
    data = services.OpportunityInput(name="x", expected_close_date=dt.date(2030, 1, 1))
    with pytest.raises(PermissionDenied):
        services.opportunity_update(opportunity=deal, data=data, actor=rep_other_team)


def test_read_only_may_not_create(read_only, pipeline):
    with pytest.raises(PermissionDenied):
        make_deal(read_only)


def test_update_keeps_current_stage_rules(rep, pipeline):
    deal = make_deal(rep, amount="300")
    services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Proposal"), actor=rep)
    data = services.OpportunityInput(
        name="Robots", expected_close_date=dt.date(2030, 1, 1), amount=Decimal("0")
    )
    with pytest.raises(services.DomainError, match="amount"):
        services.opportunity_update(opportunity=deal, data=data, actor=rep)


def test_update_recomputes_score_and_keeps_override(rep, pipeline):
    deal = make_deal(rep, amount="300")
    data = services.OpportunityInput(
        name="Robots",
        expected_close_date=dt.date(2030, 1, 1),
        amount=Decimal("300.10"),
        probability=35,
        ratings={"need": 3, "budget": 3, "decision_maker": 2, "timeline": 1, "purchase_intent": 0},
    )
    updated = services.opportunity_update(opportunity=deal, data=data, actor=rep)
    assert (updated.score, updated.probability) == (60, 35)
    assert updated.amount == Decimal("300.10")


@pytest.mark.parametrize(
    ("ratings", "score"),
    [({}, 0), ({"need": 1}, 7), ({"need": 3, "budget": 3}, 40), (dict.fromkeys("x", 0), 0)],
)
def test_evaluation_score(ratings, score):
    assert services.evaluation_score(ratings) == score


def test_all_strong_scores_100():
    strong = dict.fromkeys(services.QUALIFICATION_FIELDS, 3)
    assert services.evaluation_score(strong) == 100


def test_bad_ratings_and_negative_amount_refused(rep, pipeline):
    with pytest.raises(services.DomainError, match="0 to 3"):
        make_deal(rep, ratings={"need": 4})
    with pytest.raises(services.DomainError, match="negative"):
        make_deal(rep, amount="-1")


def test_time_in_stage_sums_every_stay(rep, pipeline):
    deal = make_deal(rep, amount="10")
    qualify, meet = stage(pipeline, "Qualify"), stage(pipeline, "Meet")
    services.opportunity_move_stage(opportunity=deal, stage=meet, actor=rep)
    services.opportunity_move_stage(opportunity=deal, stage=qualify, actor=rep)
    start = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
    times = [start, start + dt.timedelta(days=2), start + dt.timedelta(days=5, hours=6)]
    for change, at in zip(StageChange.objects.filter(opportunity=deal), times, strict=True):
        StageChange.objects.filter(pk=change.pk).update(at=at)
    now = start + dt.timedelta(days=7, hours=6)
    totals = selectors.time_in_stages(opportunity=deal, now=now)
    # Qualify: 2 days, then 2 more days after coming back; Meet: 3 days 6 hours.
    assert totals == {
        qualify.pk: dt.timedelta(days=4),
        meet.pk: dt.timedelta(days=3, hours=6),
    }
    deal.stage_entered_at = times[-1]
    assert selectors.days_in_stage(deal, now=now) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_of_one_card_serialise_and_history_stays_a_chain(rep):
    pipeline = make_pipeline("Concurrent", default=False)
    deal = make_deal(rep, amount="100", pipeline=pipeline)
    targets = [stage(pipeline, "Meet"), stage(pipeline, "Proposal")]
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def move(target: Stage) -> None:
        try:
            barrier.wait()
            fresh = Opportunity.objects.get(pk=deal.pk)  # both read "Qualify" first
            services.opportunity_move_stage(opportunity=fresh, stage=target, actor=rep)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=move, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    changes = list(StageChange.objects.filter(opportunity=deal).order_by("at", "id"))
    assert len(changes) == 3
    # A chain: each move starts where the previous one left the deal.
    for before, after in itertools.pairwise(changes):
        assert after.from_stage_id == before.to_stage_id
    deal.refresh_from_db()
    # The last one to commit wins, and the deal is where the history says.
    assert deal.stage_id == changes[-1].to_stage_id
    assert deal.stage_entered_at == changes[-1].at
    assert deal.probability == deal.stage.probability
