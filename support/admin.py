"""Django admin: administrators define queues (their agents and business calendar) and SLA
policies here. Tickets are changed through the app (the services keep SLA timers and the
conversation); the admin shows them read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from support.models import CannedResponse, Queue, QueueMember, SlaPolicy, Ticket


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 1
    fields = ["user", "available", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    raw_id_fields = ["user"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "lead", "assignment_mode", "country", "time_zone"]
    list_select_related = ["team", "lead"]
    raw_id_fields = ["lead"]
    search_fields = ["name"]
    inlines = [QueueMemberInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warn_before_minutes",
    ]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "queue", "status", "priority", "assignee", "created_at"]
    list_filter = ["status", "priority", "queue"]
    list_select_related = ["queue", "assignee"]
    raw_id_fields = ["requester", "company", "owner", "assignee"]
    search_fields = ["subject", "=number"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Canned responses and macros: the reply (merge fields), then status/priority changes."""

    list_display = ["title", "kind", "set_status", "set_priority", "queue"]
    list_filter = ["kind", "queue"]
    search_fields = ["title", "body"]
