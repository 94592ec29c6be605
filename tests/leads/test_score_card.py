"""The lead page's score card (leads/views.py `?part=score`): re-fetched when a quick action
changes the lead (HX-Trigger lead-changed) and polled every 2 s while a recompute is pending,
a bounded number of times; scoped like the page, with a bounded number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Job, JobStatus, OutboxMessage, OutboxStatus
from leads import scoring, selectors, views
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule
from leads.tracking import RESCORE_TASK
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _card(lead: Lead, **query: object) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"part": "score", **query}.items())
    return f"{lead.get_absolute_url()}?{params}"


def test_the_card_is_a_fragment_that_reloads_on_lead_changed(client, rep) -> None:
    lead = make_lead(rep)
    login(client, rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="lead-score"' in page
    assert "lead-changed from:body" in page
    response = client.get(_card(lead), **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<section")
    assert "<html" not in body
    assert 'hx-trigger="lead-changed from:body"' in body  # nothing pending: no polling


def test_a_pending_rescore_makes_the_card_poll_until_the_worker_took_it(client, rep) -> None:
    ScoringRule.objects.create(
        field=ScoringField.INTERACTIONS, operator=ScoringOperator.AT_LEAST, value="1", points=7
    )
    lead = make_lead(rep)
    message = OutboxMessage.objects.create(task_name=RESCORE_TASK, kwargs={"lead_id": lead.pk})
    login(client, rep)
    body = client.get(_card(lead), **HX).content.decode()
    assert "every 2s" in body
    assert "poll=1" in body
    assert "Recomputing the score" in body
    # Another lead's rescore does not concern this card.
    assert not selectors.lead_score_pending(lead=make_lead(rep, email="other@example.com"))
    # The worker took it and finished: the next poll shows the new score and stops.
    scoring.lead_rescore(lead_id=lead.pk)
    started = timezone.now() - timezone.timedelta(seconds=selectors.RESCORE_RUNNING + 1)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.STARTED, started_at=started
    )
    body = client.get(_card(lead, poll=1), **HX).content.decode()
    assert "every 2s" not in body
    assert "Recomputing" not in body


def test_a_recent_start_or_a_recompute_job_still_counts_as_pending(rep) -> None:
    lead = make_lead(rep)
    OutboxMessage.objects.create(
        task_name=RESCORE_TASK,
        kwargs={"lead_id": lead.pk},
        status=OutboxStatus.STARTED,
        started_at=timezone.now(),
    )
    assert selectors.lead_score_pending(lead=lead)
    OutboxMessage.objects.all().delete()
    assert not selectors.lead_score_pending(lead=lead)
    job = Job.objects.create(kind="leads.rescore", task_name=scoring.RECOMPUTE_TASK)
    assert selectors.lead_score_pending(lead=lead)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    assert not selectors.lead_score_pending(lead=lead)


def test_polling_stops_after_its_limit_even_if_the_worker_is_down(client, rep) -> None:
    lead = make_lead(rep)
    OutboxMessage.objects.create(task_name=RESCORE_TASK, kwargs={"lead_id": lead.pk})
    login(client, rep)
    body = client.get(_card(lead, poll=views.SCORE_POLLS), **HX).content.decode()
    assert "every 2s" not in body
    for bad in ("x", "-3", "9" * 30):
        assert client.get(_card(lead, poll=bad), **HX).status_code == 200


def test_the_card_is_scoped_and_its_queries_bounded(client, rep, rep_other_team) -> None:
    theirs = make_lead(rep_other_team)
    mine = make_lead(rep)
    OutboxMessage.objects.create(task_name=RESCORE_TASK, kwargs={"lead_id": mine.pk})
    login(client, rep)
    assert client.get(_card(theirs), **HX).status_code == 404
    assert client.get(_card(mine), **HX).status_code == 200  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_card(mine), **HX).status_code == 200
    # session, user, the role's groups, the lead, the outbox check (the job check only when
    # the outbox says no): flat, whatever the lead's breakdown
    assert len(queries) <= 8, [q["sql"] for q in queries]
    client.logout()
    response = client.get(_card(mine), **HX)
    assert response.status_code in (302, 401)
