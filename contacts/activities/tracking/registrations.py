"""What tracking plugs in (called from contacts/activities/registrations.py): its task, admin and
the switch's history."""

from __future__ import annotations


def register() -> None:
    from auditlog.registry import auditlog

    from contacts.activities.tracking import admin, tasks  # noqa: F401  (admin, task)
    from contacts.activities.tracking.models import TrackingSettings

    # Events and page views are not audited: no user changed anything, and a pixel per open
    # must stay one INSERT. Switching tracking on or off is.
    auditlog.register(TrackingSettings, exclude_fields=["updated_at"])
