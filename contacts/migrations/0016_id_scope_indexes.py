"""Covering indexes (id) INCLUDE (owner_id, team_id) on contacts and companies, so the permission
layer's per-row probe (accounts.access: a ticket seen through its requester or company,
`EXISTS (... WHERE id = fk AND id <= fk AND (owner_id = me OR team_id = my team))`) is an
index-only scan. They belong to contacts' tables, hence contacts' Meta and this migration,
though support's view-through is what needs them now (any ACCESS_VIEW_THROUGH onto a contact or
company uses them). Built concurrently: at a million contacts it takes a while and must not
lock writes. bench/results/2026-11-30-support-viewthrough-index.md"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0015_scope_led_search_and_tag_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="company",
            index=models.Index(fields=["id"], include=["owner", "team"], name="company_id_scope"),
        ),
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(fields=["id"], include=["owner", "team"], name="contact_id_scope"),
        ),
    ]
