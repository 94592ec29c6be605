"""Files uploaded to a lead by hand (`leads/files.py`); imported by `leads/models.py`."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.models import Company, Contact
from crm.storage import private_name, private_storage


def lead_file_upload_to(_instance: object, filename: str) -> str:
    return private_name("lead-files", filename)


class LeadFile(models.Model):
    """A file a user uploaded to a lead by hand (`leads/files.py`), in private storage
    (`crm.storage`: outside the web root, no URL), streamed by `leads:lead-file` only to users
    who see the lead or the contact it went to. Conversion sets `contact` and `company`
    (`trail.trail_move`), so the file shows on their timelines too."""

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="files", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    file = models.FileField(upload_to=lead_file_upload_to, storage=private_storage, max_length=200)
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("lead file")
        verbose_name_plural = _("lead files")
        indexes = [
            models.Index(fields=["lead", "-created_at", "-id"], name="leadfile_lead_time"),
            models.Index(
                fields=["contact", "-created_at", "-id"],
                name="leadfile_contact_time",
                condition=Q(contact__isnull=False),
            ),
            models.Index(
                fields=["company", "-created_at", "-id"],
                name="leadfile_company_time",
                condition=Q(company__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.filename
