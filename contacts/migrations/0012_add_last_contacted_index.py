"""Keyset pages and date filters on "last contacted": a partial index (last_contacted_at, id) over
active records, built concurrently (no write lock on a million-row table)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contacts", "0011_import_values_external_ids_private_files"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="company",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["last_contacted_at", "id"],
                name="company_active_contacted",
            ),
        ),
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["last_contacted_at", "id"],
                name="contact_active_contacted",
            ),
        ),
    ]
