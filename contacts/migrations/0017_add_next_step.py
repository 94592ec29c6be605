from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The indexes are built concurrently (a million contacts, writes go on): not atomic. The
    # new columns are metadata-only changes (NULL, and a constant database default).
    atomic = False

    dependencies = [
        ("contacts", "0016_id_scope_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="next_step",
            field=models.CharField(
                blank=True, db_default="", editable=False, max_length=200, verbose_name="next step"
            ),
        ),
        migrations.AddField(
            model_name="company",
            name="next_step_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="next step due"
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="next_step",
            field=models.CharField(
                blank=True, db_default="", editable=False, max_length=200, verbose_name="next step"
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="next_step_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="next step due"
            ),
        ),
        AddIndexConcurrently(
            model_name="company",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["next_step_at", "id"],
                name="company_active_next_step",
            ),
        ),
        AddIndexConcurrently(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["next_step_at", "id"],
                name="contact_active_next_step",
            ),
        ),
    ]
