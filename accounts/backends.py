"""Authentication backends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import ModelBackend

from accounts import access

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


class RoleBackend(ModelBackend):
    """Django's ModelBackend, with a user's role permissions taken from the scoping layer's
    cache (`accounts.access.role_data`) instead of two queries on every request."""

    def get_all_permissions(
        self, user_obj: AbstractBaseUser | AnonymousUser, obj: Any = None
    ) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(access.role_data(user_obj).perms)  # type: ignore[arg-type]
