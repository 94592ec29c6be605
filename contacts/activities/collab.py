"""Collaboration's wiring, called once from `ActivitiesConfig.ready()`: its Celery tasks and beat
entry, its timeline source and record panel, home page and navigation hooks (see
docs/architecture.md, "Collaboration")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SUBJECTS = ("contacts.contact", "contacts.company")


def ready() -> None:
    from auditlog.registry import auditlog

    from contacts import panels, timeline
    from contacts.activities import (
        collab_tasks,  # noqa: F401  (registers the Celery tasks)
        comments,
    )
    from contacts.activities.collab_models import Comment
    from crm import nav
    from crm.celery import app as celery_app

    auditlog.register(Comment, exclude_fields=["updated_at"])
    # Declared here, not in crm/celery.py: crm/ names no app (tests/crm/test_registries.py).
    celery_app.conf.beat_schedule["activities-task-reminders"] = {
        "task": "activities.task_reminders",
        "schedule": 60.0,
    }
    # Notification emails whose worker died between the claim and the send go again.
    celery_app.conf.beat_schedule["activities-notification-email-sweep"] = {
        "task": "activities.notification_email_sweep",
        "schedule": 300.0,
    }
    # Daily digests: written (and so sent) once the user's local day reaches the digest hour.
    celery_app.conf.beat_schedule["activities-notification-digests"] = {
        "task": "activities.notification_digests",
        "schedule": 900.0,
    }
    # Before contacts' list (order 100): the user's own work is where the day starts.
    nav.register_home(nav.HomeEntry("my-day", "activities:home", order=50))
    panels.register_panel(
        panels.RecordPanel(
            "comments", "activities/partials/comment_panel.html", 15, SUBJECTS, "main"
        )
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="comment",
            label=_("Comments"),
            template="activities/timeline_comment.html",
            entries=comments.comment_timeline_entries,
            order=35,
            subjects=SUBJECTS,
        )
    )
