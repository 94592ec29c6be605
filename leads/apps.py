from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Leads (issue 27): capture, duplicates, conversion; see docs/architecture.md "Leads"."""

    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from crm import history
        from leads import registrations
        from leads.models import (
            AssignmentRule,
            DuplicatePolicy,
            Lead,
            LeadAvailability,
            LeadForm,
            LeadFormField,
            ScoreSettings,
            ScoringRule,
        )

        auditlog.register(
            Lead,
            exclude_fields=[
                "updated_at",
                "sort_name",
                "phone_digits",
                "score_breakdown",
                "assignment_pending",
            ],
        )  # tag changes are recorded as changes of tag_ids (crm.tags)
        from crm.tags import register_taggable

        register_taggable(Lead, link="tags")
        auditlog.register(DuplicatePolicy, exclude_fields=["updated_at"])
        auditlog.register(LeadForm, exclude_fields=["updated_at"])
        auditlog.register(LeadFormField)
        auditlog.register(
            AssignmentRule, exclude_fields=["updated_at", "turn"], m2m_fields={"members"}
        )
        auditlog.register(ScoringRule, exclude_fields=["updated_at"])
        auditlog.register(ScoreSettings, exclude_fields=["updated_at"])
        # Who went away from new leads, and when (the user on the home card, or an admin).
        auditlog.register(LeadAvailability, exclude_fields=["updated_at"])
        registrations.register()
        from leads import activity
        from leads.models import LeadFile

        # Files uploaded by hand: the lead's history shows them (not where they are stored).
        auditlog.register(LeadFile, exclude_fields=["file"])
        history.register_history(LeadFile, parent="lead", hidden={"file", "contact", "company"})
        activity.register()
        from celery.schedules import crontab

        from crm.celery import app as celery_app

        # Declared here, not in crm/celery.py: crm/ names no app (tests/crm/test_registries.py).
        # Engagement points fade with age; marks hot leads and tells their owners.
        celery_app.conf.beat_schedule["leads-score-decay"] = {
            "task": "leads.tasks.lead_scores_decay",
            "schedule": crontab(hour=2, minute=30),
        }
        celery_app.conf.beat_schedule["leads-nurture"] = {
            "task": "leads.tasks.nurture_run",
            "schedule": crontab(minute="*/10"),
        }
        from leads.models import NurtureEnrolment, NurtureSequence, NurtureStep

        auditlog.register(NurtureSequence, exclude_fields=["updated_at"])
        # The lead list's bulk bar offers the active sequences from the cache (nurture).
        post_save.connect(_sequences_changed, sender=NurtureSequence, dispatch_uid="nurture-seq")
        post_delete.connect(_sequences_changed, sender=NurtureSequence, dispatch_uid="nurture-del")
        auditlog.register(NurtureStep)
        auditlog.register(NurtureEnrolment, exclude_fields=["next_due_at", "done"])
        from leads import imports  # noqa: F401  (registers the lead importer)


def _sequences_changed(sender: type, **kwargs: Any) -> None:
    from crm import cache

    cache.bump("nurture-sequences")
