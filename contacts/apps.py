from typing import Any

from django.apps import AppConfig
from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from contacts.models import Company, Contact, ContactEmail, ContactPhone, ImportJob, Tag

        auditlog.register(
            Contact,
            # merged_into: the merge writes its own entry, which does not name the other
            # contact (a reader of this one's history may not see that one).
            exclude_fields=[
                "search_text",
                "search_vector",
                "sort_name",
                "updated_at",
                "merged_into",
            ],
        )
        # Tag changes are recorded as changes of tag_ids (crm.history shows their names), not
        # as link-table operations.
        auditlog.register(Company, exclude_fields=["search_text", "search_vector", "updated_at"])
        auditlog.register(ContactEmail)
        auditlog.register(ContactPhone, exclude_fields=["digits"])
        auditlog.register(Tag)
        auditlog.register(
            ImportJob,
            include_fields=[
                "status",
                "created_count",
                "updated_count",
                "skipped_count",
                "rejected_count",
            ],
        )

        # Navigation, home, global search, history labels, timeline (contacts/registrations.py).
        from contacts import registrations

        registrations.register()

        # List-plan hints ("this list is over the cap") are not dropped on writes: they expire
        # after a minute (crm.pagination.list_page). A stale one only delays a count label.
        # Tag option lists (contacts.selectors.tag_options).
        post_save.connect(_tag_rows_changed, sender=Tag, dispatch_uid="tags-version-save")
        post_delete.connect(_tag_rows_changed, sender=Tag, dispatch_uid="tags-version-delete")
        # A deleted tag leaves every record's tag_ids (crm.tags), however it is deleted: the
        # link tables lose their rows by cascade, the arrays have no foreign key.
        post_delete.connect(_tag_deleted, sender=Tag, dispatch_uid="tags-forget")


def _tag_rows_changed(sender: type[Model], **kwargs: Any) -> None:
    from crm import cache

    cache.bump("tags")


def _tag_deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    from crm.tags import forget_tag

    forget_tag(instance.pk)
