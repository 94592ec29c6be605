"""Each new owner is told ONCE per bulk assignment or import, whatever its number of chunks
(the list kit's `BulkAction.finished`, the import shell's `Importer.finished`): "Ana assigned
you 5 leads", leading to the lead list filtered to the owner's own, while the history still
records every lead. In a job, what the chunks counted lives in the job's row (`Job.tally`), so
a worker that dies between chunks, a retried last chunk or a second run tells nobody twice and
nobody less. The jobs run in a real Celery worker; the run that "dies" runs in this process
and stops with an exception no handler catches, as a killed worker leaves its job."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts import imports
from contacts.activities.collab_models import Notification
from contacts.models import ImportJob, ImportMode, ImportStatus
from crm import bulk_actions, jobs, outbox
from crm.errors import TransientError
from crm.models import Job, JobStatus
from leads import assignment, services
from leads import imports as lead_imports
from leads.models import Lead
from tests.conftest import login
from tests.leads.factories import make_lead

URL = "/leads/bulk/"
LIST = reverse("leads:lead-list") + "?owner=me"


class WorkerDied(BaseException):
    """What a killed worker leaves: no handler of the job's runs (JobTask catches Exception)."""


def _leads(owner, n: int, prefix: str = "m") -> list[Lead]:
    return [
        make_lead(owner, owner=owner, given_name=f"{prefix}{i}", email=f"{prefix}{i}@x.example")
        for i in range(n)
    ]


def _told(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind="assigned")
        .order_by("pk")
        .values_list("text", flat=True)
    )


def _owner_changes(leads: list[Lead]) -> int:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id__in=[lead.pk for lead in leads],
        action=LogEntry.Action.UPDATE,
        changes__has_key="owner",
    ).count()


def _wait(job: Job, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status}")


def _assign_job(rep, owner) -> Job:
    """A bulk "Assign owner" over all of the rep's leads, recorded but not queued (the test
    decides who runs it)."""
    return Job.objects.create(
        kind=bulk_actions.JOB_KIND,
        task_name=bulk_actions.bulk_run.name,
        kwargs={
            "list_name": "leads",
            "action": "assign",
            "query": "",
            "options": {"owner": [str(owner.pk)]},
            "actor_id": rep.pk,
        },
        actor=rep,
        total=5,
    )


# --- the message ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_notice_says_who_and_how_many_and_leads_to_the_owners_list(rep, rep_teammate) -> None:
    anchor = _leads(rep_teammate, 1)[0]
    assert assignment.notify_assigned(counts={str(rep_teammate.pk): 1240}, actor=rep) == 1
    notice = Notification.objects.get(recipient=rep_teammate)
    assert notice.text == f"{rep} assigned you 1,240 leads"
    assert (notice.url, notice.actor, notice.target_id) == (LIST, rep, anchor.pk)
    assignment.notify_assigned(counts={str(rep_teammate.pk): 1}, actor=rep)
    assert _told(rep_teammate)[-1] == f"{rep} assigned you 1 lead"


@pytest.mark.django_db
def test_nobody_is_told_of_nothing_or_of_their_own_doing(rep, rep_teammate) -> None:
    _leads(rep_teammate, 1)
    counts = {str(rep_teammate.pk): 0, str(rep.pk): 3}
    assert assignment.notify_assigned(counts=counts, actor=rep) == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_an_in_request_assignment_over_two_chunks_tells_the_owner_once(
    client, rep, rep_teammate, monkeypatch
) -> None:
    monkeypatch.setattr(bulk_actions, "CHUNK", 2)
    mine = _leads(rep, 5)
    login(client, rep).post(
        URL, {"action": "assign", "ids": [x.pk for x in mine], "owner": rep_teammate.pk}
    )
    assert _told(rep_teammate) == [f"{rep} assigned you 5 leads"]
    assert _owner_changes(mine) == 5


# --- in a job ---------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_job_over_three_chunks_tells_the_owner_once_and_a_second_run_tells_nobody(
    client, rep, rep_teammate, live_worker, settings, monkeypatch
) -> None:
    settings.CRM_BULK_IN_REQUEST = 3
    monkeypatch.setattr(bulk_actions, "CHUNK", 2)  # 5 leads: chunks of 2, 2 and 1
    mine = _leads(rep, 5)
    body = {"action": "assign", "owner": rep_teammate.pk, "all": "on", "return_query": ""}
    assert login(client, rep).post(URL, body).status_code == 202
    job = _wait(Job.objects.get(kind=bulk_actions.JOB_KIND))
    assert job.status == JobStatus.DONE, job.message
    assert job.tally == {str(rep_teammate.pk): 5}
    assert job.wrapped_up_at is not None
    assert _told(rep_teammate) == [f"{rep} assigned you 5 leads"]
    assert Notification.objects.get(recipient=rep_teammate).url == LIST
    assert _owner_changes(mine) == 5  # the history records each lead
    # Run again (as after a worker that died once its wrap-up had committed): nobody told twice.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
    outbox.enqueue(job.task_name, {**job.kwargs, "job_id": job.pk})
    job = _wait(job)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert _told(rep_teammate) == [f"{rep} assigned you 5 leads"]
    assert _owner_changes(mine) == 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dies_after", [1, 3], ids=["between-chunks", "after-the-last"])
