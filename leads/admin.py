"""Django admin: web forms (with their fields), assignment rules, scoring rules and duplicate
policies are administrators' settings. Saving or deleting a scoring rule recomputes every lead's
score in a background job (`leads.scoring.scoring_rules_changed`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from leads import nurture, scoring
from leads.forms import LeadFormSettingsForm
from leads.models import (
    AssignmentRule,
    DuplicatePolicy,
    LeadAvailability,
    LeadForm,
    LeadFormField,
    NurtureEnrolment,
    NurtureSequence,
    NurtureStep,
    ScoreSettings,
    ScoringRule,
)


class LeadFormFieldInline(admin.TabularInline):
    model = LeadFormField
    extra = 1
    fields = ["position", "field", "required", "label", "label_zh"]


@admin.register(LeadForm)
class LeadFormAdmin(admin.ModelAdmin):
    form = LeadFormSettingsForm
    list_display = ["name", "slug", "owner", "use_assignment_rules", "active"]
    list_filter = ["active"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["owner"]
    inlines = [LeadFormFieldInline]


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "source", "region", "industry", "size", "user", "active"]
    list_editable = ["position", "active"]
    list_filter = ["active", "source"]
    raw_id_fields = ["user"]
    filter_horizontal = ["members"]
    fields = [
        "name", "position", "active", "source", "region", "industry", "size", "web_form",
        "min_score", "user", "members", "team", "strategy",
    ]  # fmt: skip


def _rescore(request: HttpRequest, *, notify: bool = True) -> None:
    scoring.scoring_rules_changed(actor=request.user, notify=notify)  # type: ignore[arg-type]
    messages.info(request, _("Every lead's score is being recomputed."))


@admin.register(LeadAvailability)
class LeadAvailabilityAdmin(admin.ModelAdmin):
    """Who is away from team assignment rules (no row: available)."""

    list_display = ["user", "available", "updated_at"]
    list_editable = ["available"]
    list_filter = ["available"]
    autocomplete_fields = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "field", "operator", "value", "points", "half_life_days", "active"]
    list_filter = ["active", "field"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _rescore(request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        _rescore(request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        _rescore(request)


@admin.register(ScoreSettings)
class ScoreSettingsAdmin(admin.ModelAdmin):
    """One row: the hot/warm thresholds, the default decay and what a hot lead triggers.
    Saving recomputes every lead (no notifications: a threshold change is not news)."""

    list_display = ["__str__", "hot_at", "warm_at", "half_life_days", "notify_when_hot"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not ScoreSettings.objects.exists()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.pk = 1
        super().save_model(request, obj, form, change)
        _rescore(request, notify=False)


@admin.register(DuplicatePolicy)
class DuplicatePolicyAdmin(admin.ModelAdmin):
    list_display = ["source", "action"]


class NurtureStepInline(admin.TabularInline):
    model = NurtureStep
    extra = 1
    fields = ["position", "wait_days", "kind", "template"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "kind":
            from django import forms

            # The kinds registered (`leads.nurture.step_kinds`): email, and any another app adds.
            choices = [(k.key, k.label) for k in nurture.step_kinds.all()]
            return forms.ChoiceField(choices=choices, label=db_field.verbose_name)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(NurtureSequence)
class NurtureSequenceAdmin(admin.ModelAdmin):
    """Nurture sequences (`leads/nurture.py`): steps that wait some days, then send an email
    template; leads reaching `enrol_min_score` are enrolled by the periodic run."""

    list_display = ["name", "active", "enrol_min_score", "sender"]
    list_filter = ["active"]
    raw_id_fields = ["sender"]
    inlines = [NurtureStepInline]


@admin.register(NurtureEnrolment)
class NurtureEnrolmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "sequence", "status", "stop_reason", "done", "next_due_at"]
    list_filter = ["status", "stop_reason", "sequence"]
    raw_id_fields = ["lead", "enrolled_by"]
    readonly_fields = ["done", "next_due_at", "enrolled_at", "ended_at", "enrolled_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # enrolment goes through leads.nurture (checks, history)
