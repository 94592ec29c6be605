"""Meetings' Celery task: send one invitation (thin: the delivery is in `invitations`). Imported
by `contacts.activities.meetings.register()` so workers know it."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from contacts.activities.meetings.invitations import invitation_deliver
from contacts.activities.meetings.services import MAX_RETRIES, SEND_TASK
from crm.errors import TransientError


@shared_task(
    bind=True,
    name=SEND_TASK,
    acks_late=True,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=MAX_RETRIES,
)
def invitation_send(self: Any, *, invitation_id: int) -> bool:
    """Send one meeting invitation at most once (a conditional claim); transient failures are
    retried with backoff."""
    return invitation_deliver(
        invitation_id=invitation_id, last_try=self.request.retries >= MAX_RETRIES
    )
