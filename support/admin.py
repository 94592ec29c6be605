"""Django admin: administrators define queues (their agents and business calendar), customer
tiers (and companies' plans), SLA policies per priority and tier, and escalation rules here.
Tickets are changed through the app (the services keep SLA timers and the conversation); the
admin shows them read-only."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from contacts.models import CompanySize, Industry, LifecycleStage, Region
from support import services
from support.models import (
    CannedResponse,
    CompanyTier,
    CustomerTier,
    EscalationRule,
    Queue,
    QueueMember,
    Reassign,
    RoleTicketScope,
    SatisfactionSurvey,
    SlaPolicy,
    Ticket,
)


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 1
    fields = ["user", "available", "last_assigned_at"]
    readonly_fields = ["last_assigned_at"]
    raw_id_fields = ["user"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name", "team", "lead", "assignment_mode", "open_to_all_agents", "country", "time_zone"
    ]  # fmt: skip
    list_select_related = ["team", "lead"]
    raw_id_fields = ["lead"]
    search_fields = ["name"]
    inlines = [QueueMemberInline]


@admin.register(RoleTicketScope)
class RoleTicketScopeAdmin(admin.ModelAdmin):
    """How far each role sees tickets (support/scope.py); a role without a row keeps its
    default (support agents: their queues)."""

    list_display = ["group", "scope"]
    list_select_related = ["group"]


def _checkboxes(label: Any, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class CustomerTierForm(forms.ModelForm):
    """The rule's lists as checkboxes (the array fields' default is a comma-separated text)."""

    sizes = _checkboxes(_("company sizes"), CompanySize.choices)
    industries = _checkboxes(_("industries"), Industry.choices)
    regions = _checkboxes(_("regions"), Region.choices)
    lifecycle_stages = _checkboxes(_("lifecycle stages"), LifecycleStage.choices)

    class Meta:
        model = CustomerTier
        fields = ["name", "rank", "sizes", "industries", "regions", "lifecycle_stages"]


class TierPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0
    fields = ["priority", "first_response_minutes", "resolution_minutes", "warn_before_minutes"]


@admin.register(CustomerTier)
class CustomerTierAdmin(admin.ModelAdmin):
    """A tier's rule: a company matches when each filled list holds its value (a tier with no
    condition is given to companies by hand only, under Companies' support plans)."""

    form = CustomerTierForm
    list_display = ["name", "rank", "sizes", "industries", "regions", "lifecycle_stages"]
    search_fields = ["name"]
    inlines = [TierPolicyInline]

    # A rule or rank decides which companies the tier covers: every company's open tickets are
    # looked at again once the change commits (support.tasks.tickets_retier, idempotent).
    def save_model(self, request: HttpRequest, obj: CustomerTier, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.company_plan_changed(company_ids=None)

    def delete_model(self, request: HttpRequest, obj: CustomerTier) -> None:
        super().delete_model(request, obj)
        services.company_plan_changed(company_ids=None)


@admin.register(CompanyTier)
class CompanyTierAdmin(admin.ModelAdmin):
    """A company's plan set by hand; its open tickets take it after the save commits."""

    list_display = ["company", "tier"]
    list_select_related = ["company", "tier"]
    list_filter = ["tier"]
    raw_id_fields = ["company"]
    search_fields = ["company__name"]

    def save_model(self, request: HttpRequest, obj: CompanyTier, form: Any, change: bool) -> None:
        before = CompanyTier.objects.filter(pk=obj.pk).values_list("company_id", flat=True)
        old = list(before) if change else []
        super().save_model(request, obj, form, change)
        services.company_plan_changed(company_ids=[*old, obj.company_id])

    def delete_model(self, request: HttpRequest, obj: CompanyTier) -> None:
        super().delete_model(request, obj)
        services.company_plan_changed(company_ids=[obj.company_id])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(queryset.values_list("company_id", flat=True))
        super().delete_queryset(request, queryset)
        services.company_plan_changed(company_ids=ids)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "tier",
        "first_response_minutes",
        "resolution_minutes",
        "warn_before_minutes",
    ]
    list_filter = ["tier", "priority"]
    list_select_related = ["tier"]


class EscalationRuleForm(forms.ModelForm):
    class Meta:
        model = EscalationRule
        fields = [
            "name",
            "order",
            "active",
            "on",
            "target",
            "queue",
            "tier",
            "reassign",
            "to_user",
            "to_queue",
            "raise_priority",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reassign = data.get("reassign")
        if reassign == Reassign.USER and not data.get("to_user"):
            self.add_error("to_user", ValidationError(_("Choose the user to reassign to.")))
        if reassign == Reassign.QUEUE and not data.get("to_queue"):
            self.add_error("to_queue", ValidationError(_("Choose the queue to move tickets to.")))
        to_queue = data.get("to_queue")
        if reassign == Reassign.QUEUE and to_queue and to_queue == data.get("queue"):
            self.add_error("to_queue", ValidationError(_("Choose another queue than the rule's.")))
        return data


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    """The first active rule by order that matches a ticket decides what the SLA check does
    when its target is about to be, or has been, missed."""

    form = EscalationRuleForm
    list_display = [
        "name",
        "order",
        "active",
        "on",
        "target",
        "queue",
        "tier",
        "reassign",
        "raise_priority",
        "fallback",
    ]
    list_filter = ["active", "on", "reassign"]
    list_select_related = ["queue", "tier", "to_user"]
    raw_id_fields = ["to_user"]
    readonly_fields = ["fallback"]

    @admin.display(description=_("Falls back"))
    def fallback(self, rule: EscalationRule) -> str:
        """A rule whose user was deleted or deactivated says so (it reassigns to the lead)."""
        return rule.fallback_reason or "-"


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


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(admin.ModelAdmin):
    """The customers' answers (read-only: they come from the emailed link)."""

    list_display = ["ticket", "rating", "answered_at", "sent_at"]
    list_filter = ["rating"]
    list_select_related = ["ticket"]
    raw_id_fields = ["ticket"]
    readonly_fields = ["ticket", "sent_at", "rating", "comment", "answered_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
