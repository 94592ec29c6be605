"""The by-stage-and-time stage-change index also holds the change's id, so the pipeline
analytics read a period's changes in each deal's order (time, id) from the index alone
(sales.analytics.stage_metrics; bench/results/2026-12-01-sales-analytics.md). Replaced, not
added: built concurrently, the old one dropped after the new one is there."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sales", "0011_scope_led_name_search"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="stagechange",
            index=models.Index(
                fields=["to_stage", "at"],
                include=["opportunity", "id"],
                name="stagechange_to_at_opp_id",
            ),
        ),
        RemoveIndexConcurrently(model_name="stagechange", name="stagechange_to_at_opp"),
    ]
