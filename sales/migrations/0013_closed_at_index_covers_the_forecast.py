"""The closed-date index also holds what the forecast sums of a period's won deals (stage,
team, owner, currency, amount, archived), so they are read from the index alone
(`selectors.forecast`, `rep_forecast.rep_breakdown`: 4,112 -> 101 blocks for a team's quarter at
300,000 deals). Replaced, not added: built concurrently, the old one dropped after the new one
is there."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sales", "0012_stage_change_period_index_holds_id"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="opportunity",
            index=models.Index(
                fields=["closed_at", "id"],
                include=("stage", "team", "owner", "currency", "amount", "archived_at"),
                name="opp_closed_cover",
            ),
        ),
        RemoveIndexConcurrently(model_name="opportunity", name="opp_closed_at"),
    ]
