# Files uploaded to a lead by hand (leads/file_models.py), kept in private storage. After 0006
# (tracking), which was written at the same time in the shared tree.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import crm.storage
import leads.file_models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_name_order"),
        ("contacts", "0015_scope_led_search_and_tag_indexes"),
        ("leads", "0006_lead_visitor_and_tracking_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("filename", models.CharField(max_length=255, verbose_name="file name")),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("size", models.PositiveBigIntegerField(default=0, verbose_name="size")),
                (
                    "file",
                    models.FileField(
                        max_length=200,
                        storage=crm.storage.private_storage,
                        upload_to=leads.file_models.lead_file_upload_to,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="uploaded")),
                (
                    "company",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.company",
                    ),
                ),
                (
                    "contact",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.contact",
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="files",
                        to="leads.lead",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uploaded by",
                    ),
                ),
            ],
            options={
                "verbose_name": "lead file",
                "verbose_name_plural": "lead files",
                "indexes": [
                    models.Index(fields=["lead", "-created_at", "-id"], name="leadfile_lead_time"),
                    models.Index(
                        condition=models.Q(("contact__isnull", False)),
                        fields=["contact", "-created_at", "-id"],
                        name="leadfile_contact_time",
                    ),
                    models.Index(
                        condition=models.Q(("company__isnull", False)),
                        fields=["company", "-created_at", "-id"],
                        name="leadfile_company_time",
                    ),
                ],
            },
        ),
    ]
