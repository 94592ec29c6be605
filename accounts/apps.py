from typing import Any

from django.apps import AppConfig
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth.models import Group, Permission

        from accounts import lockout, twofactor  # noqa: F401  (signal receivers, lock-out task)
        from accounts.models import ApiToken, RolePolicy, Team, User

        auditlog.register(User, exclude_fields=["password", "last_login"])
        auditlog.register(ApiToken, exclude_fields=["key_hash", "last_used_at"])

        # Role groups hold exactly what each app's grants.py declares (accounts/grants.py).
        from django.db.models.signals import post_migrate

        from accounts.grants import sync_role_grants

        post_migrate.connect(sync_role_grants, sender=self, dispatch_uid="sync-role-grants")
        auditlog.register(Team)
        auditlog.register(RolePolicy)

        # Change histories name a foreign key's target only if the viewer may see it.
        from crm import history

        history.register_visibility(_history_scope)

        # Cache bookkeeping: any change to roles, their permissions or who holds them drops the
        # role data kept between requests (accounts.access.role_data).
        for model in (RolePolicy, Group, Permission):
            post_save.connect(_roles_changed, sender=model, dispatch_uid="role-version-save")
            post_delete.connect(_roles_changed, sender=model, dispatch_uid="role-version-delete")
        for through in (
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(_roles_changed, sender=through, dispatch_uid="role-version-m2m")
        # Owner option lists show users' names (contacts.selectors.owner_options).
        for user_model in (User, Team):
            post_save.connect(_users_changed, sender=user_model, dispatch_uid="users-version-save")
            post_delete.connect(
                _users_changed, sender=user_model, dispatch_uid="users-version-delete"
            )


def _roles_changed(sender: type[Model], **kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("post_"):
        from crm import cache

        cache.bump("roles")


def _users_changed(sender: type[Model], **kwargs: Any) -> None:
    if kwargs.get("update_fields") == frozenset({"last_login"}):  # a sign-in changes no name
        return
    from crm import cache

    cache.bump("users")


def _history_scope(viewer: Any, model: type[Model]) -> Any:
    """The rows of `model` a history may name for `viewer`: scoped for records the permission
    door guards (owned, or through a parent), None (all) for the rest (users, teams, stages)."""
    from accounts import access
    from accounts.models import OwnedModel

    if issubclass(model, OwnedModel) or getattr(model, "ACCESS_PARENT", None):
        return access.scoped(viewer, model)
    return None
