"""Django admin: web forms (with their fields), assignment rules, scoring rules and duplicate
policies are administrators' settings. Saving or deleting a scoring rule recomputes every lead's
score in a background job (`leads.scoring.scoring_rules_changed`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from leads import scoring
from leads.forms import LeadFormSettingsForm
from leads.models import (
    AssignmentRule,
    DuplicatePolicy,
    LeadForm,
    LeadFormField,
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
