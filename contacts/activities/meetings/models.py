"""Meetings with invitations (contacts/activities/meetings/): the calendar side of a meeting
interaction, its attendees, and one delivery row per invitation sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.activities.models import Interaction
from contacts.models import Contact


class Meeting(models.Model):
    """A planned meeting: its interaction (channel "meeting", when = start, duration) carries the
    title, notes and links; this row carries what the invitations need. `uid` never changes;
    `sequence` grows with every update or cancellation sent (RFC 5545)."""

    interaction = models.OneToOneField(
        Interaction, verbose_name=_("interaction"), on_delete=models.CASCADE, related_name="meeting"
    )
    uid = models.CharField(max_length=255, unique=True)
    sequence = models.PositiveIntegerField(default=0)
    location = models.CharField(_("location"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")

    def __str__(self) -> str:
        return self.uid


class AttendeeResponse(models.TextChoices):
    """An attendee's answer (iCalendar PARTSTAT, RFC 5545 3.2.12), from their REPLY."""

    NEEDS_ACTION = "NEEDS-ACTION", _("No answer yet")
    ACCEPTED = "ACCEPTED", _("Accepted")
    DECLINED = "DECLINED", _("Declined")
    TENTATIVE = "TENTATIVE", _("Maybe")


class MeetingAttendee(models.Model):
    """Someone invited: a contact of the record (by one of their addresses) or a colleague."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    email = models.EmailField(_("email"), max_length=320)
    name = models.CharField(_("name"), max_length=200, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    response = models.CharField(
        _("answer"),
        max_length=12,
        choices=AttendeeResponse.choices,
        default=AttendeeResponse.NEEDS_ACTION,
    )
    # When the answer was given (the REPLY's DTSTAMP, else its arrival): an older REPLY
    # arriving late does not overwrite a newer one.
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "email"], name="meetingattendee_once"),
            models.CheckConstraint(
                condition=Q(contact__isnull=True) | Q(user__isnull=True),
                name="meetingattendee_contact_or_user",
            ),
        ]
        indexes = [
            # A colleague's calendar: the meetings they are invited to.
            models.Index(
                fields=["user"],
                condition=Q(user__isnull=False, removed_at__isnull=True),
                name="meetingattendee_user_current",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent")
    FAILED = "failed", _("Failed")


class MeetingInvitation(models.Model):
    """One invitation email (REQUEST or CANCEL) to one attendee at one sequence: unique, and
    claimed (queued -> sending) before it is sent, so it goes out at most once."""

    attendee = models.ForeignKey(
        MeetingAttendee, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    sequence = models.PositiveIntegerField()
    method = models.CharField(max_length=10)  # REQUEST or CANCEL
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.QUEUED
    )
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["attendee", "sequence"], name="meetinginvitation_once_per_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.sequence}"
