"""Re-creates the built-in roles after a transactional test flushed the tables.

The roles come from data migrations, and a flush (after `transaction=True` tests and the live
server) deletes them; this runs those same migration functions again, so tests use exactly the
roles production has.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

ROLE_MIGRATIONS = [
    "accounts.migrations.0002_create_roles",
    "contacts.migrations.0002_grant_role_permissions",
]


def ensure_roles() -> None:
    if Group.objects.filter(policy__isnull=False).count() >= 6:
        return
    ContentType.objects.clear_cache()  # the flush re-created content types with new ids
    for name in ROLE_MIGRATIONS:
        importlib.import_module(name).forwards(apps, None)
    # Every app's declared grants (accounts/grants.py), as `migrate` leaves them.
    from accounts.grants import sync_role_grants

    sync_role_grants()
