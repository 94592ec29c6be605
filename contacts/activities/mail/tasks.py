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


@shared_task(name="contacts.activities.mail.tasks.mailbox_sync", acks_late=True, ignore_result=True)
def mailbox_sync(*, mailbox_id: int) -> int | None:
    """Sync one personal mailbox (mailboxes.mailbox_sync): claimed, so two at once do not run;
    what it stores is idempotent. Errors are recorded on the mailbox for its user."""
    from contacts.activities.mail import mailboxes

    return mailboxes.mailbox_sync(mailbox_id=mailbox_id)


@shared_task(name="contacts.activities.mail.tasks.mailboxes_sync_due", ignore_result=True)
def mailboxes_sync_due() -> int:
    """Beat: queue a sync of every active personal mailbox. Safe late or twice."""
    from contacts.activities.mail import mailboxes

    return mailboxes.sync_due()
