from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Queues, tickets, SLAs (issue 29, first landing); see docs/architecture.md "Support"."""

    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from crm.celery import app as celery_app
        from crm.tags import register_taggable
        from support import registrations
        from support.models import (
            Queue,
            QueueMember,
            RoleTicketScope,
            SatisfactionSurvey,
            SenderIdentity,
            SlaPolicy,
            Ticket,
            TicketMessage,
        )

        auditlog.register(Ticket, exclude_fields=["updated_at", "paused_seconds"])
        auditlog.register(TicketMessage, exclude_fields=["updated_at", "emailed_at"])
        auditlog.register(Queue, exclude_fields=["updated_at"])
        auditlog.register(QueueMember, exclude_fields=["updated_at", "last_assigned_at"])
        auditlog.register(SlaPolicy, exclude_fields=["updated_at"])
        auditlog.register(RoleTicketScope, exclude_fields=["updated_at"])
        auditlog.register(SenderIdentity)
        auditlog.register(SatisfactionSurvey)
        # Tag changes are audited as changes of tag_ids (crm.tags).
        register_taggable(Ticket)
        # Declared here, not in crm/celery.py: crm/ names no app (tests/crm/test_registries.py).
        # Warns before and escalates after SLA breaches, once per ticket and target (claim rows).
        celery_app.conf.beat_schedule["support-sla-check"] = {
            "task": "support.tasks.sla_check",
            "schedule": 60.0,
        }
        # Inbound email: replies thread into their tickets, mail to support opens one.
        from support import intake

        intake.register()
        registrations.register()
