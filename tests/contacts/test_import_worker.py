"""An import through a real Celery worker: checking a large file and the commit run as tasks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts import imports
from contacts.models import Contact, ImportJob, ImportStatus

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(job: ImportJob, statuses: set[str], seconds: float = 60) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.status}")


def test_large_import_runs_in_the_worker(client, rep, live_worker):
    rows = "".join(f"Person {i},person{i}@example.com,+1 555 {i:07d}\n" for i in range(3000))
    content = ("Name,Email,Phone\n" + rows).encode()
    assert len(content) > 64 * 1024
    client.force_login(rep)
    client.post(reverse("contacts:import-start"), {"file": SimpleUploadedFile("big.csv", content)})
    job = ImportJob.objects.get()
    url = reverse("contacts:import-detail", args=[job.pk])
    assert job.total_rows > imports.INLINE_ROWS  # so the rows are checked in the worker
    client.post(url, {"action": "map", "column-0": "full_name", "column-1": "email",
                      "column-2": "phone", "skip_duplicates": "on"})  # fmt: skip
    job = wait_for(job, {ImportStatus.VALID, ImportStatus.INVALID, ImportStatus.FAILED})
    assert job.status == ImportStatus.VALID, job.errors[:3] or job.message
    assert job.total_rows == 3000
    client.post(url, {"action": "commit"})
    job = wait_for(job, {ImportStatus.DONE, ImportStatus.FAILED})
    assert job.status == ImportStatus.DONE, job.message
    assert job.created_count == 3000
    assert Contact.objects.filter(owner=rep).count() == 3000
    page = client.get(url).content.decode()
    assert "3000 records imported" in page  # the shell's page (templates/imports/)


# --- a worker that dies: the jobs reaper (crm/jobs.py) ----------------------------------------


def _stuck_validation(client, rep, *, attempts: int):
    """An import whose check was claimed by a worker that then died: the import says
    VALIDATING and its job RUNNING, with a heartbeat ten minutes old and nothing in the cache."""
    from contacts.tasks import VALIDATE, contact_import_validate
    from crm.models import Job, JobStatus

    rows = "".join(f"Person {i},person{i}@example.com\n" for i in range(1500))
    client.force_login(rep)
    client.post(
        reverse("contacts:import-start"),
        {"file": SimpleUploadedFile("big.csv", ("Name,Email\n" + rows).encode())},
    )
    job = ImportJob.objects.get()
    imports.import_set_mapping(
        job=job, mapping={"0": "full_name", "1": "email"}, skip_duplicates=True, tag_names="",
        actor=rep,
    )  # fmt: skip
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.VALIDATING)
    long_ago = timezone.now() - timedelta(minutes=10)
    run = Job.objects.create(
        kind=VALIDATE, task_name=contact_import_validate.name, actor=rep,
        kwargs={"import_id": job.pk, "actor_id": rep.pk}, status=JobStatus.RUNNING,
        attempts=attempts, started_at=long_ago, heartbeat_at=long_ago,
    )  # fmt: skip
    cache.delete(f"job-heartbeat:{run.pk}")  # ids repeat between tests; the cache does not
    return job, run


def test_a_check_whose_worker_died_is_requeued_by_the_reaper_and_finishes(client, rep, live_worker):
    from crm.jobs import reap_stale_jobs
    from crm.models import JobStatus

    job, run = _stuck_validation(client, rep, attempts=1)
    reap_stale_jobs.delay()  # as beat sends it: the reaper runs in the worker too
    job = wait_for(job, {ImportStatus.VALID, ImportStatus.INVALID, ImportStatus.FAILED})
    assert job.status == ImportStatus.VALID, job.errors[:3] or job.message
    assert job.total_rows == 1500
    deadline = time.monotonic() + 30
    while run.status != JobStatus.DONE and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.status == JobStatus.DONE
    assert run.attempts == 2
    assert run.done == 1500
    assert run.heartbeat_at > timezone.now() - timedelta(minutes=1)


def test_a_check_whose_worker_keeps_dying_fails_clearly(client, rep, live_worker):
    from crm.jobs import reap_stale_jobs
    from crm.models import JobStatus

    job, run = _stuck_validation(client, rep, attempts=3)
    reap_stale_jobs.delay()
    job = wait_for(job, {ImportStatus.FAILED, ImportStatus.VALID})
    assert job.status == ImportStatus.FAILED
    assert "stopped answering for 5 minutes, 3 times" in job.message
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    page = client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "stopped answering" in page
    # The user can map and check again.
    assert job.status in imports.MAPPABLE
