"""Collaboration: notifications, comments with @mentions, follows, and reminder deliveries.

Imported by `contacts/activities/models.py`, so Django registers these models under the
`activities` app. Each links to any record through a generic link (`target_type`, `target_id`);
who may see the record decides who may be told about it (`contacts.activities.notifications`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import FastChoiceDisplay, TimeStampedModel


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    COMMENT = "comment", _("Comment")
    REMINDER = "reminder", _("Reminder")
    ASSIGNED = "assigned", _("Assignment")
    CHANGE = "change", _("Change")
    MAIL = "mail", _("Email received")


class PreferenceTopic(models.TextChoices):
    """What a user chooses to hear about (one topic covers one or more notification kinds)."""

    MENTION = "mention", _("Mentions of me")
    ASSIGNMENT = "assignment", _("Tasks assigned to me")
    REMINDER = "reminder", _("Reminders of my tasks")
    FOLLOW = "follow", _("Comments and changes on records I own or follow")
    MAIL = "mail", _("Email received from my contacts")


# Which topic decides each kind of notification.
KIND_TOPIC: dict[str, str] = {
    NotificationKind.MENTION: PreferenceTopic.MENTION,
    NotificationKind.ASSIGNED: PreferenceTopic.ASSIGNMENT,
    NotificationKind.REMINDER: PreferenceTopic.REMINDER,
    NotificationKind.COMMENT: PreferenceTopic.FOLLOW,
    NotificationKind.CHANGE: PreferenceTopic.FOLLOW,
    NotificationKind.MAIL: PreferenceTopic.MAIL,
}


# (in the app, by email) for a topic the user never chose: everything, but received mail only in
# the app (every customer email would otherwise become a second email).
TOPIC_DEFAULTS: dict[str, tuple[bool, bool]] = {PreferenceTopic.MAIL: (True, False)}


def topic_default(topic: str) -> tuple[bool, bool]:
    return TOPIC_DEFAULTS.get(topic, (True, True))


class EmailMode(models.TextChoices):
    """How a user's notification emails go: one per notification, or one digest a day."""

    EACH = "each", _("One email per notification")
    DAILY = "daily", _("One digest a day")


class NotificationEmailMode(models.Model):
    """A user's choice of `EmailMode`; no row means one email per notification."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    mode = models.CharField(_("email"), max_length=8, choices=EmailMode.choices)

    class Meta:
        verbose_name = _("notification email mode")
        verbose_name_plural = _("notification email modes")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.mode}"


class NotificationDigest(models.Model):
    """One day's digest email for one user: written, with its notifications attached
    (`Notification.digest`), before anything is sent, so a digest is sent at least once and a
    second beat run (unique user and day) or a redelivered task makes no second one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField(_("day"))  # in the user's time zone
    created_at = models.DateTimeField(auto_now_add=True)
    # Claimed (a lease) by the task that sends it, then `sent_at`: as for single emails.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification digest")
        verbose_name_plural = _("notification digests")
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="notificationdigest_once_a_day"),
        ]
        indexes = [
            # The sweep: digests not sent yet (a handful at any time).
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True),
                name="notificationdigest_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"digest of {self.user_id} for {self.day}"


class NotificationPreference(models.Model):
    """A user's choice for one topic: in the app (the bell) and/or by email. No row means both
    (the default); `notifications.notify` reads one row per call."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    topic = models.CharField(_("topic"), max_length=12, choices=PreferenceTopic.choices)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by email"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="notificationpreference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.topic}: app={self.in_app} email={self.email}"


class Notification(FastChoiceDisplay):
    """Something a user should know about a record. Its text and link are written when it is
    made, so the bell and the list read one table (no per-kind lookups)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the indexes below lead with it
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=NotificationKind.choices)
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # False when the recipient turned this topic off in the app but wants its email: the row
    # (created read) carries the email and stays out of the bell and the list.
    in_app = models.BooleanField(default=True)
    # The email task claims the row (`email_claimed_at`, a lease) before sending and sets
    # `emailed_at` after: a redelivered task sends nothing; a claim whose lease ran out unsent (the
    # worker died) is sent again by the sweep, with the same Message-ID.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    # True when the recipient chose the daily digest: no email of its own, the day's digest
    # (`digest`, set when that digest is written) carries it.
    email_digest = models.BooleanField(default=False)
    digest = models.ForeignKey(
        NotificationDigest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # A user's notifications, newest first (the page and the dropdown).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            # The bell: a user's unread count is an index-only count over a small partial index.
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            # The sweep: claimed, not sent (a handful of rows at any time).
            models.Index(
                fields=["email_claimed_at"],
                condition=Q(emailed_at__isnull=True, email_claimed_at__isnull=False),
                name="notification_email_pending",
            ),
            # The digest beat: notifications waiting for their recipient's next digest.
            models.Index(
                fields=["recipient"],
                condition=Q(email_digest=True, digest__isnull=True, emailed_at__isnull=True),
                name="notification_digest_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Comment(TimeStampedModel):
    """A colleague's note on any record; `@[Name](id)` in the body mentions a user."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    body = models.TextField(_("comment"), max_length=10_000)
    # The users the body mentions who were told (they may see the record), by id.
    mentioned = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mentioned"), related_name="+", blank=True
    )

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [
            # A record's comments, newest first, keyset-paged by (created_at, id) (the timeline).
            models.Index(
                fields=["target_type", "target_id", "-created_at", "-id"], name="comment_target"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:80]


class Follow(models.Model):
    """A user follows a record: its changes appear in their feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "target_type", "target_id"], name="follow_once"
            ),
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="follow_target")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.target_type_id}:{self.target_id}"


class ReminderDelivery(models.Model):
    """One reminder of one task for one due time: the claim row. Its unique constraint makes a
    second beat run (or a redelivered task) insert nothing, so each reminder goes once; a task
    moved to a new due time gets a new reminder."""

    task = models.ForeignKey("activities.Task", on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(auto_now_add=True)
    # Set when the notification (and the email's outbox row) were written, in the claim's
    # transaction: a worker that dies before the commit leaves neither.
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "due_at"], name="reminder_once_per_due_time"),
        ]

    def __str__(self) -> str:
        return f"reminder of task {self.task_id} due {self.due_at:%Y-%m-%d %H:%M}"
