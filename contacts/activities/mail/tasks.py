"""The email tasks: thin, by id (contacts/activities/mail/services.py does the work)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from contacts.activities.mail import services
from crm.errors import TransientError

MAX_RETRIES = 5


@shared_task(
    bind=True,
    name=services.SEND_TASK,
    acks_late=True,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=MAX_RETRIES,
)
def mail_send(self: Any, *, mail_id: int) -> bool:
    """Send one queued email, at most once (a conditional claim); transient failures are
    retried with backoff, and the last one marks the email failed."""
    return services.mail_deliver(mail_id=mail_id, last_try=self.request.retries >= MAX_RETRIES)
