"""What a user's roles allow is kept between requests, and dropped as soon as roles change.

These tests commit (transactional_db): role data is only stored outside a transaction, and the
role version moves on commit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import transaction

from accounts import access
from accounts.models import RolePolicy, Scope, User
from contacts.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def fresh(user: User) -> User:
    """The user as the next request loads it: nothing cached on the object."""
    return User.objects.get(pk=user.pk)


def visible(user: User) -> set[int]:
    return set(access.scoped(fresh(user), Contact).values_list("pk", flat=True))


def test_role_data_costs_no_query_on_the_next_request(rep: User, django_assert_num_queries):
    first = access.role_data(fresh(rep))
    user = fresh(rep)
    with django_assert_num_queries(0):
        assert access.role_data(user) == first
        assert user.has_perm("contacts.view_contact")
    assert "contacts.view_contact" in first.perms
    assert first.view_scope == Scope.TEAM


def test_joining_a_group_shows_on_the_next_request(rep: User, records: dict):
    assert visible(rep) == {records["own"], records["team"]}
    fresh(rep).groups.add(Group.objects.get(name="Sales manager"))
    assert visible(rep) == {records["own"], records["team"], records["other"]}
    assert access.role_data(fresh(rep)).view_scope == Scope.ALL


def test_leaving_every_group_shows_on_the_next_request(rep: User, records: dict):
    assert visible(rep)
    fresh(rep).groups.clear()
    assert visible(rep) == set()
    assert not fresh(rep).has_perm("contacts.view_contact")


def test_a_role_policy_change_shows_on_the_next_request(rep: User, records: dict):
    assert visible(rep) == {records["own"], records["team"]}
    policy = RolePolicy.objects.get(group__name="Sales rep")
    policy.view_scope = Scope.OWN
    policy.save()
    assert visible(rep) == {records["own"]}


def test_removing_a_permission_from_a_role_shows_on_the_next_request(rep: User):
    assert fresh(rep).has_perm("contacts.export_contact")
    Group.objects.get(name="Sales rep").permissions.remove(
        Permission.objects.get(codename="export_contact")
    )
    assert not fresh(rep).has_perm("contacts.export_contact")


def test_a_direct_user_permission_shows_on_the_next_request(agent: User):
    assert not fresh(agent).has_perm("contacts.merge_contact")
    fresh(agent).user_permissions.add(Permission.objects.get(codename="merge_contact"))
    assert fresh(agent).has_perm("contacts.merge_contact")


def test_role_data_read_inside_a_transaction_is_not_stored(rep: User):
    cache.delete(f"roles:{rep.pk}")
    with transaction.atomic():
        fresh(rep).groups.clear()
        assert access.role_data(fresh(rep)).perms == frozenset()
        transaction.set_rollback(True)
    assert cache.get(f"roles:{rep.pk}") is None
    assert fresh(rep).has_perm("contacts.view_contact")


def test_a_lost_version_key_invalidates_every_entry(rep: User):
    access.role_data(fresh(rep))
    cache.delete("version:roles")
    fresh(rep).groups.clear()  # bumps a version that no longer exists
    assert not fresh(rep).has_perm("contacts.view_contact")


@pytest.fixture
def records(own_contact: Contact, team_contact: Contact, other_contact: Contact) -> dict:
    return {"own": own_contact.pk, "team": team_contact.pk, "other": other_contact.pk}
