"""Tracking's rows: opens and clicks of outbound email, page views of a customer's website, and
the switch that turns email tracking off (see tracking/__init__.py)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

MAX_URL = 2000
MAX_TITLE = 300


class TrackingSettings(models.Model):
    """One row (pk 1), kept in the admin: whether outbound CRM email carries an open pixel and
    tracked links. Read when an email is written (the email remembers it in `tracked`) and again
    when an open or click arrives, so switching it off also stops recording for mail already
    sent (links keep working)."""

    track_opens = models.BooleanField(_("track email opens"), default=True)
    track_clicks = models.BooleanField(_("track link clicks in email"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tracking settings")
        verbose_name_plural = _("tracking settings")

    def __str__(self) -> str:
        return str(_("Tracking settings"))

    @classmethod
    def current(cls) -> TrackingSettings:
        row = cls.objects.filter(pk=1).first()
        return row if row is not None else cls(pk=1)


class EmailEventKind(models.TextChoices):
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")


class EmailEvent(models.Model):
    """One open (the pixel was loaded) or click (a tracked link was followed) of an email the CRM
    sent. Written with one INSERT (services.email_event_record); not in the audit log (no user
    changed anything). `client` is a keyed hash of the address and user agent, never either."""

    mail = models.ForeignKey(
        "activities.MailMessage", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(_("event"), max_length=5, choices=EmailEventKind.choices)
    url = models.CharField(_("link"), max_length=MAX_URL, blank=True)
    at = models.DateTimeField(_("when"), db_default=Now())
    client = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("email event")
        verbose_name_plural = _("email events")
        indexes = [
            # The de-duplication probe, an email's counts and the scoring's read.
            models.Index(fields=["mail", "kind", "at"], name="emailevent_mail_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.mail_id} {self.at}"


class PageView(models.Model):
    """A page of a customer's website seen by an anonymous visitor (the signed visitor id the
    tracking script keeps), reported by `static/js/crm_track.js`. `site` names the registered
    site that allowed it ("form:<slug>" for a web-to-lead form's site)."""

    site = models.CharField(_("site"), max_length=80)
    visitor = models.UUIDField(_("visitor"))
    url = models.CharField(_("page"), max_length=MAX_URL)
    title = models.CharField(_("title"), max_length=MAX_TITLE, blank=True)
    referrer = models.CharField(_("referrer"), max_length=MAX_URL, blank=True)
    at = models.DateTimeField(_("when"), db_default=Now())
    client = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        indexes = [
            models.Index(fields=["visitor", "at"], name="pageview_visitor_at"),
            # The retention's pruning reads the oldest first (services.page_views_prune).
            models.Index(fields=["at"], name="pageview_at"),
        ]

    def __str__(self) -> str:
        return self.url
