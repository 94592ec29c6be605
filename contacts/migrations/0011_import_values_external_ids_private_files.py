"""Imports from other CRMs and private uploads.

- Contact.external_source / external_id: the id a contact has in the system it was imported from,
  unique per source (a partial unique index, empty while no import sets it: cheap to build). The
  columns have a database default, so adding them rewrites no rows and COPY writers that do not
  name them still work.
- ImportJob: value mapping, owner mapping, update mode, partial imports (counts and the file of
  rejected rows).
- Uploaded files move from MEDIA_ROOT (served under /media/ by `make run`) to PRIVATE_ROOT under
  random names (crm/storage.py). The reverse moves them back under their random names.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import migrations, models

import crm.storage


def _move(apps: Any, source_root: Path, target_root: Path, rename: bool) -> None:
    ImportJob = apps.get_model("contacts", "ImportJob")
    for job in ImportJob.objects.exclude(file="").only("id", "file").iterator():
        old = source_root / job.file.name
        if not old.is_file():
            continue
        name = f"imports/{uuid.uuid4().hex}{old.suffix.lower()}" if rename else job.file.name
        new = target_root / name
        new.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(old, new)
        ImportJob.objects.filter(pk=job.pk).update(file=name)


def to_private(apps: Any, schema_editor: Any) -> None:
    _move(apps, Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_ROOT), rename=True)


def to_media(apps: Any, schema_editor: Any) -> None:
    _move(apps, Path(settings.PRIVATE_ROOT), Path(settings.MEDIA_ROOT), rename=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_add_last_contacted_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="external_id",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=100,
                verbose_name="id in the source system",
            ),
        ),
        migrations.AddField(
            model_name="contact",
            name="external_source",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=40,
                verbose_name="imported from",
            ),
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_id", ""), _negated=True),
                fields=("external_source", "external_id"),
                name="contact_external_id_unique",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="column_values",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="importjob",
            name="day_first",
            field=models.BooleanField(default=False, verbose_name="dates are day first"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="external_source",
            field=models.CharField(blank=True, max_length=40, verbose_name="source system"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="keep_valid",
            field=models.BooleanField(
                default=False, verbose_name="import the valid rows, set the others aside"
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="rejected_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importjob",
            name="rejected_file",
            field=models.FileField(
                blank=True,
                storage=crm.storage.private_storage,
                upload_to=crm.storage.import_upload_to,
                verbose_name="rejected rows",
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="unknown_owner_error",
            field=models.BooleanField(
                default=False, verbose_name="an unknown owner is a row error"
            ),
        ),
        migrations.AddField(
            model_name="importjob",
            name="unknown_values",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="importjob",
            name="updated_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importjob",
            name="value_map",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="importjob",
            name="write_mode",
            field=models.CharField(
                choices=[
                    ("create", "Create new contacts only"),
                    ("update", "Update existing contacts only"),
                    ("both", "Update existing contacts and create the others"),
                ],
                default="create",
                max_length=8,
                verbose_name="existing contacts",
            ),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="file",
            field=models.FileField(
                storage=crm.storage.private_storage,
                upload_to=crm.storage.import_upload_to,
                verbose_name="file",
            ),
        ),
        migrations.RunPython(to_private, to_media, elidable=True),
    ]
