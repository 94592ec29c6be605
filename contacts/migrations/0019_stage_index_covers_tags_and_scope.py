"""contact_stage_name (lifecycle_stage, sort_name, id) becomes contact_stage_tags, the same keys
INCLUDE (tag_ids, owner_id, team_id): stage + tag for a rep is then read along it index-only and
stops after a page (issue 31, bench/results/2026-12-01-flat-1m.md). Built concurrently
(it must not lock writes at ten million contacts), then the old index dropped."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0018_company_name_key"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["lifecycle_stage", "sort_name", "id"],
                include=["tag_ids", "owner", "team"],
                name="contact_stage_tags",
            ),
        ),
        RemoveIndexConcurrently(model_name="contact", name="contact_stage_name"),
    ]
