"""Leads carry their tags as ids (crm.tags): the column, filled from the link table, and its
GIN index with the status."""

import django.contrib.postgres.indexes
from django.conf import settings
from django.db import migrations, models

import crm.tags


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_name_order"),
        ("contacts", "0013_tag_ids_fields_without_triggers"),
        ("leads", "0002_forms_assignment_scoring"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="tag_ids",
            field=crm.tags.TagIdsField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                editable=False,
                size=None,
                verbose_name="tags",
            ),
        ),
        # Existing leads' tags, from their link rows (a small table: one statement).
        migrations.RunSQL(
            "UPDATE leads_lead l SET tag_ids = t.ids FROM (SELECT lead_id, "
            "array_agg(tag_id ORDER BY tag_id) AS ids FROM leads_lead_tags GROUP BY lead_id) t "
            "WHERE t.lead_id = l.id",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="lead",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["tag_ids", "status"],
                name="lead_active_tags",
            ),
        ),
    ]
