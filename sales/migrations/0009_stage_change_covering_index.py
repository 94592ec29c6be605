"""The stage-change indexes carry what the pipeline analytics read: by stage and time, the
deal's id (the deals with a stay begun in a period); by deal and time, the stage (each deal's
stays in order). Built concurrently (a big table): the new indexes first, then the old ones
dropped."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("sales", "0008_add_won_reasons"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="stagechange",
            index=models.Index(
                fields=["to_stage", "at"], include=["opportunity"], name="stagechange_to_at_opp"
            ),
        ),
        AddIndexConcurrently(
            model_name="stagechange",
            index=models.Index(
                fields=["opportunity", "at", "id"],
                include=["to_stage"],
                name="stagechange_opp_at_to",
            ),
        ),
        RemoveIndexConcurrently(model_name="stagechange", name="stagechange_to_at"),
        RemoveIndexConcurrently(model_name="stagechange", name="stagechange_opp_at"),
    ]
