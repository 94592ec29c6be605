"""Task reminders: at the due time, once each, even if beat runs late, twice or at once, or a
worker dies mid-send (a real process killed inside the claim), proven with a real Celery worker
and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from contacts.activities import notifications, reminders
from contacts.activities.models import Notification, ReminderDelivery, Task
from crm.celery import app as celery_app
from crm.models import OutboxMessage
from tests.activities.factories import make_task
from tests.support.test_services import Inbox, smtp  # noqa: F401  (the real SMTP fixture)

MINUTE = dt.timedelta(minutes=1)


def _due(task: Task, when: dt.datetime) -> Task:
    Task.objects.filter(pk=task.pk).update(due_at=when)
    task.refresh_from_db()
    return task


@pytest.fixture
def task(rep, own_contact) -> Task:
    made = make_task(rep, title="Send the quote", contact=own_contact)
    return _due(made, timezone.now() - MINUTE)


def _emails_queued() -> int:
    return OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).count()


@pytest.mark.django_db
def test_a_due_task_reminds_its_assignee_once(rep, task, own_contact):
    assert reminders.reminders_due() == 1
    told = Notification.objects.get()
    assert (told.recipient, told.kind, told.target) == (rep, "reminder", task)
    assert "Send the quote" in told.text
    assert str(own_contact) in told.text
    assert ReminderDelivery.objects.get().notification == told
    assert _emails_queued() == 1
    # Beat again, and again: nothing more.
    assert reminders.reminders_due() == 0
    assert reminders.reminders_due(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert Notification.objects.count() == 1
    assert _emails_queued() == 1


@pytest.mark.django_db
def test_the_time_is_the_assignees_wall_clock(rep, task):
    rep.time_zone = "Asia/Shanghai"
    rep.save(update_fields=["time_zone"])
    due = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
    _due(task, due)
    assert reminders.reminders_due(now=due + MINUTE) == 1
    assert "09:30" in Notification.objects.get().text


@pytest.mark.django_db
def test_a_late_beat_sends_what_came_due_but_not_what_is_too_old(rep, own_contact):
    now = timezone.now()
    late = make_task(rep, title="Three hours ago", contact=own_contact)
    _due(late, now - dt.timedelta(hours=3))
    stale = make_task(rep, title="Two days ago", contact=own_contact)
    _due(stale, now - dt.timedelta(days=2))
    assert reminders.reminders_due(now=now) == 1
    assert Notification.objects.get().target == late


@pytest.mark.django_db
def test_future_done_and_undated_tasks_are_not_reminded(rep, own_contact, task):
    from contacts.activities import services

    future = make_task(rep, title="Later", contact=own_contact)
    _due(future, timezone.now() + dt.timedelta(hours=1))
    make_task(rep, title="No date", contact=own_contact)
    services.task_complete(task=task, actor=rep)
    assert reminders.reminders_due() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_rescheduled_task_is_reminded_again_at_its_new_time(rep, task):
    assert reminders.reminders_due() == 1
    _due(task, timezone.now() + dt.timedelta(minutes=30))
    assert reminders.reminders_due() == 0
    assert reminders.reminders_due(now=timezone.now() + dt.timedelta(minutes=31)) == 1
    assert Notification.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(rep, own_contact):
    from django.db import connections

    for i in range(5):
        _due(make_task(rep, title=f"Task {i}", contact=own_contact), timezone.now() - MINUTE)
    results: list[int] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait()
            results.append(reminders.reminders_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(results) == 5
    assert Notification.objects.count() == 5
    assert ReminderDelivery.objects.count() == 5
    assert _emails_queued() == 5


# --- a real worker, a real SMTP server, a real process killed mid-send ------------------------


def _kill_mid_send(task_id: int) -> subprocess.CompletedProcess[str]:
    """Run `reminder_send` in another process that dies (os._exit) right after its claim,
    before its transaction commits: as a worker killed mid-send."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
    }
    env.pop("TEST_DATABASE_NAME", None)
    script = (
        "import os, django; django.setup();"
        "from django.utils import timezone;"
        "from contacts.activities import reminders;"
        f"reminders.reminder_send(task_id={task_id}, now=timezone.now(),"
        " after_claim=lambda: os._exit(3))"
    )
    return subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", script],
        env=env,
        cwd=str(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reminders_go_once_through_a_real_worker_despite_a_killed_one(
    rep,
    own_contact,
    smtp,  # noqa: F811
    live_worker,
):
    from contacts.activities.collab_tasks import task_reminders

    assert celery_app.conf.beat_schedule["activities-task-reminders"]["schedule"] == 60.0
    task = make_task(rep, title="Renew the contract", contact=own_contact)
    _due(task, timezone.now() - dt.timedelta(minutes=5))  # beat is late

    died = _kill_mid_send(task.pk)
    assert died.returncode == 3, died.stderr[-2000:]
    assert not ReminderDelivery.objects.exists()  # the claim died with its transaction
    assert not Notification.objects.exists()

    # Beat twice at once after the death: one reminder, one email.
    results = [task_reminders.delay(), task_reminders.delay()]
    assert sorted(r.get(timeout=30) for r in results) == [0, 1]
    deadline = time.monotonic() + 20
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == rep.email
    assert "Renew the contract" in mail["Subject"]
    # And once more, later: nothing more.
    assert task_reminders.delay().get(timeout=30) == 0
    time.sleep(1)
    assert len(smtp.messages) == 1
    assert Notification.objects.filter(kind="reminder").count() == 1
    assert ReminderDelivery.objects.count() == 1


@pytest.mark.django_db
def test_the_beat_query_reads_the_open_due_index_not_the_table(rep, own_contact):
    now = timezone.now()
    Task.objects.bulk_create(
        [
            Task(
                title=f"t{i}",
                owner=rep,
                team=rep.team,
                created_by=rep,
                due_at=now + dt.timedelta(minutes=i - 100),
                status="open" if i % 10 == 0 else "done",
                completed_at=None if i % 10 == 0 else now,
            )
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_task")
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        reminders.reminders_due(now=now)
    first = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {first}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "task_open_due" in plan, plan
    assert "Seq Scan on activities_task" not in plan, plan
