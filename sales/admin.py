"""Django admin: administrators define pipelines, their stages, loss and won reasons here. Deals are
changed through the app (the services record stage history); the admin shows them read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sales.models import (
    ExchangeRate,
    ForecastAccuracy,
    ForecastRun,
    LossReason,
    Opportunity,
    Pipeline,
    Product,
    Quota,
    Stage,
    WinReason,
)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 1
    fields = ["position", "name", "probability", "kind", "required_fields", "stall_days"]
    ordering = ["position"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "position"]
    inlines = [StageInline]


@admin.register(LossReason)
class LossReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]


@admin.register(WinReason)
class WinReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "stage", "amount", "currency", "owner", "closed_at"]
    list_filter = ["pipeline", "stage__kind"]
    list_select_related = ["pipeline", "stage", "owner"]
    raw_id_fields = ["company", "owner"]
    search_fields = ["name"]
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "unit_price", "currency", "active"]
    list_filter = ["active", "currency"]
    search_fields = ["name", "sku"]


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "team", "month", "amount", "currency"]
    list_filter = ["team", "month"]
    raw_id_fields = ["user"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates by date (also loaded from a CSV: manage.py load_exchange_rates)."""

    list_display = ["currency", "to_currency", "date", "rate"]
    list_filter = ["currency", "to_currency"]
    date_hierarchy = "date"


class ForecastAccuracyInline(admin.TabularInline):
    model = ForecastAccuracy
    fields = ["team", "mape", "baseline_mape", "months"]
    readonly_fields = ["team", "mape", "baseline_mape", "months"]
    extra = 0
    can_delete = False


@admin.register(ForecastRun)
class ForecastRunAdmin(admin.ModelAdmin):
    """Runs of the statistical forecast, read-only (the Celery task writes them)."""

    list_display = ["as_of", "created_at", "status", "currency", "seconds"]
    list_filter = ["status"]
    readonly_fields = ["as_of", "created_at", "status", "message", "currency", "parameters"]
    inlines = [ForecastAccuracyInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
