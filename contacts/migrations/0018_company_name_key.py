"""The company list's name sort key, lower case in byte order (contacts.lists.COMPANY_SORTS), as
an index: a search for a name's start ("acme") lists those companies first, read along this
index's range (crm.lists.NameFirst, issue 31)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.models.functions import Collate, Lower


class Migration(migrations.Migration):
    # Built concurrently (companies are written while it builds): not atomic.
    atomic = False

    dependencies = [
        ("contacts", "0017_add_next_step"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="company",
            index=models.Index(
                Collate(Lower("name"), "C"),
                models.F("id"),
                condition=models.Q(("archived_at__isnull", True)),
                name="company_active_name_key",
            ),
        ),
    ]
