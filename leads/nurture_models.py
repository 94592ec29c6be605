"""Nurture sequences (`leads/nurture.py`); imported by `leads/models.py`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.activities.mail.models import MailMessage, MailTemplate
from crm.models import TimeStampedModel


class NurtureSequence(TimeStampedModel):
    """Steps an admin sets up: wait some days, then send an email template to the lead. Leads
    are enrolled by hand, in bulk from the list, or by the score rule (`enrol_min_score`)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)
    enrol_min_score = models.PositiveIntegerField(
        _("enrol leads reaching this score"),
        null=True,
        blank=True,
        help_text=_("Open leads with at least this score are enrolled automatically."),
    )
    sender = models.ForeignKey(
        User,
        verbose_name=_("sender"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: each lead's owner sends it."),
    )

    class Meta:
        verbose_name = _("nurture sequence")
        verbose_name_plural = _("nurture sequences")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NurtureStep(models.Model):
    sequence = models.ForeignKey(NurtureSequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    wait_days = models.PositiveSmallIntegerField(
        _("wait (days)"), default=1, help_text=_("Days after enrolment or the previous step.")
    )
    kind = models.CharField(_("kind"), max_length=40, default="email")
    template = models.ForeignKey(
        MailTemplate,
        verbose_name=_("email template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("nurture step")
        verbose_name_plural = _("nurture steps")
        ordering = ["sequence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="nurturestep_unique_pos")
        ]

    def __str__(self) -> str:
        return f"{self.sequence} #{self.position}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class StopReason(models.TextChoices):
    REPLIED = "replied", _("The lead replied")
    CONVERTED = "converted", _("The lead was converted")
    UNQUALIFIED = "unqualified", _("The lead was unqualified")
    UNSUBSCRIBED = "unsubscribed", _("The lead unsubscribed")
    MANUAL = "manual", _("Stopped by a user")
    NO_EMAIL = "no_email", _("The lead has no email address")
    FAILED = "failed", _("The email could not be written")


class NurtureEnrolment(models.Model):
    """A lead going through a sequence: `done` steps sent, the next one due at `next_due_at`."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="nurtures")
    sequence = models.ForeignKey(
        NurtureSequence, on_delete=models.CASCADE, related_name="enrolments"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE
    )
    stop_reason = models.CharField(
        _("stopped because"), max_length=20, choices=StopReason.choices, blank=True
    )
    done = models.PositiveSmallIntegerField(_("steps sent"), default=0)
    next_due_at = models.DateTimeField(_("next step due"), null=True, blank=True)
    enrolled_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enrolled_at = models.DateTimeField(_("enrolled"), auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("nurture enrolment")
        verbose_name_plural = _("nurture enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "sequence"],
                condition=Q(status="active"),
                name="nurture_one_active_per_lead",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_due_at", "id"],
                condition=Q(status="active"),
                name="nurture_due",
            ),
            models.Index(fields=["lead", "-enrolled_at"], name="nurture_lead_time"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.sequence_id} ({self.status})"


class NurtureDelivery(models.Model):
    """One step sent to one enrolment, at most once (the unique pair), with its email."""

    enrolment = models.ForeignKey(
        NurtureEnrolment, on_delete=models.CASCADE, related_name="deliveries"
    )
    position = models.PositiveSmallIntegerField()
    mail = models.ForeignKey(
        MailMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "position"], name="nurture_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} step {self.position}"
