"""Contacts and companies remember when they were last contacted (contacts.activities keeps it).

Nullable columns without a default: adding them rewrites no rows, even at a million contacts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_search_cjk_characters"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="last_contacted_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last contacted"
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="last_contacted_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="last contacted"
            ),
        ),
    ]
