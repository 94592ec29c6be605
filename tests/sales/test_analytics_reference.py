"""Pipeline performance's stage conversion (sales.analytics.stage_metrics) against a
straightforward computation: each visible deal's changes in (time, id) order, every stay begun
in the period in an open stage, ended by the deal's next change whatever its date.

Random histories (a fixed seed) with moves forward, back, to won and lost and reopenings, over
2024-2025 and into the next year, so stays begun in a period often end after it (the deal moved
since: the query looks past the period for those) or never (still there); two changes of one
deal at the same moment are ordered by id. Compared per period (months and quarters, before,
inside and after the busy span), per scope (the rep's own and their team's, a manager's team,
an administrator's company) and both ways of reading the scope (read whole, probed by id).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import access
from sales import analytics
from sales.models import Opportunity, Stage, StageChange, StageKind
from tests.conftest import login

pytestmark = pytest.mark.django_db

TENTH = Decimal("0.1")
START = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def _history(rng: random.Random, stages: list[Stage]) -> list[tuple[Stage, dt.datetime]]:
    """A deal's path: from an open stage, 1-7 moves, each 0-70 days (to the minute) after the
    last, sometimes at the same moment."""
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    closed = [s for s in stages if s.kind != StageKind.OPEN]
    at = START + dt.timedelta(minutes=rng.randrange(0, 540 * 24 * 60))
    current = rng.choice(open_stages)
    path = [(current, at)]
    for _ in range(rng.randrange(0, 7)):
        choices = [s for s in (*open_stages, *closed) if s != current]
        if current.kind != StageKind.OPEN:
            choices = list(open_stages)  # reopened
        current = rng.choice(choices)
        if rng.random() > 0.1:  # else: the same moment as the last change
            at += dt.timedelta(minutes=rng.randrange(1, 70 * 24 * 60))
        path.append((current, at))
    return path


@pytest.fixture
def deals(rep, rep_teammate, rep_other_team, manager, pipeline):
    """60 deals of four owners, histories written as the services would leave them: the deal in
    its last change's stage since that change's time, closed then if that stage is won/lost."""
    rng = random.Random(28)
    stages = list(pipeline.stages.order_by("position", "id"))
    owners = [rep, rep_teammate, rep_other_team, manager]
    changes = []
    for n in range(60):
        owner = owners[n % len(owners)]
        path = _history(rng, stages)
        last, entered = path[-1]
        deal = Opportunity.objects.create(
            name=f"Deal {n}", pipeline=pipeline, stage=last, owner=owner, team_id=owner.team_id,
            amount=Decimal(1000), expected_close_date=dt.date(2025, 6, 1),
            probability=last.probability, stage_entered_at=entered,
            closed_at=entered if last.kind != StageKind.OPEN else None,
        )  # fmt: skip
        previous = None
        for to, at in path:
            changes.append(StageChange(opportunity=deal, from_stage=previous, to_stage=to, at=at))
            previous = to
    StageChange.objects.bulk_create(changes)  # ids in path order: ties keep it


def _expected(deals, stages, start: dt.date, end: dt.date) -> list[tuple]:
    """The reference: per open stage (entered, moved on, dropped, still there, mean days)."""
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min), zone)
    until = timezone.make_aware(dt.datetime.combine(end, dt.time.min), zone)
    open_order = [s.pk for s in stages if s.kind == StageKind.OPEN]
    won = {s.pk for s in stages if s.kind == StageKind.WON}
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    days: dict[int, list[Decimal]] = defaultdict(list)
    visible = set(deals.values_list("pk", flat=True))
    history = StageChange.objects.filter(opportunity_id__in=visible).order_by(
        "opportunity_id", "at", "id"
    )
    by_deal: dict[int, list[StageChange]] = defaultdict(list)
    for change in history:
        by_deal[change.opportunity_id].append(change)
    for rows in by_deal.values():
        for i, change in enumerate(rows):
            if change.to_stage_id not in open_order or not since <= change.at < until:
                continue
            row = counts[change.to_stage_id]
            row[0] += 1
            if i + 1 == len(rows):
                row[3] += 1
                continue
            after = rows[i + 1]
            forward = after.to_stage_id in won or (
                after.to_stage_id in open_order
                and open_order.index(after.to_stage_id) > open_order.index(change.to_stage_id)
            )
            row[1 if forward else 2] += 1
            days[change.to_stage_id].append(Decimal((after.at - change.at).total_seconds()) / 86400)
    found = []
    for pk in open_order:
        spent = days[pk]
        mean = (sum(spent, Decimal(0)) / len(spent)).quantize(TENTH) if spent else None
        found.append((pk, *counts[pk], mean))
    return found


PERIODS = [
    (dt.date(2024, 1, 1), dt.date(2024, 4, 1)),  # before any change
    (dt.date(2024, 7, 1), dt.date(2024, 10, 1)),
    (dt.date(2024, 11, 1), dt.date(2024, 12, 1)),
    (dt.date(2025, 1, 1), dt.date(2025, 4, 1)),
    (dt.date(2025, 6, 1), dt.date(2025, 7, 1)),
    (dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
    (dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
]


@pytest.mark.parametrize(("start", "end"), PERIODS)
@pytest.mark.parametrize(
    ("who", "narrow_by"),
    [("rep", "me"), ("rep", "team"), ("manager", "team"), ("admin_user", "company")],
)
def test_stage_metrics_equal_the_straightforward_count(request, deals, pipeline, who, narrow_by,
                                                       start, end):  # fmt: skip
    user = request.getfixturevalue(who)
    scoped = access.scoped(user, Opportunity)
    if narrow_by == "me":
        scoped = scoped.filter(owner=user)
    elif narrow_by == "team":
        scoped = scoped.filter(team_id=user.team_id)
    mine = scoped.filter(pipeline=pipeline, archived_at__isnull=True)
    stages = list(pipeline.stages.order_by("position", "id"))
    expected = _expected(mine, stages, start, end)
    if START.date() <= start < dt.date(2026, 1, 1):  # the busy span: stays to count
        assert sum(row[1] for row in expected) > 0
    for narrow in (True, False):
        found = analytics.stage_metrics(
            deals=mine, stages=stages, start=start, end=end, narrow=narrow
        )
        got = [
            (m.stage.pk, m.entered, m.moved_on, m.dropped, m.still_there, m.avg_days) for m in found
        ]
        assert got == expected, (narrow, got, expected)


def test_some_stays_end_after_their_period_and_some_never(deals, pipeline, rep):
    """The fixture exercises the look past the period: stays begun in 2025-Q1 ended by a change
    after March, and stays still running."""
    q1 = (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    ended_later = still = 0
    for deal in Opportunity.objects.all():
        rows = list(StageChange.objects.filter(opportunity=deal).order_by("at", "id"))
        for i, change in enumerate(rows):
            if q1[0] <= change.at < q1[1]:
                if i + 1 == len(rows):
                    still += 1
                elif rows[i + 1].at >= q1[1]:
                    ended_later += 1
    assert ended_later >= 3
    assert still >= 3
    ties = StageChange.objects.values("opportunity_id", "at").distinct().count()
    assert ties < StageChange.objects.count()  # some deal has two changes at one moment


def test_the_services_keep_stage_entered_at_at_the_last_change(rep, pipeline):
    """The query trusts `stage_entered_at` to be the time of the deal's latest change (only
    deals entered after the period are looked up past it): create, move, close and reopen."""
    from sales import services
    from tests.sales.factories import make_deal, stage

    deal = make_deal(rep, pipeline=pipeline, amount=100)
    for name in ("Meet", "Proposal", "Won", "Qualify"):
        deal = services.opportunity_move_stage(
            opportunity=deal, stage=stage(pipeline, name), actor=rep
        )
        last = StageChange.objects.filter(opportunity=deal).order_by("at", "id").last()
        deal.refresh_from_db()
        assert last is not None
        assert deal.stage_entered_at == last.at
        assert deal.stage_id == last.to_stage_id


def test_the_page_shows_the_reference_numbers_in_few_queries(
    client, deals, pipeline, rep, django_assert_max_num_queries
):
    login(client, rep)
    url = reverse("sales:analytics")
    query = {"pipeline": pipeline.pk, "period": "2025-Q1", "who": "team"}
    client.get(url, query)  # warm caches
    with django_assert_max_num_queries(12):
        response = client.get(url, query)
    assert response.status_code == 200
    stages = list(pipeline.stages.order_by("position", "id"))
    team = access.scoped(rep, Opportunity).filter(
        team_id=rep.team_id, pipeline=pipeline, archived_at__isnull=True
    )
    expected = _expected(team, stages, dt.date(2025, 1, 1), dt.date(2025, 4, 1))
    got = [
        (m.stage.pk, m.entered, m.moved_on, m.dropped, m.still_there, m.avg_days)
        for m in response.context["metrics"].stages
    ]
    assert got == expected
