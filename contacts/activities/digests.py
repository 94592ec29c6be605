"""The daily digest of notification emails, for users who chose it (`EmailMode.DAILY`).

`notify` marks such a user's notifications `email_digest` and queues no email. A beat task
(`activities.notification_digests`, every 15 minutes) runs `digests_due`: for each user with
notifications waiting whose local time is past `CRM_NOTIFICATION_DIGEST_HOUR`, it writes the
day's `NotificationDigest` (unique per user and local day) and attaches what waited to it, and
queues its email through the outbox, all in one transaction. Only then does
`digest_send` claim the digest (a lease), send one email through the configured backend (SMTP)
and mark the digest and its notifications sent.

- One digest per user per day: a late, double or concurrent beat run finds the day's row and
  writes nothing; notifications made after it wait for the next day's.
- At least once: a committed digest is sent by its task, by the outbox relay if the broker was
  down, or again by `digests_due`'s sweep if its worker died holding the claim.
- Without duplicates: a sent digest is never sent again; only a worker dying between the SMTP
  server's acceptance and the mark sends it twice, with the same Message-ID (mail clients drop
  the second).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.activities.collab_models import KIND_TOPIC, Notification, NotificationDigest
from contacts.activities.notifications import EMAIL_LEASE, preferences
from crm import outbox
from crm.errors import TransientError

if TYPE_CHECKING:
    from accounts.models import User

DIGEST_TASK = "activities.notification_digest_email"
# A digest written but not claimed this long after (its task was lost) is queued again.
UNSENT_GRACE = dt.timedelta(minutes=15)
# At most this many notifications in one email (the oldest first); more wait for the next day.
MAX_ITEMS = 200


def _zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _waiting() -> Q:
    return Q(email_digest=True, digest__isnull=True, emailed_at__isnull=True)


def digests_due(*, now: dt.datetime | None = None) -> list[int]:
    """Write today's digest for every user due one, and queue its email (the outbox row is in
    the digest's transaction); queue again digests written earlier and left unsent. Returns the
    ids queued. Safe to run late, twice or at the same time (unique user and day). Beat only."""
    from accounts.models import User as UserModel

    now = now or timezone.now()
    hour = settings.CRM_NOTIFICATION_DIGEST_HOUR
    waiting = Notification.objects.filter(_waiting()).values("recipient_id").distinct()
    users = UserModel.objects.filter(pk__in=waiting).only("pk", "time_zone")
    queued: list[int] = []
    for user in users:
        local = now.astimezone(_zone(user))
        if local.hour < hour:
            continue
        digest = _digest_write(user=user, day=local.date())
        if digest is not None:
            queued.append(digest.pk)
    queued += _digests_stale(now=now)
    return queued


def _digest_write(*, user: User, day: dt.date) -> NotificationDigest | None:
    """The user's digest for `day` with what waited attached, and its email queued; None when
    that day's digest exists already (written by another run) or nothing waits. Atomic."""
    try:
        with transaction.atomic():
            digest = NotificationDigest.objects.create(user=user, day=day)
            waiting = Notification.objects.filter(_waiting(), recipient=user)
            first = waiting.order_by("created_at", "id").values("pk")[:MAX_ITEMS]
            attached = Notification.objects.filter(pk__in=first).update(digest=digest)
            if attached == 0:
                # The waiting notifications went in a concurrent run's digest.
                transaction.set_rollback(True)
                return None
            outbox.enqueue(DIGEST_TASK, {"digest_id": digest.pk})
    except IntegrityError:
        return None  # today's digest exists: the rest waits for tomorrow's
    return digest


def _digests_stale(*, now: dt.datetime) -> list[int]:
    """Queue again the unsent digests whose task was lost or whose claim ran out (the worker
    died). One query, plus one outbox row each (index notificationdigest_unsent)."""
    stale = list(
        NotificationDigest.objects.filter(sent_at__isnull=True, created_at__lt=now - UNSENT_GRACE)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_LEASE))
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        outbox.enqueue(DIGEST_TASK, {"digest_id": pk})
    return stale


def digest_send(*, digest_id: int) -> bool:
    """Send one digest email, at least once and normally once: claimed for EMAIL_LEASE before
    the send and marked `sent_at` after (with `emailed_at` on its notifications), so a
    redelivered task sends nothing. Notifications whose topic the user has since turned off by
    email are left out. A refused send releases the claim and raises TransientError (the task
    retries). False when there was nothing to send. Called by the task only."""
    now = timezone.now()
    claimed = (
        NotificationDigest.objects.filter(pk=digest_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_LEASE))
        .update(claimed_at=now)
    )
    if claimed != 1:
        return False
    mine = NotificationDigest.objects.filter(pk=digest_id, claimed_at=now)
    digest = NotificationDigest.objects.select_related("user").get(pk=digest_id)
    user = digest.user
    chosen = preferences(user=user)
    items = [
        n
        for n in Notification.objects.filter(digest=digest).order_by("created_at", "id")
        if chosen[KIND_TOPIC[n.kind]][1]
    ]
    if not user.is_active or not user.email or not items:
        mine.update(sent_at=timezone.now())  # nothing to send, now or later
        return False
    message = _digest_message(digest, user, items)
    try:
        message.send()
    except OSError as exc:  # smtplib.SMTPException is an OSError: network or server refusal
        mine.update(claimed_at=None)
        raise TransientError(str(exc)) from exc
    sent_at = timezone.now()
    with transaction.atomic():
        mine.update(sent_at=sent_at)
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=sent_at)
    return True


def _digest_message(
    digest: NotificationDigest, user: User, items: list[Notification]
) -> EmailMessage:
    base = settings.CRM_BASE_URL.rstrip("/")
    with translation.override(user.language or settings.LANGUAGE_CODE):
        day = formats.date_format(digest.day, "DATE_FORMAT")
        subject = ngettext(
            "[CRM] %(count)d notification on %(day)s",
            "[CRM] %(count)d notifications on %(day)s",
            len(items),
        ) % {"count": len(items), "day": day}
        zone = _zone(user)
        lines = []
        for n in items:
            when = timezone.localtime(n.created_at, zone)
            lines.append(f"- {when:%H:%M} {n.text}")
            if n.url:
                lines.append(f"  {base}{n.url}")
        body = "\n".join(lines)
        body += "\n\n" + _(
            "You receive one email a day because you chose the daily digest in your "
            "notification settings in the CRM."
        )
    return EmailMessage(
        subject=subject[:200],
        body=body,
        to=[user.email],
        headers={"Message-ID": f"<digest-{digest.pk}@crm>"},
    )
