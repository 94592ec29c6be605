"""The email side of an interaction: headers, thread, delivery state and attachments; templates."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
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
    # The HTML part, sanitised when stored (mail/html.py): no script, no event handlers, remote
    # images held back; shown in a sandboxed frame with its own strict CSP.
    html = models.TextField(_("HTML body"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    inbound = models.ForeignKey(
        "crm.InboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The personal mailbox it was synced from, or sent through.
    mailbox = models.ForeignKey(
        "activities.Mailbox", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Sent with an open pixel and tracked links (tracking settings when it was written).
    tracked = models.BooleanField(_("tracked"), default=False, db_default=False)
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


class SmtpSecurity(models.TextChoices):
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS")
    NONE = "none", _("None (local servers only)")


class MailboxAuth(models.TextChoices):
    PASSWORD = "password", _("Password")
    OAUTH2 = "oauth2", _("OAuth2 (sign in with the provider)")


class Mailbox(models.Model):
    """A user's own mail account (mailboxes.py): mail they exchange with known contacts is synced
    onto those contacts' timelines; email they write in the CRM goes out through its SMTP server.
    Passwords are encrypted with the project's keys (crm/crypto.py); `sync_state` holds, per
    folder, the UIDVALIDITY and the last UID read."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    address = models.EmailField(_("email address"))
    imap_host = models.CharField(_("IMAP server"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("IMAP over SSL/TLS"), default=True)
    imap_user = models.CharField(_("IMAP user name"), max_length=255)
    imap_password = models.TextField(editable=False)  # encrypted
    sent_folder = models.CharField(
        _("sent mail folder"), max_length=100, default="Sent", blank=True
    )
    smtp_host = models.CharField(_("SMTP server"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"),
        max_length=10,
        choices=SmtpSecurity.choices,
        default=SmtpSecurity.STARTTLS,
    )
    smtp_user = models.CharField(_("SMTP user name"), max_length=255, blank=True)
    smtp_password = models.TextField(blank=True, editable=False)  # encrypted
    # OAuth2 (oauth.py): IMAP and SMTP log in with XOAUTH2 and an access token, refreshed
    # through the provider's token endpoint; both tokens encrypted like the passwords.
    auth = models.CharField(
        _("sign-in"), max_length=10, choices=MailboxAuth.choices, default=MailboxAuth.PASSWORD
    )
    oauth_provider = models.CharField(_("OAuth provider"), max_length=30, blank=True)
    oauth_access_token = models.TextField(blank=True, editable=False)  # encrypted
    oauth_refresh_token = models.TextField(blank=True, editable=False)  # encrypted
    oauth_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(_("syncing"), default=True)
    # The owner's own privacy switch for email sent through this account (tracking/): off, no
    # open pixel or no tracked links, whatever the admin's global switch says.
    track_opens = models.BooleanField(_("track email opens"), default=True, db_default=True)
    track_clicks = models.BooleanField(
        _("track link clicks in email"), default=True, db_default=True
    )
    sync_state = models.JSONField(default=dict, blank=True)
    sync_started_at = models.DateTimeField(null=True, blank=True)  # the running sync's claim
    last_sync_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_synced = models.PositiveIntegerField(default=0)  # emails the last sync put on timelines
    total_synced = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("personal mailbox")
        verbose_name_plural = _("personal mailboxes")

    def __str__(self) -> str:
        return self.address
