"""The demo/bench seeding (`sales.demo.seed_opportunities`) looks like a working sales floor:
won and lost deals closed over the last five years, open ones recent (days to weeks in their
stage, a minority stalled, a few overdue), every history consistent, the same seed the same
deals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import pairwise

import pytest
from django.utils import timezone

from accounts.models import User
from contacts.models import Company
from sales.demo import HISTORY_DAYS, seed_opportunities
from sales.models import Opportunity, StageChange, StageKind

DEALS = 3_000


@pytest.fixture
def seeded(rep: User, manager: User) -> list[Opportunity]:
    for i in range(5):
        Company.objects.create(name=f"Seed company {i}", owner=rep)
    seed_opportunities(DEALS, rng_seed=7)
    return list(Opportunity.objects.select_related("stage").order_by("id"))


def test_open_deals_are_recent_with_few_stalled_or_overdue(seeded: list[Opportunity]) -> None:
    now, today = timezone.now(), timezone.localdate()
    open_deals = [d for d in seeded if d.closed_at is None]
    assert 0.07 * DEALS < len(open_deals) < 0.15 * DEALS
    assert all(d.stage.kind == StageKind.OPEN for d in open_deals)
    assert all(d.created_at <= d.stage_entered_at <= now for d in open_deals)
    overdue = [d for d in open_deals if d.expected_close_date < today]
    stalled = [d for d in open_deals if (now - d.stage_entered_at).days > d.stage.stall_days]
    assert 0.03 < len(overdue) / len(open_deals) < 0.12
    assert 0.05 < len(stalled) / len(open_deals) < 0.2
    # Overdue by weeks at most, never expected before the deal existed; the others in 0-6 months.
    assert all(d.expected_close_date >= today - dt.timedelta(days=45) for d in overdue)
    assert all(d.expected_close_date >= d.created_at.date() for d in overdue)
    assert all(
        d.expected_close_date <= today + dt.timedelta(days=183)
        for d in open_deals
        if d not in overdue
    )
    recent = [d for d in open_deals if d.created_at > now - dt.timedelta(days=183)]
    assert len(recent) > 0.9 * len(open_deals)


def test_won_and_lost_deals_closed_over_five_years(seeded: list[Opportunity]) -> None:
    now = timezone.now()
    closed = [d for d in seeded if d.closed_at is not None]
    assert {d.stage.kind for d in closed} == {StageKind.WON, StageKind.LOST}
    start = now - dt.timedelta(days=HISTORY_DAYS)
    for deal in closed:
        assert start <= deal.created_at < deal.closed_at < now
        assert deal.closed_at == deal.stage_entered_at
        assert deal.expected_close_date == deal.closed_at.date()
    # Spread: every year of the five holds a fair share of the closes.
    per_year = defaultdict(int)
    for deal in closed:
        per_year[(now - deal.closed_at).days // 365] += 1
    assert set(per_year) == {0, 1, 2, 3, 4}
    assert min(per_year.values()) > 0.15 * len(closed)


def test_every_stage_history_is_consistent(seeded: list[Opportunity]) -> None:
    changes = defaultdict(list)
    for change in StageChange.objects.order_by("opportunity_id", "at", "id"):
        changes[change.opportunity_id].append(change)
    for deal in seeded:
        history = changes[deal.pk]
        assert history, deal.pk
        assert history[0].from_stage_id is None
        assert history[0].at == deal.created_at
        for before, after in pairwise(history):
            assert before.at < after.at
            assert after.from_stage_id == before.to_stage_id
        assert history[-1].to_stage_id == deal.stage_id
        assert history[-1].at == deal.stage_entered_at
        assert history[-1].amount == deal.amount
        assert all(c.at <= timezone.now() for c in history)


def _shape(deals: list[Opportunity]) -> list[tuple[object, ...]]:
    return [
        (
            d.pipeline_id, d.stage_id, d.amount, d.owner_id, d.company_id, d.probability,
            d.expected_close_date, d.name.rsplit(" ", 1)[0], d.tag_ids, d.score,
        )
        for d in deals
    ]  # fmt: skip


def test_the_same_seed_gives_the_same_deals(rep: User, manager: User) -> None:
    for i in range(5):
        Company.objects.create(name=f"Seed company {i}", owner=rep)
    seed_opportunities(300, rng_seed=3)
    first = list(Opportunity.objects.order_by("id"))
    seed_opportunities(300, rng_seed=3)
    second = list(Opportunity.objects.order_by("id"))[300:]
    assert _shape(first) == _shape(second)
    seed_opportunities(300, rng_seed=4)
    assert _shape(list(Opportunity.objects.order_by("id"))[600:]) != _shape(first)
