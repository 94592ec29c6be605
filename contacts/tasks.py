"""Background work for contacts. Thin: load by id, call the service, record the outcome."""

from __future__ import annotations

from auditlog.context import set_actor
from celery import shared_task

from accounts.models import User
from contacts import imports
from crm.errors import TransientError


@shared_task(acks_late=True, autoretry_for=(TransientError,), retry_backoff=True, max_retries=5)
def contact_import_validate(*, job_id: int, actor_id: int) -> None:
    """Check an import's rows. Idempotent: checking again gives the same result."""
    actor = User.objects.get(pk=actor_id)
    with set_actor(actor):
        imports.import_validate(job_id=job_id, actor=actor)


@shared_task(acks_late=True, autoretry_for=(TransientError,), retry_backoff=True, max_retries=5)
def contact_import_commit(*, job_id: int, actor_id: int) -> None:
    """Import every row in one transaction. Claimed by a conditional update: runs once."""
    actor = User.objects.get(pk=actor_id)
    imports.import_commit(job_id=job_id, actor=actor)
