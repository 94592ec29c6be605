"""The contact search and tag GIN indexes also hold team_id and owner_id (btree_gin, created by
0006), so a rep's search or stage + tag reads only their scope (contacts/scope_led.py, issue 31;
bench/results/2026-11-30-scope-led.md). The three indexes are replaced, not added: at a million
contacts rebuilding them takes minutes (the trigram one the longest)."""

import django.contrib.postgres.indexes
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_name_order"),
        ("contacts", "0014_importjob_entity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_search_trgm",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_search_fts",
        ),
        migrations.RemoveIndex(
            model_name="contact",
            name="contact_active_tags",
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["tag_ids", "lifecycle_stage", "team", "owner"],
                name="contact_active_tags",
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_text", "team", "owner"],
                name="contact_search_trgm",
                opclasses=["gin_trgm_ops", "int8_ops", "int8_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector", "team", "owner"], name="contact_search_fts"
            ),
        ),
    ]
