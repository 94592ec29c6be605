"""Generic jobs (crm/jobs.py): claimed once, run as their actor, outcomes recorded, transient
errors retried, and the reaper that tells a dead worker from a busy one."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from contacts.models import Tag
from crm import jobs
from crm.errors import DomainError, TransientError
from crm.models import Job, JobStatus

_calls: dict[str, int] = {}


@shared_task(base=jobs.JobTask, **{**jobs.RETRY, "retry_backoff": False, "default_retry_delay": 0})
def _tag_task(*, job_id: int, name: str, fail: str = "") -> None:
    _calls[name] = _calls.get(name, 0) + 1
    if fail == "domain":
        raise DomainError("No such thing.")
    if fail == "transient" and _calls[name] == 1:
        raise TransientError("database went away")
    jobs.progress(done=1, total=1)
    Tag.objects.create(name=name)  # audited: whoever the job's actor is


def _wait(job: Job, statuses: set[str], seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status}")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_runs_once_as_its_actor(rep, live_worker):
    job = jobs.job_start(kind="test.tag", task=_tag_task, kwargs={"name": "ok"}, actor=rep)
    job = _wait(job, {JobStatus.DONE, JobStatus.FAILED})
    assert job.status == JobStatus.DONE, job.message
    assert (job.attempts, job.done, job.total) == (1, 1, 1)
    assert job.finished_at is not None
    tag = Tag.objects.get(name="ok")
    assert LogEntry.objects.get_for_object(tag).get().actor == rep
    _tag_task.delay(job_id=job.pk, name="ok")  # a second delivery does nothing
    time.sleep(1)
    assert _calls["ok"] == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_domain_errors_are_recorded_and_transient_ones_retried(rep, live_worker):
    failed = jobs.job_start(
        kind="test.tag", task=_tag_task, kwargs={"name": "bad", "fail": "domain"}, actor=rep
    )
    retried = jobs.job_start(
        kind="test.tag", task=_tag_task, kwargs={"name": "flaky", "fail": "transient"}, actor=rep
    )
    failed = _wait(failed, {JobStatus.DONE, JobStatus.FAILED})
    assert failed.status == JobStatus.FAILED
    assert failed.message == "No such thing."
    assert failed.errors == [{"message": "No such thing."}]
    retried = _wait(retried, {JobStatus.DONE, JobStatus.FAILED})
    assert retried.status == JobStatus.DONE
    assert retried.attempts == 2
    assert _calls["flaky"] == 2


def _running(minutes_ago: float, attempts: int = 1) -> Job:
    then = timezone.now() - timedelta(minutes=minutes_ago)
    job = Job.objects.create(
        kind="test.tag", task_name=_tag_task.name, kwargs={"name": "x"}, status=JobStatus.RUNNING,
        attempts=attempts, started_at=then, heartbeat_at=then,
    )  # fmt: skip
    cache.delete(f"job-heartbeat:{job.pk}")  # ids repeat between tests; the cache does not
    return job


@pytest.mark.django_db
def test_reaper_leaves_fresh_and_busy_jobs_alone():
    fresh = _running(1)
    busy = _running(30)  # its row is stale (a long transaction) but the cache says alive
    cache.set(f"job-heartbeat:{busy.pk}", (timezone.now().timestamp(), 5))
    assert jobs.reap() == {"requeued": 0, "failed": 0}
    fresh.refresh_from_db()
    busy.refresh_from_db()
    assert fresh.status == busy.status == JobStatus.RUNNING


@pytest.mark.django_db
def test_reaper_requeues_then_fails_and_a_second_run_changes_nothing(
    django_capture_on_commit_callbacks,
):
    from crm.models import OutboxMessage

    requeue = _running(10, attempts=1)
    give_up = _running(10, attempts=3)
    with django_capture_on_commit_callbacks():
        assert jobs.reap() == {"requeued": 1, "failed": 1}
    requeue.refresh_from_db()
    give_up.refresh_from_db()
    assert requeue.status == JobStatus.QUEUED
    assert "queued again" in requeue.message
    assert give_up.status == JobStatus.FAILED
    assert "3 times" in give_up.message
    message = OutboxMessage.objects.get(task_name=_tag_task.name)
    assert message.kwargs == {"name": "x", "job_id": requeue.pk}
    assert jobs.reap() == {"requeued": 0, "failed": 0}


# --- the progress fragment --------------------------------------------------------------------


@pytest.mark.django_db
def test_progress_fragment_polls_while_running_and_stops_with_the_outcome(
    client, rep, rep_teammate
):
    from django.urls import reverse

    job = _running(0)
    Job.objects.filter(pk=job.pk).update(actor=rep, total=200, done=50)
    cache.set(f"job-heartbeat:{job.pk}", (timezone.now().timestamp(), 120))  # ahead of the row
    url = reverse("job-progress", args=[job.pk])
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(rep_teammate)
    assert client.get(url).status_code == 404  # someone else's job
    client.force_login(rep)
    response = client.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in html
    assert "120 of 200 done" in html
    assert 'aria-valuenow="60"' in html
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, message="The worker stopped answering."
    )
    response = client.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 286  # htmx stops polling and swaps in the final state
    assert "hx-trigger" not in html
    assert "The worker stopped answering." in html
