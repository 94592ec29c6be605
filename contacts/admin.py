"""Django admin for contacts. Admins see every record (superuser/staff tools), so the admin is
limited to users with is_staff; raw-id widgets keep pages fast at a million rows."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from guardian.admin import GuardedModelAdminMixin

from contacts.models import Company, Contact, ContactEmail, ContactPhone, ImportJob, Tag
from contacts.search import search_condition
from crm.tags import tags_set


class IndexedSearchMixin:
    """Admin search through the trigram/full-text indexes instead of a LIKE over every row."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        condition = search_condition(search_term, queryset.model)
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False


class TagIdsAdminMixin:
    """The admin edits the link table; the record's `tag_ids` follow it (crm.tags)."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        obj = form.instance
        ids = list(obj.tags.values_list("pk", flat=True))
        tags_set(obj=obj, tags=ids, actor=request.user, check=False)


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 0


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0
    exclude = ["digits"]


# guardian declares change_form_template as an instance attribute, django-stubs as a ClassVar.
@admin.register(Contact)
class ContactAdmin(TagIdsAdminMixin, IndexedSearchMixin, GuardedModelAdminMixin, admin.ModelAdmin):  # type: ignore[misc]
    list_display = [
        "display_name",
        "company",
        "primary_email",
        "primary_phone",
        "lifecycle_stage",
        "region",
        "owner",
        "team",
        "created_at",
        "archived_at",
    ]
    list_filter = ["lifecycle_stage", "region", "source", "team", "archived_at"]
    search_fields = ["search_text"]  # see IndexedSearchMixin
    list_select_related = ["company", "owner", "team"]
    raw_id_fields = ["company", "owner", "merged_into"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["display_name", "primary_email", "primary_phone", "created_at", "updated_at"]
    inlines = [ContactEmailInline, ContactPhoneInline]
    show_full_result_count = False  # no exact COUNT(*) over a million rows per page


# guardian declares change_form_template as an instance attribute, django-stubs as a ClassVar.
@admin.register(Company)
class CompanyAdmin(TagIdsAdminMixin, IndexedSearchMixin, GuardedModelAdminMixin, admin.ModelAdmin):  # type: ignore[misc]
    list_display = ["name", "industry", "size", "region", "lifecycle_stage", "owner", "team"]
    list_filter = ["industry", "size", "region", "lifecycle_stage", "team", "archived_at"]
    search_fields = ["search_text"]  # see IndexedSearchMixin
    list_select_related = ["owner", "team"]
    raw_id_fields = ["owner"]
    autocomplete_fields = ["tags"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "created_at"]
    search_fields = ["name"]


@admin.register(ContactEmail)
class ContactEmailAdmin(admin.ModelAdmin):
    list_display = ["email", "label", "is_primary", "contact"]
    search_fields = ["email"]
    raw_id_fields = ["contact"]
    show_full_result_count = False


@admin.register(ContactPhone)
class ContactPhoneAdmin(admin.ModelAdmin):
    list_display = ["number", "label", "is_primary", "contact"]
    search_fields = ["digits"]
    raw_id_fields = ["contact"]
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["original_name", "owner", "status", "total_rows", "created_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["original_name", "owner__email"]
    list_select_related = ["owner"]
    # The files are private and have no URL: the uploader downloads them from the import page.
    exclude = ["file", "rejected_file"]
    readonly_fields = [
        "owner", "original_name", "status", "headers", "mapping", "total_rows",
        "processed_rows", "created_count", "skipped_count", "error_count", "errors", "message",
        "finished_at",
    ]  # fmt: skip
