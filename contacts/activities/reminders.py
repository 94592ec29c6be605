"""Task reminders: at a task's due time its assignee gets a notification and an email, once.

`reminders_due()` runs from beat every minute (`activities.task_reminders`, declared in
`collab.ready()`). Each reminder is claimed by inserting its `ReminderDelivery` row (unique per
task and due time, `INSERT … ON CONFLICT DO NOTHING`) in the same transaction as the
notification and its email's outbox row, with the task's row locked. So:

- a late beat still sends what came due while it was away (up to `WINDOW` back);
- two runs at once, or one run twice, send each reminder once (the second insert finds the row);
- a worker that dies mid-send leaves no claim (its transaction never commits), and the next run
  sends it; the email task then claims the notification before sending (at most one email);
- a task moved to a new due time is reminded again at the new time; a done task is not.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts.activities.collab_models import NotificationKind, ReminderDelivery
from contacts.activities.models import Task, TaskStatus
from contacts.activities.notifications import notify

# Reminders that came due longer ago than this are not sent any more (the beat was down).
WINDOW = dt.timedelta(hours=24)
BATCH = 500


def reminders_due(*, now: dt.datetime | None = None) -> int:
    """Send the reminders of open tasks due by `now` (and not longer than WINDOW ago) that were
    not sent yet; returns how many this run sent. Safe late, twice and concurrently."""
    now = now or timezone.now()
    sent_already = ReminderDelivery.objects.filter(task=OuterRef("pk"), due_at=OuterRef("due_at"))
    due = (
        Task.objects.filter(status=TaskStatus.OPEN, due_at__lte=now, due_at__gt=now - WINDOW)
        .exclude(Exists(sent_already))
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    return sum(reminder_send(task_id=pk, now=now) for pk in list(due))


def reminder_send(
    *, task_id: int, now: dt.datetime, after_claim: Callable[[], None] | None = None
) -> bool:
    """Remind the task's assignee once for its current due time (atomic: the claim, the
    notification and its email's outbox row). False when it is not due, done, or was sent.
    `after_claim` runs inside the transaction right after the claim (tests stop a process there)."""
    with transaction.atomic():
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("owner", "contact", "company")
            .filter(pk=task_id, status=TaskStatus.OPEN, due_at__lte=now)
            .first()
        )
        if task is None or task.due_at is None:
            return False
        table = ReminderDelivery._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (task_id, due_at, claimed_at) VALUES (%s, %s, now()) "  # noqa: S608  (our table name)
                "ON CONFLICT (task_id, due_at) DO NOTHING RETURNING id",
                [task.pk, task.due_at],
            )
            claimed = cursor.fetchone()
        if claimed is None:
            return False
        if after_claim is not None:
            after_claim()
        owner = task.owner
        local = timezone.localtime(task.due_at, zoneinfo.ZoneInfo(owner.time_zone or "UTC"))
        record = task.contact or task.company
        text = (
            format_lazy(
                _("Task due {when}: {title} ({record})"),
                when=formats.date_format(local, "H:i"),
                title=task.title,
                record=str(record),
            )
            if record is not None
            else format_lazy(
                _("Task due {when}: {title}"),
                when=formats.date_format(local, "H:i"),
                title=task.title,
            )
        )
        notification = notify(
            recipient=owner, kind=NotificationKind.REMINDER, target=task, actor=None, text=text
        )
        ReminderDelivery.objects.filter(pk=claimed[0]).update(notification=notification)
    return True
