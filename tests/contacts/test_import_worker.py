"""An import through a real Celery worker: checking a large file and the commit run as tasks."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

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
    assert "3000 contacts imported" in page
