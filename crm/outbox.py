"""Work for Celery, written to PostgreSQL with the change that asked for it (transactional outbox).

    from crm import outbox
    outbox.enqueue("contacts.tasks.contact_import_commit", {"job_id": job.pk, "actor_id": a.pk})

`enqueue` writes an `OutboxMessage` row in the caller's transaction (or at once, in autocommit),
so the task exists exactly when the change that caused it does. After the commit the row is sent
to the broker and marked SENT; when the broker cannot be reached it stays PENDING and nothing is
raised to the caller. `relay()` (a beat task every 30 s, and once when a worker starts) re-sends
PENDING rows, and SENT rows that no worker started within `CRM_OUTBOX_RESEND_AFTER` seconds (a
Redis restarted without its data loses its queues). Every send of a row uses the row's task id,
and a worker marks the row STARTED when it begins the task (`crm.tasks`).

A row may therefore be delivered more than once: tasks sent through the outbox must be
idempotent (claim their job with a conditional update), as every task here already is.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A row younger than this is left to its own after-commit send, so the relay does not race it.
PENDING_GRACE = timedelta(seconds=10)
RELAY_BATCH = 500
KEEP_STARTED = timedelta(days=7)


class _Breaker:
    """After a failed send, skip sending for a few seconds: with the broker down, each request
    that enqueues would otherwise pay a connection attempt (up to the connect timeout)."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self.open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def trip(self) -> None:
        self.open_until = time.monotonic() + self.cooldown

    def reset(self) -> None:
        self.open_until = 0.0


_breaker = _Breaker(cooldown=5.0)


def enqueue(
    task_name: str | Task, kwargs: Mapping[str, Any], *, queue: str | None = None
) -> OutboxMessage:
    """Record that `task_name(**kwargs)` must run, in the current transaction; send it after commit.

    `kwargs` must be JSON values (ids, not model instances). `queue` defaults to the task
    default queue. Never raises for a broker that is down: the row waits for the relay."""
    name = task_name if isinstance(task_name, str) else task_name.name
    message = OutboxMessage.objects.create(task_name=name, kwargs=dict(kwargs), queue=queue or "")
    transaction.on_commit(lambda: _send_fresh(message.pk), robust=True)
    return message


def _send_fresh(pk: int) -> None:
    if not _breaker.allows():
        return  # the relay sends it once the broker is back
    message = OutboxMessage.objects.filter(pk=pk, status=OutboxStatus.PENDING).first()
    if message is not None:
        send(message)


def send(message: OutboxMessage) -> bool:
    """Hand one row to the broker and mark it SENT; False (row unchanged but for the error) when
    the broker did not take it."""
    from crm.celery import app

    try:
        with app.producer_or_acquire() as producer:
            # One connection attempt, no retries: a request never waits out a dead broker (kombu
            # would otherwise retry for broker_connection_timeout); the relay is the retry.
            producer.connection.ensure_connection(max_retries=0, timeout=2)
            app.send_task(
                message.task_name,
                kwargs=message.kwargs,
                task_id=str(message.task_id),
                queue=message.queue or None,
                retry=False,
                producer=producer,
            )
    except Exception as exc:  # kombu/redis connection errors vary by transport; all mean "not sent"
        _breaker.trip()
        log.warning("outbox: %s %s not sent: %s", message.task_name, message.task_id, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            last_error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        return False
    _breaker.reset()
    OutboxMessage.objects.filter(pk=message.pk).exclude(status=OutboxStatus.STARTED).update(
        status=OutboxStatus.SENT, sent_at=timezone.now(), attempts=message.attempts + 1
    )
    return True


def relay(*, grace: timedelta = PENDING_GRACE, resend_after: timedelta | None = None) -> int:
    """Send rows the broker never took (PENDING for longer than `grace`) and rows sent but not
    started for longer than `resend_after`. Returns how many were sent.

    Safe to run concurrently (rows are locked with SKIP LOCKED) and late or twice: a row is sent
    again only while no worker has started it. Stops at the first failed send."""
    if resend_after is None:
        resend_after = timedelta(seconds=settings.CRM_OUTBOX_RESEND_AFTER)
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        due = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT])
            .filter(
                Q(status=OutboxStatus.PENDING, created_at__lte=now - grace)
                | Q(status=OutboxStatus.SENT, sent_at__lte=now - resend_after)
            )
            .order_by("created_at", "id")[:RELAY_BATCH]
        )
        for message in due:
            if not send(message):
                break
            sent += 1
    OutboxMessage.objects.filter(
        status=OutboxStatus.STARTED, started_at__lt=now - KEEP_STARTED
    ).delete()
    if sent:
        log.info("outbox: relayed %d task(s)", sent)
    return sent


def mark_started(task_ids: Iterable[str]) -> int:
    """Record that a worker began these tasks; the relay no longer re-sends them."""
    ids = []
    for task_id in task_ids:
        try:
            ids.append(uuid.UUID(str(task_id)))
        except ValueError:
            continue  # not one of ours
    if not ids:
        return 0
    return OutboxMessage.objects.filter(
        task_id__in=ids, status__in=[OutboxStatus.PENDING, OutboxStatus.SENT]
    ).update(status=OutboxStatus.STARTED, started_at=timezone.now())
