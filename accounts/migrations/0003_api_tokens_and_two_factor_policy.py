"""Personal API tokens, and the per-role "requires two-factor sign-in" flag (on for
Administrator)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def administrators_require_two_factor(apps, schema_editor):
    RolePolicy = apps.get_model("accounts", "RolePolicy")
    RolePolicy.objects.filter(group__name="Administrator").update(require_two_factor=True)


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_create_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="rolepolicy",
            name="require_two_factor",
            field=models.BooleanField(
                default=False,
                help_text="Members must set up an authenticator app and enter its code at sign-in.",
                verbose_name="requires two-factor sign-in",
            ),
        ),
        migrations.RunPython(administrators_require_two_factor, noop),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "scope",
                    models.CharField(
                        choices=[("read", "Read"), ("write", "Read and write")],
                        default="read",
                        max_length=8,
                        verbose_name="scope",
                    ),
                ),
                ("prefix", models.CharField(editable=False, max_length=16, verbose_name="prefix")),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last used")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "API token",
                "verbose_name_plural": "API tokens",
                "ordering": ["-created_at"],
            },
        ),
    ]
