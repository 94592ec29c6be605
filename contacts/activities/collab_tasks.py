"""Background work for collaboration: notification emails and task reminders. Thin: load by id,
call the service, retry transient errors. Imported from `collab.ready()` so workers know them."""

from __future__ import annotations

from celery import shared_task

from contacts.activities import digests, notifications
from crm.errors import TransientError


@shared_task(
    name=notifications.EMAIL_TASK,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def notification_email(*, notification_id: int) -> bool:
    """Email one notification; a second delivery of the task sends nothing."""
    return notifications.notification_email_send(notification_id=notification_id)


@shared_task(name="activities.notification_email_sweep", acks_late=True)
def notification_email_sweep() -> int:
    """Queue again the emails whose claim's lease ran out unsent (a worker died mid-send)."""
    stale = notifications.notification_emails_stale()
    for pk in stale:
        notification_email.delay(notification_id=pk)
    return len(stale)


@shared_task(
    name=digests.DIGEST_TASK,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def notification_digest_email(*, digest_id: int) -> bool:
    """Send one user's daily digest; a second delivery of the task sends nothing."""
    return digests.digest_send(digest_id=digest_id)


@shared_task(name="activities.notification_digests", acks_late=True)
def notification_digests() -> int:
    """Write and queue the day's digests that are due, and queue again unsent ones."""
    return len(digests.digests_due())


@shared_task(name="activities.task_reminders", acks_late=True)
def task_reminders() -> int:
    """Remind assignees of tasks that came due; safe late, twice or at once (claim rows)."""
    from contacts.activities import reminders

    return reminders.reminders_due()