def test_a_worker_that_dies_mid_job_loses_no_count_and_the_owner_is_told_once(
    rep, rep_teammate, live_worker, monkeypatch, dies_after
) -> None:
    monkeypatch.setattr(bulk_actions, "CHUNK", 2)
    mine = _leads(rep, 5)
    job = _assign_job(rep, rep_teammate)
    progress = jobs.progress
    seen: list[int] = []

    def dying(**kwargs) -> None:
        progress(**kwargs)
        seen.append(kwargs["done"])
        if len(seen) == dies_after:
            raise WorkerDied

    monkeypatch.setattr(jobs, "progress", dying)
    with pytest.raises(WorkerDied):
        bulk_actions.bulk_run(job_id=job.pk, **job.kwargs)  # the first worker, killed
    monkeypatch.setattr(jobs, "progress", progress)
    job.refresh_from_db()
    moved = {1: 2, 3: 5}[dies_after]
    assert job.status == JobStatus.RUNNING
    assert job.tally == {str(rep_teammate.pk): moved}  # committed with its chunks
    assert Lead.objects.filter(owner=rep_teammate).count() == moved
    assert not _told(rep_teammate)
    # The reaper finds it without a sign of life; the real worker runs it again.
    assert jobs.reap(now=timezone.now() + timedelta(minutes=10))["requeued"] == 1
    job = _wait(job)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2), job.message
    assert job.tally == {str(rep_teammate.pk): 5}
    assert _told(rep_teammate) == [f"{rep} assigned you 5 leads"]
    assert _owner_changes(mine) == 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_retried_last_chunk_tells_the_owner_once(
    rep, rep_teammate, live_worker, monkeypatch
) -> None:
    monkeypatch.setattr(bulk_actions, "CHUNK", 2)
    mine = _leads(rep, 5)
    last = max(x.pk for x in mine)
    real = services.lead_bulk_set_owner
    failed: list[int] = []

    def flaky(**kwargs):
        done = real(**kwargs)
        if last in kwargs["ids"] and not failed:  # the last chunk's commit is lost, once
            failed.append(last)
            raise TransientError("server closed the connection unexpectedly")
        return done

    monkeypatch.setattr(services, "lead_bulk_set_owner", flaky)
    job = _assign_job(rep, rep_teammate)
    outbox.enqueue(job.task_name, {**job.kwargs, "job_id": job.pk})
    job = _wait(job)
    assert failed
    assert (job.status, job.attempts) == (JobStatus.DONE, 2), job.message
    assert job.tally == {str(rep_teammate.pk): 5}
    assert _told(rep_teammate) == [f"{rep} assigned you 5 leads"]
    assert _owner_changes(mine) == 5


# --- imports ----------------------------------------------------------------------------------


def _import(actor, content: str) -> ImportJob:
    job = imports.import_upload(
        file=SimpleUploadedFile("leads.csv", content.encode()), actor=actor, entity="lead"
    )
    imports.import_set_mapping(
        job=job, mapping=job.mapping, skip_duplicates=False, tag_names="", actor=actor,
        value_map=None, write_mode=ImportMode.BOTH, external_source=None,
    )  # fmt: skip
    lead_imports.set_options(job, write_mode=ImportMode.BOTH)
    job.save(update_fields=["write_mode", "external_source"])
    return imports.import_check(job=job, actor=actor)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_tells_each_owner_once_for_its_new_and_reassigned_leads(
    manager, rep, rep_teammate, live_worker, monkeypatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 2)  # the commit goes over chunk boundaries
    existing = _leads(manager, 2, "old")
    rows = [f"New {i},new{i}@x.example,{rep.email}" for i in range(3)]
    rows += [f"Old {i},old{i}@x.example,{rep.email}" for i in range(2)]  # reassigned
    rows += [f"Team {i},team{i}@x.example,{rep_teammate.email}" for i in range(2)]
    rows += ["Mine,mine@x.example,"]  # the importer's own: nobody told
    job = _import(manager, "Name,Email,Owner\n" + "\n".join(rows) + "\n")
    assert job.status == ImportStatus.VALID, job.errors
    assert not Notification.objects.exists()  # the check step tells nobody
    imports.import_queue(job=job, actor=manager)
    deadline = time.monotonic() + 60
    while job.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        assert time.monotonic() < deadline, job.status
        time.sleep(0.1)
        job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created_count, job.updated_count) == (6, 2)
    assert _told(rep) == [f"{manager} assigned you 5 leads"]
    assert _told(rep_teammate) == [f"{manager} assigned you 2 leads"]
    assert Notification.objects.get(recipient=rep).url == LIST
    assert not _told(manager)
    assert _owner_changes(existing) == 2  # each reassignment in the lead's history
    # A second delivery of the commit writes nothing and tells nobody again.
    imports.import_commit(job_id=job.pk, actor=manager)
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_an_import_that_fails_at_commit_tells_nobody(manager, rep) -> None:
    job = _import(manager, f"Name,Email,Owner\nAda,ada@x.example,{rep.email}\n")
    assert job.status == ImportStatus.VALID, job.errors
    rep.is_active = False  # the owner left after the check: the whole import fails
    rep.save(update_fields=["is_active"])
    imports.import_queue(job=job, actor=manager)
    job = imports.import_commit(job_id=job.pk, actor=manager)
    assert job.status == ImportStatus.FAILED
    assert not Lead.objects.filter(email="ada@x.example").exists()
    assert not Notification.objects.exists()
