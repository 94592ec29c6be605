"""Page views' retention (contacts/activities/tracking/services.page_views_prune): views older
than CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS go in bounded batches, newer ones stay, a second run
finds nothing, 0 keeps everything, and the leads whose visitor lost views are rescored so their
score and breakdown count only the views that are left; through the real beat task and worker."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from contacts.activities.models import PageView
from contacts.activities.tracking import services, tasks
from crm.celery import app as celery_app
from crm.models import OutboxMessage
from leads import scoring
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule
from leads.tracking import RESCORE_TASK
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

SITE = "https://www.partner.example"


def _views(visitor: uuid.UUID, count: int, days_ago: float) -> None:
    at = timezone.now() - dt.timedelta(days=days_ago)
    PageView.objects.bulk_create(
        PageView(site="form:x", visitor=visitor, url=f"{SITE}/{i}", at=at) for i in range(count)
    )


def test_old_views_go_in_batches_and_newer_ones_stay(settings) -> None:
    settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = 30
    _views(uuid.uuid4(), 5, days_ago=31)
    _views(uuid.uuid4(), 2, days_ago=29)
    result = services.page_views_prune(batch=2)
    assert (result.deleted, result.batches, result.done) == (5, 3, True)
    assert PageView.objects.count() == 2
    assert services.page_views_prune(batch=2).deleted == 0  # a second run finds nothing


def test_a_run_stops_after_its_batches_and_the_next_goes_on(settings) -> None:
    settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = 30
    _views(uuid.uuid4(), 5, days_ago=40)
    first = services.page_views_prune(batch=2, max_batches=2)
    assert (first.deleted, first.done) == (4, False)
    second = services.page_views_prune(batch=2, max_batches=2)
    assert (second.deleted, second.done) == (1, True)
    assert not PageView.objects.exists()


def test_retention_zero_keeps_every_view(settings) -> None:
    settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = 0
    _views(uuid.uuid4(), 3, days_ago=4000)
    assert services.page_views_prune().deleted == 0
    assert PageView.objects.count() == 3


def test_the_default_retention_is_about_13_months(settings) -> None:
    del settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS
    assert services.page_view_retention_days() == 396
    _views(uuid.uuid4(), 1, days_ago=397)
    _views(uuid.uuid4(), 1, days_ago=395)
    assert services.page_views_prune().deleted == 1


def test_the_prune_reads_the_oldest_through_the_time_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + services._PRUNE_BATCH,
            {"cutoff": timezone.now(), "batch": 10},
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "pageview_at" in plan


def test_the_beat_schedule_runs_the_prune_daily() -> None:
    entry = celery_app.conf.beat_schedule["activities-page-views-prune"]
    assert entry["task"] == services.PRUNE_TASK == tasks.page_views_prune.name


def _rule(points: int) -> None:
    # Hardly any decay in these tests' time: the views' count is what moves the score.
    ScoringRule.objects.create(
        field=ScoringField.PAGE_VISITED,
        operator=ScoringOperator.AT_LEAST,
        value="3",
        points=points,
        half_life_days=10_000,
    )


def test_pruning_queues_the_rescore_of_the_leads_that_lost_views(rep, settings) -> None:
    settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = 30
    _rule(9)
    lost, kept = uuid.uuid4(), uuid.uuid4()
    losing, keeping = make_lead(rep), make_lead(rep)
    Lead.objects.filter(pk=losing.pk).update(visitor=lost)
    Lead.objects.filter(pk=keeping.pk).update(visitor=kept)
    _views(lost, 2, days_ago=40)
    _views(lost, 1, days_ago=1)
    _views(kept, 3, days_ago=1)
    OutboxMessage.objects.all().delete()
    assert services.page_views_prune().deleted == 2
    queued = {m.kwargs["lead_id"] for m in OutboxMessage.objects.filter(task_name=RESCORE_TASK)}
    assert queued == {losing.pk}


@pytest.mark.worker
def test_the_real_task_prunes_and_the_score_follows_through_a_worker(
    rep, settings, live_worker
) -> None:
    settings.CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = 30
    _rule(9)
    visitor = uuid.uuid4()
    lead = make_lead(rep)
    Lead.objects.filter(pk=lead.pk).update(visitor=visitor)
    _views(visitor, 2, days_ago=60)
    _views(visitor, 2, days_ago=2)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 9
    tasks.page_views_prune.delay()
    deadline = time.monotonic() + 30
    while PageView.objects.count() != 2:
        assert time.monotonic() < deadline, "the task did not prune the old views"
        time.sleep(0.2)
    while Lead.objects.get(pk=lead.pk).score != 0:
        assert time.monotonic() < deadline, "the lead still counts the pruned views"
        time.sleep(0.2)
    breakdown = Lead.objects.get(pk=lead.pk).score_breakdown
    assert not any("pages" in item["reason"] for item in breakdown)
