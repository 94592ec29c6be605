from typing import Any

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
            ExchangeRate,
            LossReason,
            Opportunity,
            OpportunityContact,
            OpportunityLine,
            Pipeline,
            Product,
            Quota,
            Stage,
            WinReason,
        )

        auditlog.register(Opportunity, exclude_fields=["updated_at", "score", "stage_entered_at"])
        auditlog.register(OpportunityContact)
        auditlog.register(OpportunityLine, exclude_fields=["position"])
        auditlog.register(Product, exclude_fields=["updated_at"])
        auditlog.register(Pipeline, exclude_fields=["updated_at"])
        auditlog.register(Stage, exclude_fields=["updated_at"])
        auditlog.register(LossReason, exclude_fields=["updated_at"])
        auditlog.register(WinReason, exclude_fields=["updated_at"])
        auditlog.register(Quota, exclude_fields=["updated_at"])
        auditlog.register(ExchangeRate, exclude_fields=["updated_at"])
        registrations.register()
        from django.db.models.signals import post_delete, post_save

        for signal in (post_save, post_delete):
            signal.connect(
                _deal_changed, sender=Opportunity, dispatch_uid=f"board-sums-{signal is post_save}"
            )
        for model in (Pipeline, Stage, LossReason, WinReason, ExchangeRate):
            for signal in (post_save, post_delete):
                signal.connect(
                    _definitions_changed,
                    sender=model,
                    dispatch_uid=f"analytics-{model.__name__}-{signal is post_save}",
                )
        from crm.tags import register_taggable

        register_taggable(Opportunity)  # tag changes are recorded as changes of tag_ids
        # Declared here, not in crm/celery.py: crm/ names no app (tests/crm/test_registries.py).
        # The statistical forecast and its backtest, once a day (a late or double run only adds
        # a newer run; pages read the latest).
        from celery.schedules import crontab

        from crm.celery import app as celery_app
        from sales.tasks import REFRESH_TASK

        celery_app.conf.beat_schedule["sales-forecast-refresh"] = {
            "task": REFRESH_TASK,
            "schedule": crontab(hour=2, minute=30),
        }


def _definitions_changed(sender: type[Any], **kwargs: Any) -> None:
    """Stages, reasons and rates name and value pipeline performance's figures and the board's
    sums: forget them."""
    from crm import cache
    from sales.analytics import CACHE_NAME
    from sales.selectors import BOARD_SUMS

    cache.bump(CACHE_NAME)
    cache.bump(BOARD_SUMS)


def _deal_changed(sender: type[Any], **kwargs: Any) -> None:
    """A deal saved or deleted: the board's kept column sums may be wrong now."""
    from crm import cache
    from sales.selectors import BOARD_SUMS

    cache.bump(BOARD_SUMS)
