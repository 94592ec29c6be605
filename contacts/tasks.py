"""Background work for contacts. Thin: load by id, run the service, retry only transient errors.

Imports run as jobs (crm/jobs.py): the job's task base claims the job, sets the actor for the
audit log and records the outcome; the services also claim their import with a conditional
update, so a second delivery (acks_late redelivers after a lost worker) does nothing. When a
worker dies mid-way, the reaper requeues the job (the hooks below put the import back where a
new run can take it) or, after the last attempt, fails the import with the reason.
"""

from __future__ import annotations

from celery import shared_task

from accounts.models import User
from contacts import imports
from contacts.models import ImportJob, ImportStatus
from crm import jobs
from crm.models import Job

VALIDATE = "contacts.import_validate"
COMMIT = "contacts.import_commit"


@shared_task(base=jobs.JobTask, **jobs.RETRY)
def contact_import_validate(*, job_id: int, import_id: int, actor_id: int) -> None:
    """Check an import's rows (MAPPED -> VALID or INVALID). Idempotent."""
    imports.import_validate(job_id=import_id, actor=User.objects.get(pk=actor_id))


@shared_task(base=jobs.JobTask, **jobs.RETRY)
def contact_import_commit(*, job_id: int, import_id: int, actor_id: int) -> None:
    """Import the rows in one transaction (QUEUED -> DONE or FAILED). Runs once per import."""
    imports.import_commit(job_id=import_id, actor=User.objects.get(pk=actor_id))


def _validation_requeued(job: Job) -> None:
    # The dead run left the import VALIDATING and wrote nothing: the next run starts over.
    ImportJob.objects.filter(pk=job.kwargs["import_id"], status=ImportStatus.VALIDATING).update(
        status=ImportStatus.MAPPED
    )


def _import_failed(job: Job) -> None:
    # A dead commit's transaction died with its connection: nothing of it was saved.
    ImportJob.objects.filter(
        pk=job.kwargs["import_id"],
        status__in=[
            ImportStatus.MAPPED,
            ImportStatus.VALIDATING,
            ImportStatus.QUEUED,
            ImportStatus.IMPORTING,
        ],
    ).update(status=ImportStatus.FAILED, message=job.message)


jobs.register(VALIDATE, on_requeue=_validation_requeued, on_fail=_import_failed)
# A requeued commit finds its import IMPORTING with no lock held and takes it over
# (imports.import_commit), so it needs no hook for that.
jobs.register(COMMIT, on_fail=_import_failed)
