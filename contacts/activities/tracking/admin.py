"""The tracking switch in the admin (one row); events are read on the email's page."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from contacts.activities.tracking.models import TrackingSettings


@admin.register(TrackingSettings)
class TrackingSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "track_opens", "track_clicks", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not TrackingSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: TrackingSettings, form: object, change: bool
    ) -> None:
        obj.pk = 1  # the one row the recording statement reads
        super().save_model(request, obj, form, change)
