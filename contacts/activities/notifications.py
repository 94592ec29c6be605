"""In-app notifications (the bell) and their emails.

Any module tells a user about a record with one call, inside its own transaction::

    from contacts.activities.notifications import notify
    notify(recipient=user, kind=NotificationKind.MENTION, target=deal, actor=request.user,
           text=format_lazy(_("{actor} mentioned you on {record}"), actor=..., record=...))

- Only users who may see the record are told (`may_see`: `accounts.access`, and for
  interactions and tasks the "through the record" rule of `selectors.visible_row`); a user is
  never told about their own action.
- The notification is written in the caller's transaction: a change that rolls back tells no one.
- The email goes after the commit through `crm.outbox` (task `activities.notification_email`):
  at least once, normally once (a claim with a lease, then `emailed_at`; a beat sweep re-queues
  a claim that ran out unsent; a duplicate keeps its Message-ID). See `notification_email_send`.
- The text is rendered in the recipient's language (pass a lazy string).
- A recipient who chose the daily digest (`NotificationEmailMode`) gets no email per
  notification: `contacts.activities.digests` sends one email a day with what waited.
- The recipient's preferences decide (`NotificationPreference`, one row per topic, page
  `/activities/notifications/settings/`): a topic off in the app and by email tells nothing; off
  in the app only writes the row already read with `in_app=False` (it carries the email and
  stays out of the bell and the list); off by email only queues no email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import OwnedModel
from contacts.activities.collab_models import (
    KIND_TOPIC,
    EmailMode,
    Notification,
    NotificationEmailMode,
    NotificationKind,
    NotificationPreference,
    PreferenceTopic,
    topic_default,
)
from crm import outbox
from crm.errors import DomainError, TransientError

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from accounts.models import User

EMAIL_TASK = "activities.notification_email"
# A claimed email not marked sent after this is taken to be lost (SMTP times out well before).
EMAIL_LEASE = dt.timedelta(minutes=10)
EMAIL_SWEEP_AGE = dt.timedelta(days=1)
# The bell shows "99+" past this: counting stops there (an index-only count of at most 100).
COUNT_CAP = 99
MENU_SIZE = 8
PAGE_SIZE = 30


# --- who may see a record --------------------------------------------------------------------


def may_see(user: User, obj: Model) -> bool:
    """Whether `user` may see the record `obj`: the permission layer's answer, and for
    interactions and tasks the activities rule (visible through their contact or company)."""
    from contacts.activities.models import Interaction, Task
    from contacts.activities.selectors import visible_row

    if not user.is_active:
        return False
    if isinstance(obj, Interaction | Task):
        return visible_row(user, obj)
    return access.can(user, obj, "view")


def commentable_model(label: str) -> type[Model] | None:
    """The model named by `label` ("contacts.contact") if records of it may carry comments and
    notifications: owned records (scoped by `accounts.access`), or rows scoped through one."""
    try:
        app_label, model_name = label.split(".", 1)
        ct = ContentType.objects.get_by_natural_key(app_label, model_name)
    except (ValueError, ContentType.DoesNotExist):
        return None
    model = ct.model_class()
    if model is None:
        return None
    if issubclass(model, OwnedModel) or getattr(model, "ACCESS_PARENT", None):
        return model
    return None


def record_url(obj: Model) -> str:
    """Where a link to `obj` goes: its page, or for an interaction or task its record's page."""
    getter = getattr(obj, "get_absolute_url", None)
    if getter is not None:
        return str(getter())
    for field in ("contact", "company"):
        linked = getattr(obj, field, None)
        if linked is not None and hasattr(linked, "get_absolute_url"):
            return str(linked.get_absolute_url())
    return reverse("activities:my-work")


# --- writing -----------------------------------------------------------------------------------


def notify(
    *,
    recipient: User,
    kind: str,
    target: Model,
    actor: User | None,
    text: _StrOrPromise,
    email: bool = True,
    url: str | None = None,
) -> Notification | None:
    """Tell `recipient` about `target`, in the caller's transaction (None when they are not
    told: they may not see the record, are inactive, are the actor, or turned the topic off).
    With `email` (and the recipient's preference), an email follows after the commit, or goes
    into their daily digest. `notify_many` for several recipients."""
    made = notify_many(
        recipients=[recipient],
        kind=kind,
        target=target,
        actor=actor,
        text=text,
        email=email,
        url=url,
    )
    return made.get(recipient.pk)


