"""Background work for contacts. Thin: load by id, run the service as the actor, retry only
transient errors. The services claim their job with a conditional update, so a second delivery
(acks_late redelivers after a lost worker) does nothing."""

from __future__ import annotations

from auditlog.context import set_actor
from celery import shared_task

from accounts.models import User
from contacts import imports
from crm.errors import TransientError

RETRY = {
    "acks_late": True,
    "autoretry_for": (TransientError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(**RETRY)
def contact_import_validate(*, job_id: int, actor_id: int) -> None:
    """Check an import's rows (MAPPED -> VALID or INVALID). Idempotent."""
    actor = User.objects.get(pk=actor_id)
    with set_actor(actor):
        imports.import_validate(job_id=job_id, actor=actor)


@shared_task(**RETRY)
def contact_import_commit(*, job_id: int, actor_id: int) -> None:
    """Import every row in one transaction (QUEUED -> DONE or FAILED). Runs once per job."""
    actor = User.objects.get(pk=actor_id)
    with set_actor(actor):
        imports.import_commit(job_id=job_id, actor=actor)
