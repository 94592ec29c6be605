"""Writes to users' own settings."""

from __future__ import annotations

from typing import Any

from auditlog.context import set_actor
from django.db import transaction

from accounts.models import User

PROFILE_FIELDS = (
    "first_name", "last_name", "name_order", "phone", "photo", "language", "time_zone",
)  # fmt: skip


@transaction.atomic
def user_update_profile(*, user: User, values: dict[str, Any]) -> User:
    """A user changes their own profile and preferences. Atomic; audited."""
    changed = [name for name in PROFILE_FIELDS if name in values]
    with set_actor(user):
        for name in changed:
            setattr(user, name, values[name])
        user.save(update_fields=changed)
    return user
