from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Pipelines, opportunities, the board (issue 28); see docs/architecture.md "Sales"."""

    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from sales import registrations
        from sales.models import (
            LossReason,
            Opportunity,
            OpportunityContact,
            Pipeline,
            Quota,
            Stage,
        )

        auditlog.register(Opportunity, exclude_fields=["updated_at", "score", "stage_entered_at"])
        auditlog.register(OpportunityContact)
        auditlog.register(Pipeline, exclude_fields=["updated_at"])
        auditlog.register(Stage, exclude_fields=["updated_at"])
        auditlog.register(LossReason, exclude_fields=["updated_at"])
        auditlog.register(Quota, exclude_fields=["updated_at"])
        registrations.register()