def notify_many(
    *,
    recipients: Iterable[User],
    kind: str,
    target: Model,
    actor: User | None,
    text: _StrOrPromise,
    email: bool = True,
    url: str | None = None,
) -> dict[int, Notification]:
    """`notify` for several recipients at once: their preferences are read in one query and
    the notifications written in one INSERT (plus one outbox row per immediate email). Returns
    the notifications made, by recipient id; each recipient is told once. `url` is where the
    notification leads (default: the target's page), e.g. a list of several records."""
    if kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    unique = {user.pk: user for user in recipients if actor is None or user.pk != actor.pk}
    if not unique:
        return {}
    choices = deliveries(user_ids=list(unique), topic=KIND_TOPIC[kind])
    target_type = ContentType.objects.get_for_model(target)
    url = (url or record_url(target))[:500]
    rows: list[Notification] = []
    immediate: set[int] = set()
    now = timezone.now()
    for user in unique.values():
        choice = choices.get(user.pk, DEFAULT_DELIVERY)
        by_email = email and choice.email and bool(user.email)
        if (not choice.in_app and not by_email) or not may_see(user, target):
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            rendered = str(text)
        rows.append(
            Notification(
                in_app=choice.in_app,
                read_at=None if choice.in_app else now,
                recipient=user,
                actor=actor,
                kind=kind,
                target_type=target_type,
                target_id=target.pk,
                text=rendered[:500],
                url=url,
                email_digest=by_email and choice.digest,
            )
        )
        if by_email and not choice.digest:
            immediate.add(user.pk)
    made = Notification.objects.bulk_create(rows)
    for notification in made:
        if notification.recipient_id in immediate:
            outbox.enqueue(EMAIL_TASK, {"notification_id": notification.pk})
    return {notification.recipient_id: notification for notification in made}


# --- preferences ----------------------------------------------------------------------------


class Delivery(NamedTuple):
    """How a user hears about one topic: in the app, by email, and email as a daily digest."""

    in_app: bool
    email: bool
    digest: bool


DEFAULT_DELIVERY = Delivery(True, True, False)


def deliveries(*, user_ids: list[int], topic: str) -> dict[int, Delivery]:
    """Each active user's `Delivery` for `topic` (defaults filled in), in one query whatever
    the number of users (the preference and the email mode are subqueries of the user row)."""
    from accounts.models import User as UserModel

    chosen = NotificationPreference.objects.filter(user=OuterRef("pk"), topic=topic)
    daily = NotificationEmailMode.objects.filter(user=OuterRef("pk"), mode=EmailMode.DAILY)
    rows = (
        UserModel.objects.filter(pk__in=user_ids)
        .annotate(
            chosen_app=Subquery(chosen.values("in_app")[:1]),
            chosen_email=Subquery(chosen.values("email")[:1]),
            daily=Exists(daily),
        )
        .values_list("pk", "chosen_app", "chosen_email", "daily")
    )
    default_app, default_email = topic_default(topic)
    return {
        pk: Delivery(
            default_app if in_app is None else in_app,
            default_email if by_email is None else by_email,
            is_daily,
        )
        for pk, in_app, by_email, is_daily in rows
    }


def email_mode(*, user: User) -> str:
    """The user's `EmailMode` (one email each by default). One query."""
    row = NotificationEmailMode.objects.filter(user=user).values_list("mode", flat=True).first()
    return row or EmailMode.EACH


def email_mode_set(*, user: User, mode: str) -> None:
    """Store the user's `EmailMode`; the default keeps no row. Notifications already waiting
    for a digest still go in the next one. Atomic."""
    if mode not in EmailMode.values:
        raise DomainError(_("Unknown email choice."))
    if mode == EmailMode.EACH:
        NotificationEmailMode.objects.filter(user=user).delete()
    else:
        NotificationEmailMode.objects.update_or_create(user=user, defaults={"mode": mode})


def preference(*, user: User, topic: str) -> tuple[bool, bool]:
    """(in the app, by email) for one of the user's topics; its default when never chosen.
    One query."""
    row = (
        NotificationPreference.objects.filter(user=user, topic=topic)
        .values_list("in_app", "email")
        .first()
    )
    return topic_default(topic) if row is None else (row[0], row[1])


