"""The scoping layer: each role against own, team and other records."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from guardian.shortcuts import assign_perm

from accounts import access
from accounts.models import RolePolicy, Scope, User
from contacts.models import Contact, ContactEmail

pytestmark = pytest.mark.django_db


def visible(user: User) -> set[int]:
    return set(access.scoped(user, Contact).values_list("pk", flat=True))


def changeable(user: User) -> set[int]:
    return set(access.scoped(user, Contact, "change").values_list("pk", flat=True))


@pytest.fixture
def records(own_contact: Contact, team_contact: Contact, other_contact: Contact) -> dict:
    return {"own": own_contact.pk, "team": team_contact.pk, "other": other_contact.pk}


@pytest.mark.parametrize(
    ("role", "sees", "changes"),
    [
        ("rep", {"own", "team"}, {"own", "team"}),
        ("rep_other_team", {"other"}, {"other"}),
        ("manager", {"own", "team", "other"}, {"own", "team"}),
        ("agent", {"own", "team", "other"}, set()),
        ("marketer", {"own", "team", "other"}, set()),
        ("read_only", {"own", "team", "other"}, set()),
        ("no_role", set(), set()),
        ("admin_user", {"own", "team", "other"}, {"own", "team", "other"}),
    ],
)
def test_role_matrix(request: pytest.FixtureRequest, records: dict, role: str, sees, changes):
    user = request.getfixturevalue(role)
    assert visible(user) == {records[k] for k in sees}
    assert changeable(user) == {records[k] for k in changes}
    for name, pk in records.items():
        contact = Contact.objects.get(pk=pk)
        assert access.can(user, contact, "view") == (name in sees)
        assert access.can(user, contact, "change") == (name in changes)


def test_rep_gets_404_for_other_team_contact(rep: User, other_contact: Contact):
    with pytest.raises(Http404):
        access.get_for_user_or_404(rep, Contact, other_contact.pk)


def test_malformed_and_missing_ids_are_404(rep: User):
    for pk in ("abc", None, 10**12, "1; drop table"):
        with pytest.raises(Http404):
            access.get_for_user_or_404(rep, Contact, pk)


def test_read_only_gets_403_when_changing_visible_contact(read_only: User, own_contact: Contact):
    assert access.get_for_user_or_404(read_only, Contact, own_contact.pk).pk == own_contact.pk
    with pytest.raises(PermissionDenied):
        access.get_for_user_or_404(read_only, Contact, own_contact.pk, action="change")


def test_guardian_grant_shares_one_record(rep: User, other_contact: Contact):
    assign_perm("contacts.view_contact", rep, other_contact)
    fresh = User.objects.get(pk=rep.pk)  # decisions are cached per user object
    assert other_contact.pk in visible(fresh)
    assert other_contact.pk not in changeable(fresh)
    assign_perm("contacts.change_contact", rep, other_contact)
    fresh = User.objects.get(pk=rep.pk)
    assert other_contact.pk in changeable(fresh)


def test_grant_to_a_group_shares_with_its_members(rep: User, other_contact: Contact):
    group = rep.groups.get()
    assign_perm("contacts.view_contact", group, other_contact)
    assert other_contact.pk in visible(User.objects.get(pk=rep.pk))


def test_grant_without_role_permission_still_shares(no_role: User, other_contact: Contact):
    assign_perm("contacts.view_contact", no_role, other_contact)
    assert visible(User.objects.get(pk=no_role.pk)) == {other_contact.pk}


def test_role_policy_is_configurable(rep: User, records: dict):
    RolePolicy.objects.filter(group__name="Sales rep").update(view_scope=Scope.OWN)
    assert visible(User.objects.get(pk=rep.pk)) == {records["own"]}


def test_child_rows_are_scoped_through_their_parent(rep: User, own_contact, other_contact):
    emails = set(access.scoped(rep, ContactEmail).values_list("contact_id", flat=True))
    assert emails == {own_contact.pk}


def test_inactive_and_anonymous_users_see_nothing(rep: User, own_contact: Contact):
    from django.contrib.auth.models import AnonymousUser

    assert not access.scoped(AnonymousUser(), Contact).exists()
    rep.is_active = False
    rep.save()
    assert not access.scoped(User.objects.get(pk=rep.pk), Contact).exists()


def test_decisions_cost_no_queries_once_cached(
    rep: User, own_contact: Contact, django_assert_num_queries
):
    access.can(rep, own_contact, "change")
    access.can(rep, own_contact, "view")
    with django_assert_num_queries(0):
        for _ in range(10):
            access.can(rep, own_contact, "change")
            access.can(rep, own_contact, "view")


def test_explicit_shares_of_every_model_cost_one_query(
    rep: User, rep_other_team: User, other_contact: Contact, django_assert_num_queries
):
    from contacts.models import Company
    from support.scope import ticket_facts
    from tests.contacts.factories import CompanyFactory

    company = CompanyFactory(owner=rep_other_team)
    assign_perm("contacts.change_contact", rep, other_contact)  # to the user
    assign_perm("contacts.view_company", rep.groups.get(), company)  # to the user's group
    fresh = User.objects.get(pk=rep.pk)
    access.role_data(fresh)  # the role rules (cached between requests), not what is measured
    ticket_facts(fresh)  # the roles' ticket scopes (support/scope.py), cached likewise
    # The first ask reads the shares of every model (user and group ones, one UNION ALL), so a
    # record page that asks about contacts, companies, leads, deals and tickets pays once.
    with django_assert_num_queries(1):
        assert access.can(fresh, other_contact, "change")
        assert access.can(fresh, company, "view")
        assert not access.can(fresh, company, "change")
        for model in access._grant_tables():
            access.scoped(fresh, model)
    assert set(access.scoped(fresh, Company).values_list("pk", flat=True)) >= {company.pk}


def test_a_model_without_direct_share_tables_is_refused() -> None:
    from django.contrib.auth.models import Group

    with pytest.raises(TypeError, match="direct object-permission tables"):
        access._granted_pks(User(pk=1), Group, "view")


def test_can_assign_follows_change_scope(rep, rep_teammate, rep_other_team, manager):
    assert access.can_assign(rep, Contact, rep)
    assert access.can_assign(rep, Contact, rep_teammate)
    assert not access.can_assign(rep, Contact, rep_other_team)
    assert access.can_assign(manager, Contact, rep)


def test_a_queryset_passed_in_is_intersected_with_the_scope(rep: User, own_contact, other_contact):
    everything = Contact.objects.all()
    assert access.get_for_user_or_404(rep, Contact, own_contact.pk, queryset=everything) is not None
    with pytest.raises(Http404):
        access.get_for_user_or_404(rep, Contact, other_contact.pk, queryset=everything)
    with pytest.raises(Http404):  # also when asking to change it
        access.get_for_user_or_404(
            rep, Contact, other_contact.pk, action="change", queryset=everything
        )


def test_a_queryset_passed_in_keeps_the_403_for_visible_records(read_only: User, own_contact):
    with pytest.raises(PermissionDenied):
        access.get_for_user_or_404(
            read_only, Contact, own_contact.pk, action="change", queryset=Contact.objects.all()
        )


def test_require_refuses_changes_outside_the_change_scope(
    rep: User, manager: User, own_contact, other_contact
):
    access.require(rep, own_contact, "change")
    access.require(manager, other_contact, "view")
    with pytest.raises(PermissionDenied):
        access.require(manager, other_contact, "change")  # sees all, changes the team's
    with pytest.raises(PermissionDenied):
        access.require(rep, other_contact, "view")
    with pytest.raises(PermissionDenied):
        access.require(rep, own_contact, "delete")  # reps have no delete permission


@pytest.mark.parametrize("role", ["rep", "manager", "agent", "read_only", "no_role", "admin_user"])
def test_assignable_owners_are_exactly_who_can_assign_allows(
    request: pytest.FixtureRequest, role: str, manager, rep_teammate, rep_other_team, marketer
):
    user = request.getfixturevalue(role)
    offered = set(access.assignable_owners(user, Contact))
    expected = {
        u for u in User.objects.filter(is_active=True) if access.can_assign(user, Contact, u)
    }
    assert offered == expected
    assert user in offered  # oneself, always
    if role == "rep":
        assert offered == {user, rep_teammate, manager}
