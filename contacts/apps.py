from typing import Any

from django.apps import AppConfig
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
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

        # Cache bookkeeping, not business rules: any write to a list's rows drops its plan hints
        # (crm.pagination.list_page). COPY-based writers (imports, seed_demo) call it themselves.
        for model in (Contact, Company):
            post_save.connect(_rows_changed, sender=model, dispatch_uid="list-version-save")
            post_delete.connect(_rows_changed, sender=model, dispatch_uid="list-version-delete")
            m2m_changed.connect(
                _tags_changed, sender=model.tags.through, dispatch_uid="list-version-tags"
            )
        # Tag option lists (contacts.selectors.tag_options).
        post_save.connect(_tag_rows_changed, sender=Tag, dispatch_uid="tags-version-save")
        post_delete.connect(_tag_rows_changed, sender=Tag, dispatch_uid="tags-version-delete")


def _rows_changed(sender: type[Model], **kwargs: Any) -> None:
    from crm.pagination import bump_list_version

    bump_list_version(sender)


def _tags_changed(
    sender: type[Model], *, instance: Model, model: type[Model], **kwargs: Any
) -> None:
    from crm.pagination import bump_list_version

    if kwargs["action"].startswith("post_"):
        # Either side may be the one changed: contact.tags.add() or tag.contact_set.add().
        bump_list_version(model if kwargs["reverse"] else type(instance))


def _tag_rows_changed(sender: type[Model], **kwargs: Any) -> None:
    from crm import cache

    cache.bump("tags")
