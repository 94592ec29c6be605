"""Django admin for interactions and tasks (staff tools). Raw-id widgets: the linked tables are
large."""

from django.contrib import admin

from contacts.activities.models import Interaction, Task


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "channel",
        "direction",
        "outcome",
        "occurred_at",
        "contact",
        "company",
        "logged_by",
        "archived_at",
    ]
    list_filter = ["channel", "direction", "outcome", "archived_at"]
    list_select_related = ["contact", "company", "logged_by"]
    raw_id_fields = ["contact", "company", "owner", "logged_by"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "due_at", "priority", "status", "contact", "company"]
    list_filter = ["status", "priority"]
    list_select_related = ["owner", "contact", "company"]
    raw_id_fields = ["contact", "company", "owner", "created_by", "completed_by"]
    readonly_fields = ["created_at", "updated_at", "outcome_interaction"]
    search_fields = ["title"]
    show_full_result_count = False
