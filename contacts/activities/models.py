"""Interactions (every call, email, meeting, message, visit or note with a customer) and tasks.

Both link to a contact and/or a company, and through a generic link (content type + object id) to
the records of later modules (leads, deals, tickets), so those modules need no column here.

Who sees them (contacts/activities/selectors.py): anyone who may see the linked contact or
company, as well as the owner/team rules of the row itself (its owner is who logged it, or the
task's assignee) and explicit shares. Who may change them: the owner/team rules of the row.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import OwnedModel
from contacts.models import Company, Contact

ACTIVE = Q(archived_at__isnull=True)


class Channel(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social message")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")


# Channels that are not a contact with the customer: they do not move "last contacted".
NOT_CONTACT = (Channel.NOTE,)


class Direction(models.TextChoices):
    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class Outcome(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    LEFT_MESSAGE = "left_message", _("Left a message")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    HELD = "held", _("Held")
    NO_SHOW = "no_show", _("No-show")
    RESCHEDULED = "rescheduled", _("Rescheduled")


# The outcomes offered per channel (as one-tap buttons on the quick-log form).
CALL_OUTCOMES = (
    Outcome.CONNECTED,
    Outcome.LEFT_MESSAGE,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.WRONG_NUMBER,
)
MEETING_OUTCOMES = (Outcome.HELD, Outcome.NO_SHOW, Outcome.RESCHEDULED)


class LinkedRecord(models.Model):
    """A contact and/or a company, and a generic link for the records of later modules."""

    # Not indexed alone: each model's indexes lead with these columns.
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    target_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")

    class Meta:
        abstract = True


class Interaction(OwnedModel, LinkedRecord):
    """One contact with a customer, or a note about them. The owner is who logged it."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(
        _("direction"),
        max_length=10,
        choices=Direction.choices,
        default=Direction.OUTBOUND,
        blank=True,
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("notes"), blank=True)
    occurred_at = models.DateTimeField(_("when"))
    duration = models.DurationField(_("duration"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # only the admin filters by it
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False)
                | Q(company__isnull=False)
                | Q(target_id__isnull=False),
                name="interaction_linked",
            ),
            models.CheckConstraint(
                condition=Q(target_type__isnull=True, target_id__isnull=True)
                | Q(target_type__isnull=False, target_id__isnull=False),
                name="interaction_target_whole",
            ),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=timedelta(0)),
                name="interaction_duration_positive",
            ),
        ]
        indexes = [
            # A record's interactions, newest first, keyset-paged by (occurred_at, id). Not
            # partial: they also serve archived rows and the cascade when a record is deleted.
            models.Index(
                fields=["contact", "-occurred_at", "-id"], name="interaction_contact_time"
            ),
            models.Index(fields=["company", "occurred_at", "id"], name="interaction_company_time"),
            models.Index(
                fields=["target_type", "target_id", "occurred_at", "id"],
                condition=Q(target_id__isnull=False),
                name="interaction_target_time",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d}"

    @property
    def duration_minutes(self) -> int | None:
        if self.duration is None:
            return None
        return int(self.duration.total_seconds() // 60)


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class Task(OwnedModel, LinkedRecord):
    """Something a user must do, by a time. The owner is the assignee: the sharing rules
    (own, team's, all) read "tasks assigned to me / my team"."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # task_owner_status_due leads with it
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # task_team_status_due leads with it
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The interaction logged when the task was completed ("called: left a message").
    outcome_interaction = models.OneToOneField(
        Interaction,
        verbose_name=_("logged interaction"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="completed_task",
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", completed_at__isnull=True)
                | Q(status="done", completed_at__isnull=False),
                name="task_done_has_time",
            ),
            models.CheckConstraint(
                condition=Q(target_type__isnull=True, target_id__isnull=True)
                | Q(target_type__isnull=False, target_id__isnull=False),
                name="task_target_whole",
            ),
        ]
        indexes = [
            # "My work": a user's (or a team's) open tasks by due time.
            models.Index(fields=["owner", "status", "due_at", "id"], name="task_owner_status_due"),
            models.Index(fields=["team", "status", "due_at", "id"], name="task_team_status_due"),
            # A record's tasks: its timeline (by creation, keyset) and its open tasks (few).
            models.Index(fields=["contact", "created_at", "id"], name="task_contact_created"),
            models.Index(fields=["company", "created_at", "id"], name="task_company_created"),
            models.Index(
                fields=["target_type", "target_id"],
                condition=Q(target_id__isnull=False),
                name="task_target",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN


# Direct foreign-key tables for django-guardian (see contacts/models.py): explicit shares.
class InteractionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Interaction, on_delete=models.CASCADE)


class InteractionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Interaction, on_delete=models.CASCADE)


class TaskUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Task, on_delete=models.CASCADE)


class TaskGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Task, on_delete=models.CASCADE)


# Collaboration's models (notifications, comments, follows, reminders) live in their own module.
from contacts.activities.collab_models import (  # noqa: E402
    Comment,
    Follow,
    Notification,
    NotificationDigest,
    NotificationEmailMode,
    NotificationKind,
    NotificationPreference,
    ReminderDelivery,
)

__all__ = [
    "Comment",
    "Follow",
    "Notification",
    "NotificationDigest",
    "NotificationEmailMode",
    "NotificationKind",
    "NotificationPreference",
    "ReminderDelivery",
]

# Email's models (headers, threads, delivery, attachments, templates) live in their own module.
from contacts.activities.mail.models import (  # noqa: E402
    MailAttachment,
    Mailbox,
    MailMessage,
    MailStatus,
    MailTemplate,
)

__all__ += ["MailAttachment", "MailMessage", "MailStatus", "MailTemplate", "Mailbox"]

# Meetings' invitations (attendees, deliveries) live in their own module.
from contacts.activities.meetings.models import (  # noqa: E402
    InvitationStatus,
    Meeting,
    MeetingAttendee,
    MeetingInvitation,
)

__all__ += ["InvitationStatus", "Meeting", "MeetingAttendee", "MeetingInvitation"]

# Tracking (email opens and clicks, page views, the switch) lives in its own module.
from contacts.activities.tracking.models import (  # noqa: E402
    EmailEvent,
    EmailEventKind,
    PageView,
    TrackingSettings,
)

__all__ += ["EmailEvent", "EmailEventKind", "PageView", "TrackingSettings"]
