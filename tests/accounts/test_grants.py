"""Role grants are declared by each app (accounts/grants.py registry) and kept by post_migrate."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission

from accounts import grants
from accounts.models import Role

pytestmark = pytest.mark.django_db


def _held(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    pairs = group.permissions.values_list("content_type__app_label", "codename")
    return {f"{app}.{codename}" for app, codename in pairs}


def _declared_content_types() -> set[int]:
    every = {p for role in Role.values for p in grants.role_permissions(role)}
    return {
        p.content_type_id
        for p in Permission.objects.select_related("content_type")
        if f"{p.content_type.app_label}.{p.codename}" in every
    }


@pytest.mark.parametrize("role", Role.values)
def test_migrated_role_groups_hold_exactly_the_declared_grants(role: str):
    """The test database was made by `migrate`, so post_migrate's sync has run."""
    group = Group.objects.get(name=role)
    held = {
        f"{app}.{codename}"
        for app, codename in group.permissions.filter(
            content_type_id__in=_declared_content_types()
        ).values_list("content_type__app_label", "codename")
    }
    assert held == grants.role_permissions(role)
    assert held


def test_contacts_declaration_matches_its_historic_migration():
    migration = importlib.import_module("contacts.migrations.0002_grant_role_permissions")
    for role, models in migration.GRANTS.items():
        from_migration = {
            f"contacts.{action}_{model}" for model, actions in models.items() for action in actions
        }
        declared = {p for p in grants.role_permissions(role) if p.startswith("contacts.")}
        assert declared == from_migration, role


def test_sync_adds_missing_and_removes_undeclared_grants():
    rep = Group.objects.get(name=Role.SALES_REP)
    delete_contact = Permission.objects.get(codename="delete_contact")
    view_contact = Permission.objects.get(codename="view_contact")
    rep.permissions.add(delete_contact)  # an undeclared grant on a managed model
    rep.permissions.remove(view_contact)  # a declared grant gone missing
    grants.sync_role_grants(apps=global_apps)
    held = set(rep.permissions.all())
    assert view_contact in held
    assert delete_contact not in held
    assert _held(Role.SALES_REP) >= grants.role_permissions(Role.SALES_REP)


def test_sync_leaves_permissions_of_undeclared_models_alone():
    rep = Group.objects.get(name=Role.SALES_REP)
    unmanaged = Permission.objects.get(codename="view_importjob")  # contacts declares no grant
    rep.permissions.add(unmanaged)
    grants.sync_role_grants(apps=global_apps)
    assert rep.permissions.filter(pk=unmanaged.pk).exists()


def test_unknown_roles_are_refused():
    with pytest.raises(ValueError, match="unknown roles"):
        grants.register("contacts", {"Sales wizard": ["view_contact"]})


def test_every_declared_permission_exists():
    """A typo in an app's grants.py is only logged by the sync (migrate must work): caught here."""
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    for role in Role.values:
        assert grants.role_permissions(role) <= existing, role


def test_the_sync_skips_unknown_permissions_and_keeps_the_rest(caplog):
    saved = grants.declared()["contacts"]
    grants.register("contacts", {**saved, Role.SALES_REP: [*saved[Role.SALES_REP], "fly_contact"]})
    try:
        grants.sync_role_grants(apps=global_apps)
    finally:
        grants.register("contacts", saved)
    assert "fly_contact" in caplog.text
    assert "contacts.view_contact" in _held(Role.SALES_REP)


def test_roles_recreated_after_a_flush_hold_every_apps_declared_grants():
    from tests.roles import ensure_roles

    Group.objects.filter(name__in=Role.values).delete()  # what a transactional test's flush does
    ensure_roles()
    for role in Role.values:
        assert _held(role) >= grants.role_permissions(role), role