def preferences(*, user: User) -> dict[str, tuple[bool, bool]]:
    """Every topic's (in the app, by email) for the user, defaults filled in. One query."""
    chosen = {
        topic: (in_app, email)
        for topic, in_app, email in NotificationPreference.objects.filter(user=user).values_list(
            "topic", "in_app", "email"
        )
    }
    return {topic: chosen.get(topic, topic_default(topic)) for topic in PreferenceTopic.values}


@transaction.atomic
def preferences_set(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    """Store the user's choices (topic -> (in the app, by email)); unknown topics are refused.
    A topic back at its default keeps no row. Atomic."""
    unknown = set(choices) - set(PreferenceTopic.values)
    if unknown:
        raise DomainError(_("Unknown notification topic."))
    for topic, (in_app, email) in choices.items():
        if (in_app, email) == topic_default(topic):
            NotificationPreference.objects.filter(user=user, topic=topic).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=user, topic=topic, defaults={"in_app": in_app, "email": email}
            )


# --- the email ---------------------------------------------------------------------------------


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification to its recipient, at least once and normally once: the row is
    claimed for EMAIL_LEASE (`email_claimed_at`, a conditional update) before sending and marked
    `emailed_at` after, so a redelivered task sends nothing. A worker that dies between the claim
    and the mark leaves the claim to run out; `notification_emails_stale` (the sweep) queues it
    again. It may then go twice if the first send had reached the server: both copies carry the
    same Message-ID, which mail stores and clients use to drop the duplicate. A refused send
    releases the claim and raises TransientError so the task retries. False when there is
    nothing to send."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id, emailed_at__isnull=True, email_digest=False)
        .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_LEASE))
        .update(email_claimed_at=now)
    )
    if claimed != 1:
        return False
    mine = Notification.objects.filter(pk=notification_id, email_claimed_at=now)
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    if (
        not recipient.is_active
        or not recipient.email
        or not preference(user=recipient, topic=KIND_TOPIC[notification.kind])[1]
    ):
        mine.update(email_claimed_at=None)  # nothing to send (now): not for the sweep either
        return False
    link = f"{settings.CRM_BASE_URL.rstrip('/')}{notification.url}" if notification.url else ""
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        subject = _("[CRM] %(text)s") % {"text": notification.text}
        body = notification.text + (f"\n\n{link}" if link else "")
        body += "\n\n" + _("You receive this because of your notifications in the CRM.")
    message = EmailMessage(
        subject=subject[:200].replace("\n", " "),
        body=body,
        to=[recipient.email],
        headers={"Message-ID": f"<notification-{notification.pk}@crm>"},
    )
    try:
        message.send()
    except OSError as exc:  # smtplib.SMTPException is an OSError: network or server refusal
        mine.update(email_claimed_at=None)
        raise TransientError(str(exc)) from exc
    mine.update(emailed_at=timezone.now())
    return True


def notification_emails_stale(*, limit: int = 500) -> list[int]:
    """Notifications claimed for email whose lease ran out unsent, claimed in the last
    EMAIL_SWEEP_AGE (older ones are left: a day-old note by email helps no one). One query
    (index notification_email_pending)."""
    now = timezone.now()
    rows = Notification.objects.filter(
        emailed_at__isnull=True,
        email_claimed_at__lt=now - EMAIL_LEASE,
        email_claimed_at__gte=now - EMAIL_SWEEP_AGE,
    )
    return list(rows.order_by("email_claimed_at").values_list("pk", flat=True)[:limit])


def notification_mark_read(*, user: User, pk: Any) -> Notification:
    """Mark one of the user's notifications read (idempotent); another user's is a 404."""
    from django.http import Http404

    try:
        notification = Notification.objects.get(pk=pk, recipient=user)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such record, or you do not have access to it.")) from exc
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many. One UPDATE."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- reading -----------------------------------------------------------------------------------


def unread_count(*, user: User) -> int:
    """The user's unread notifications, counted up to COUNT_CAP + 1. One index-only query
    (notification_unread)."""
    return (
        Notification.objects.filter(recipient=user, read_at__isnull=True)[: COUNT_CAP + 1]
        .values("pk")
        .count()
    )


def inbox(
    *, user: User, before: tuple[dt.datetime, int] | None = None, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The user's notifications newest first, `limit + 1` rows older than `before` (keyset on
    (created_at, id), index notification_inbox). One query."""
    qs: QuerySet[Notification] = Notification.objects.filter(
        recipient=user, in_app=True
    ).select_related("actor")
    if before is not None:
        at, pk = before
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    return list(qs.order_by("-created_at", "-id")[: limit + 1])
