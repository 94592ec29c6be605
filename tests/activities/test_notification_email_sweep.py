"""Notification email at least once: a worker that dies between the claim and the SMTP send
leaves a claim whose lease runs out; the sweep queues it again and it goes with the same
Message-ID; a sent one, a fresh claim or an old one is left alone; a redelivery sends nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contacts.activities import collab_tasks, notifications
from contacts.activities.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def _note(rep, rep_teammate, own_contact) -> Notification:
    made = notifications.notify(
        recipient=rep_teammate,
        kind=NotificationKind.MENTION,
        target=own_contact,
        actor=rep,
        text="Look",
    )
    assert made is not None
    return made


def test_sent_once_then_a_redelivery_sends_nothing(rep, rep_teammate, own_contact, mailoutbox):
    note = _note(rep, rep_teammate, own_contact)
    assert notifications.notification_email_send(notification_id=note.pk) is True
    assert notifications.notification_email_send(notification_id=note.pk) is False
    assert len(mailoutbox) == 1
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert notifications.notification_emails_stale() == []


def test_a_worker_dying_after_the_claim_is_swept_and_sent_again(
    rep, rep_teammate, own_contact, mailoutbox, django_assert_num_queries
):
    note = _note(rep, rep_teammate, own_contact)
    died_at = timezone.now() - notifications.EMAIL_LEASE - dt.timedelta(seconds=1)
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=died_at)  # claimed, no send
    with django_assert_num_queries(1):
        stale = notifications.notification_emails_stale()
    assert stale == [note.pk]
    assert notifications.notification_email_send(notification_id=note.pk) is True
    assert notifications.notification_email_send(notification_id=note.pk) is False
    assert [m.extra_headers["Message-ID"] for m in mailoutbox] == [f"<notification-{note.pk}@crm>"]
    assert notifications.notification_emails_stale() == []


def test_a_claim_still_in_its_lease_is_not_taken_again(rep, rep_teammate, own_contact, mailoutbox):
    note = _note(rep, rep_teammate, own_contact)
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=timezone.now())
    assert notifications.notification_emails_stale() == []
    assert notifications.notification_email_send(notification_id=note.pk) is False
    assert mailoutbox == []


def test_a_day_old_lost_claim_is_left(rep, rep_teammate, own_contact):
    note = _note(rep, rep_teammate, own_contact)
    old = timezone.now() - notifications.EMAIL_SWEEP_AGE - dt.timedelta(minutes=1)
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=old)
    assert notifications.notification_emails_stale() == []


def test_the_sweep_task_queues_the_stale_ones(rep, rep_teammate, own_contact, monkeypatch):
    note = _note(rep, rep_teammate, own_contact)
    died_at = timezone.now() - notifications.EMAIL_LEASE - dt.timedelta(minutes=1)
    Notification.objects.filter(pk=note.pk).update(email_claimed_at=died_at)
    queued: list[int] = []
    monkeypatch.setattr(
        collab_tasks.notification_email, "delay", lambda **kw: queued.append(kw["notification_id"])
    )
    assert collab_tasks.notification_email_sweep() == 1
    assert queued == [note.pk]


def test_a_refused_send_releases_the_claim(rep, rep_teammate, own_contact, settings):
    from crm.errors import TransientError
    from tests.activities.mail_smtp import free_port

    note = _note(rep, rep_teammate, own_contact)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(TransientError):
        notifications.notification_email_send(notification_id=note.pk)
    note.refresh_from_db()
    assert (note.email_claimed_at, note.emailed_at) == (None, None)
