"""What tracking plugs in (called from contacts/activities/registrations.py): its task, admin and
the switch's history."""

from __future__ import annotations


def register() -> None:
    from auditlog.registry import auditlog
    from celery.schedules import crontab

    from contacts.activities.tracking import admin, services, tasks  # noqa: F401  (admin, task)
    from contacts.activities.tracking.models import TrackingSettings
    from crm.celery import app as celery_app

    # Events and page views are not audited: no user changed anything, and a pixel per open
    # must stay one INSERT. Switching tracking on or off is.
    auditlog.register(TrackingSettings, exclude_fields=["updated_at"])
    # Page views past CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS go, in bounded batches, nightly.
    celery_app.conf.beat_schedule["activities-page-views-prune"] = {
        "task": services.PRUNE_TASK,
        "schedule": crontab(hour=3, minute=10),
    }
