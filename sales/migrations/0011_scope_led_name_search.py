"""The deal name's trigram index also holds team_id and owner_id (btree_gin, created by contacts
0006), so a rep's search reads only the matches of their scope (sales.filters, contacts.scope_led;
bench/results/2026-12-01-sales-search-pipeline.md). Replaced, not added (one index to keep up);
built concurrently, the old one dropped after the new one is there."""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0015_scope_led_search_and_tag_indexes"),
        ("sales", "0010_products_and_deal_lines"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="opportunity",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("name"), name="gin_trgm_ops"
                ),
                django.contrib.postgres.indexes.OpClass(models.F("team"), name="int8_ops"),
                django.contrib.postgres.indexes.OpClass(models.F("owner"), name="int8_ops"),
                name="opp_name_trgm_scope",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="opportunity",
            name="opp_name_upper_trgm",
        ),
    ]
