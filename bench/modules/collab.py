"""Collaboration's pages in the benchmark (see bench/modules/__init__.py): the rep's home page,
the notification bell's count (asked by every open page every 30 s) and list, the calendar and
the feed, with 2,000 notifications for the rep (200 unread) among 50 per active user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

VACUUM = ("activities_notification", "activities_comment", "activities_follow")
NEVER_SEQ_SCAN = ("activities_notification",)
REP_NOTIFICATIONS = 2_000
REP_UNREAD = 200
PER_USER = 50


def prepare(rep: User) -> dict[str, Any]:
    """Notifications for the rep (and some for everyone else), unless they are there."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from accounts.models import User as UserModel
    from contacts.activities.models import Notification
    from contacts.models import Contact

    have = Notification.objects.filter(recipient=rep).count()
    if have >= REP_NOTIFICATIONS:
        return {"rep_notifications": have}
    contact = Contact.objects.filter(owner=rep).order_by("pk").first()
    if contact is None:
        return {}
    ct = ContentType.objects.get_for_model(Contact)
    now = timezone.now()

    def made(user_id: int, i: int, read: bool) -> Notification:
        return Notification(
            recipient_id=user_id,
            kind="comment",
            target_type=ct,
            target_id=contact.pk,
            text=f"Benchmark notification {i}",
            url=contact.get_absolute_url(),
            read_at=now if read else None,
        )

    rows = [made(rep.pk, i, i >= REP_UNREAD) for i in range(REP_NOTIFICATIONS - have)]
    others = UserModel.objects.filter(is_active=True).exclude(pk=rep.pk).values_list("pk")
    rows += [made(pk, i, i % 5 != 0) for (pk,) in others for i in range(PER_USER)]
    Notification.objects.bulk_create(rows, batch_size=5_000)
    return {"rep_notifications": REP_NOTIFICATIONS, "notifications_written": len(rows)}


def pages(rep: User) -> dict[str, str]:
    return {
        "home (my day)": "/activities/home/",
        "notification bell count": "/activities/notifications/count/",
        "notification list": "/activities/notifications/",
        "calendar, month": "/activities/calendar/",
        "feed of my records": "/activities/feed/",
    }
