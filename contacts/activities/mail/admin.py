"""Email templates are kept in the admin; emails are read-only there."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from contacts.activities.mail import services
from contacts.activities.mail.models import MailMessage, MailTemplate
from crm.errors import DomainError


class MailTemplateForm(ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["name", "subject", "body", "active"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        try:
            services.merge_check(f"{data.get('subject', '')} {data.get('body', '')}")
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        return data


@admin.register(MailTemplate)
class MailTemplateAdmin(admin.ModelAdmin):
    form = MailTemplateForm
    list_display = ["name", "subject", "active", "updated_at"]
    search_fields = ["name", "subject"]


@admin.register(MailMessage)
class MailMessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "contact", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["message_id"]
    raw_id_fields = ["interaction", "contact", "inbound"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
