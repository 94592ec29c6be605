from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from contacts.models import Company, Contact, ContactEmail, ContactPhone, ImportJob, Tag

        auditlog.register(
            Contact,
            exclude_fields=["search_text", "search_vector", "sort_name", "updated_at"],
            m2m_fields={"tags"},
        )
        auditlog.register(
            Company,
            exclude_fields=["search_text", "search_vector", "updated_at"],
            m2m_fields={"tags"},
        )
        auditlog.register(ContactEmail)
        auditlog.register(ContactPhone, exclude_fields=["digits"])
        auditlog.register(Tag)
        auditlog.register(ImportJob, include_fields=["status", "created_count", "skipped_count"])
