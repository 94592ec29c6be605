"""Fewer indexes for contact inserts to maintain (an import writes thousands a second).

- contacts_contact.created_at: contact_active_created serves lists by date.
- contacts_contact.merged_into_id: replaced by a partial index on merged contacts only.
- contacts_contactemail.contact_id: contact_email_unique (contact_id, email) serves it.

The database side is explicit SQL: Django's AlterField(db_index=False) drops every index it finds
on the column, which here includes the unique contact_one_primary_email, and re-validates the
foreign keys over every row.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0006_contact_tag_ids"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="created"),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="merged_into",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.contact",
                        verbose_name="merged into",
                    ),
                ),
                migrations.AlterField(
                    model_name="contactemail",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="contacts.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "contacts_contact_created_at_8189cff1"',
                        'DROP INDEX IF EXISTS "contacts_contact_merged_into_id_940ac4a0"',
                        'DROP INDEX IF EXISTS "contacts_contactemail_contact_id_8dd35e56"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX "contacts_contact_created_at_8189cff1" '
                        'ON "contacts_contact" ("created_at")',
                        'CREATE INDEX "contacts_contact_merged_into_id_940ac4a0" '
                        'ON "contacts_contact" ("merged_into_id")',
                        'CREATE INDEX "contacts_contactemail_contact_id_8dd35e56" '
                        'ON "contacts_contactemail" ("contact_id")',
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", False)),
                fields=["merged_into"],
                name="contact_merged_into",
            ),
        ),
    ]
