"""The daily digest: users who chose it get one email a day with their notifications, sent
through a real SMTP server (aiosmtpd); the digest is written in PostgreSQL (unique per user and
day) before it is sent, so late or double beat runs, redelivered tasks and a dead worker send it
once (at least once, with one Message-ID)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.activities import digests, notifications
from contacts.activities.models import Notification, NotificationDigest, NotificationKind
from crm.celery import app as celery_app
from crm.errors import TransientError
from crm.models import OutboxMessage
from tests.activities.mail_smtp import free_port, running_smtp
from tests.conftest import login

pytestmark = pytest.mark.django_db

SHANGHAI = "Asia/Shanghai"
# 09:00 in Shanghai on 2026-03-02 (01:00 UTC), 05:00 the same day (before the digest hour).
MORNING = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
EARLY = dt.datetime(2026, 3, 1, 21, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp(settings):
    with running_smtp(settings) as (inbox, _port):
        yield inbox


@pytest.fixture
def reader(rep_teammate, settings):
    settings.CRM_NOTIFICATION_DIGEST_HOUR = 7
    rep_teammate.time_zone = SHANGHAI
    rep_teammate.save(update_fields=["time_zone"])
    notifications.email_mode_set(user=rep_teammate, mode="daily")
    return rep_teammate


def _tell(recipient, target, actor, text: str, kind: str = NotificationKind.MENTION):
    made = notifications.notify(
        recipient=recipient, kind=kind, target=target, actor=actor, text=text
    )
    assert made is not None
    return made


def _digest_rows() -> list[dict]:
    return [m.kwargs for m in OutboxMessage.objects.filter(task_name=digests.DIGEST_TASK)]


def test_one_digest_a_day_through_smtp_and_never_twice(rep, reader, own_contact, smtp):
    first = _tell(reader, own_contact, rep, "Rep mentioned you on Ann")
    second = _tell(reader, own_contact, rep, "Rep mentioned you again")
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()

    queued = digests.digests_due(now=MORNING)
    assert len(queued) == 1
    digest = NotificationDigest.objects.get()
    assert (digest.user, digest.day) == (reader, dt.date(2026, 3, 2))  # the reader's local day
    assert _digest_rows() == [{"digest_id": digest.pk}]
    assert set(digest.notifications.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert digests.digests_due(now=MORNING) == []  # beat again (or late): nothing new

    assert digests.digest_send(digest_id=digest.pk) is True
    assert digests.digest_send(digest_id=digest.pk) is False  # a redelivered task
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == reader.email
    assert mail["Message-ID"] == f"<digest-{digest.pk}@crm>"
    assert "2 notifications" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "Rep mentioned you on Ann" in body
    assert "Rep mentioned you again" in body
    assert f"/contacts/{own_contact.pk}/" in body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0

    # Later the same day: it waits for tomorrow's digest.
    later = _tell(reader, own_contact, rep, "One more")
    assert digests.digests_due(now=MORNING + dt.timedelta(hours=5)) == []
    queued = digests.digests_due(now=MORNING + dt.timedelta(days=1))
    assert len(queued) == 1
    assert digests.digest_send(digest_id=queued[0]) is True
    assert len(smtp.messages) == 2
    assert "1 notification on" in smtp.messages[1]["Subject"]
    later.refresh_from_db()
    assert later.emailed_at is not None


def test_nothing_is_written_before_the_readers_digest_hour(rep, reader, own_contact):
    _tell(reader, own_contact, rep, "Too early")
    assert digests.digests_due(now=EARLY) == []  # 05:00 in Shanghai
    assert not NotificationDigest.objects.exists()


def test_users_with_one_email_each_get_no_digest(rep, rep_teammate, own_contact):
    _tell(rep_teammate, own_contact, rep, "Straight away")
    assert digests.digests_due(now=MORNING) == []
    assert OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).count() == 1


def test_a_worker_dying_after_the_claim_sends_again_with_the_same_message_id(
    rep, reader, own_contact, smtp
):
    _tell(reader, own_contact, rep, "Look")
    [digest_id] = digests.digests_due(now=MORNING)
    died_at = timezone.now() - notifications.EMAIL_LEASE - dt.timedelta(seconds=1)
    NotificationDigest.objects.filter(pk=digest_id).update(claimed_at=died_at, created_at=died_at)
    assert digests.digest_send(digest_id=digest_id) is True  # the lease ran out: taken again
    # A claim still in its lease is not taken, and the sweep leaves a sent digest alone.
    assert digests.digest_send(digest_id=digest_id) is False
    assert digests.digests_due(now=timezone.now()) == []
    assert [m["Message-ID"] for m in smtp.messages] == [f"<digest-{digest_id}@crm>"]


def test_a_lost_task_is_queued_again_by_the_sweep(rep, reader, own_contact):
    _tell(reader, own_contact, rep, "Look")
    [digest_id] = digests.digests_due(now=MORNING)
    old = timezone.now() - digests.UNSENT_GRACE - dt.timedelta(seconds=1)
    NotificationDigest.objects.filter(pk=digest_id).update(created_at=old)
    assert digests.digests_due(now=timezone.now()) == [digest_id]
    assert _digest_rows() == [{"digest_id": digest_id}] * 2


def test_a_refused_send_releases_the_claim_for_a_retry(rep, reader, own_contact, settings):
    _tell(reader, own_contact, rep, "Look")
    [digest_id] = digests.digests_due(now=MORNING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    with pytest.raises(TransientError):
        digests.digest_send(digest_id=digest_id)
    digest = NotificationDigest.objects.get(pk=digest_id)
    assert digest.claimed_at is None
    assert digest.sent_at is None
    with running_smtp(settings) as (inbox, _port):
        assert digests.digest_send(digest_id=digest_id) is True
    assert len(inbox.messages) == 1


def test_a_topic_turned_off_by_email_since_is_left_out(rep, reader, own_contact, smtp):
    _tell(reader, own_contact, rep, "A mention")
    _tell(reader, own_contact, rep, "Rep assigned you a task", kind=NotificationKind.ASSIGNED)
    notifications.preferences_set(user=reader, choices={"mention": (True, False)})
    [digest_id] = digests.digests_due(now=MORNING)
    assert digests.digest_send(digest_id=digest_id) is True
    body = smtp.messages[0].get_payload(decode=True).decode()
    assert "Rep assigned you a task" in body
    assert "A mention" not in body


def test_the_settings_page_offers_the_digest(client, rep, django_assert_max_num_queries):
    login(client, rep)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("activities:notification-settings"))
    assert 'value="each"' in page.content.decode()
    post = {f"{t}_app": "on" for t in ("mention", "assignment", "reminder", "follow", "mail")}
    refused = client.post(reverse("activities:notification-settings"), {**post, "email_mode": "x"})
    assert refused.status_code == 422
    assert notifications.email_mode(user=rep) == "each"
    saved = client.post(
        reverse("activities:notification-settings"), {**post, "email_mode": "daily"}
    )
    assert saved.status_code == 302
    assert notifications.email_mode(user=rep) == "daily"
    again = client.get(reverse("activities:notification-settings")).content.decode()
    assert 'value="daily" class="form-check-input" id="id_email_mode_1" checked' in again


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sends_the_digest_through_a_real_worker_once(
    rep, rep_teammate, own_contact, smtp, settings, live_worker
):
    from contacts.activities.collab_tasks import notification_digests

    assert celery_app.conf.beat_schedule["activities-notification-digests"]["schedule"] == 900.0
    settings.CRM_NOTIFICATION_DIGEST_HOUR = 0  # whatever the hour the test runs at
    notifications.email_mode_set(user=rep_teammate, mode="daily")
    _tell(rep_teammate, own_contact, rep, "First")
    _tell(rep_teammate, own_contact, rep, "Second")
    # Beat twice at once, then late: one digest, one email.
    results = [notification_digests.delay(), notification_digests.delay()]
    assert sorted(r.get(timeout=30) for r in results) == [0, 1]
    deadline = time.monotonic() + 20
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert notification_digests.delay().get(timeout=30) == 0
    time.sleep(0.5)
    assert len(smtp.messages) == 1
    assert "2 notifications" in smtp.messages[0]["Subject"]
    assert NotificationDigest.objects.get().sent_at is not None
