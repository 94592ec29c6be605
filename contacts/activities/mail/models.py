"""The email side of an interaction: headers, thread, delivery state and attachments; templates."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.activities.models import Interaction
from contacts.models import Contact
from crm.storage import private_storage


class MailStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class MailMessage(models.Model):
    """One email on one contact's timeline (an inbound message that matched several contacts has
    a row per contact). `thread_id` is the Message-ID of the conversation's first message."""

    interaction = models.OneToOneField(
        Interaction, verbose_name=_("interaction"), on_delete=models.CASCADE, related_name="mail"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    message_id = models.CharField(_("Message-ID"), max_length=500)
    thread_id = models.CharField(max_length=500)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.JSONField(default=list, blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    inbound = models.ForeignKey(
        "crm.InboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        permissions = [("triage_mailmessage", _("Can sort unmatched mail"))]
        constraints = [
            # One row per message and contact: a message delivered twice is stored once.
            models.UniqueConstraint(
                fields=["message_id", "contact"],
                condition=Q(contact__isnull=False),
                name="mailmessage_once_per_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="mailmessage_message_id"),
            models.Index(fields=["thread_id", "created_at"], name="mailmessage_thread"),
        ]

    def __str__(self) -> str:
        return self.message_id


def attachment_upload_to(_instance: Any, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if not suffix.isascii() or len(suffix) > 6:
        suffix = ""
    return f"mail/{uuid.uuid4().hex}{suffix}"


class MailAttachment(models.Model):
    """A file of an email, in private storage; served by a view to those who see the email."""

    mail = models.ForeignKey(MailMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=attachment_upload_to, storage=private_storage, max_length=200)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class MailTemplate(models.Model):
    """A reusable email with merge fields ({{ first_name }}, ...; see services.MERGE_FIELDS)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
