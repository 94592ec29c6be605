"""Merging duplicates keeps every related record and follows the permission layer.

The cast: "East" has a manager (may merge, changes the team's contacts) and two reps (may not
merge); "West" has a rep. Fixtures live here so the module stands on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import assign_perm

from accounts.models import Team, User
from contacts import services
from contacts.merge import contact_merge, contact_merge_preview
from contacts.models import (
    Contact,
    ContactGroupObjectPermission,
    ContactUserObjectPermission,
    Tag,
)
from contacts.selectors import contact_search
from contacts.services import ContactInput, EmailInput, PhoneInput
from crm.errors import DomainError
from tests.roles import ensure_roles

pytestmark = pytest.mark.django_db


# --- the cast ------------------------------------------------------------------------------------


def make_user(email: str, team: Team | None, role: str) -> User:
    user = User.objects.create_user(email=email, password="secret-pass-123", team=team)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def roles(db: None) -> None:
    ContentType.objects.clear_cache()  # a flush by an earlier transactional test renumbers them
    ensure_roles()  # and deletes the roles the migrations made


@pytest.fixture
def east(roles: None) -> Team:
    return Team.objects.create(name="East")


@pytest.fixture
def west(roles: None) -> Team:
    return Team.objects.create(name="West")


@pytest.fixture
def manager(east: Team) -> User:
    return make_user("manager@example.com", east, "Sales manager")


@pytest.fixture
def rep(east: Team) -> User:
    return make_user("rep@example.com", east, "Sales rep")


@pytest.fixture
def teammate(east: Team) -> User:
    return make_user("teammate@example.com", east, "Sales rep")


@pytest.fixture
def west_rep(west: Team) -> User:
    return make_user("west@example.com", west, "Sales rep")


def make_contact(
    owner: User,
    *,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    tags: list[Tag] | None = None,
    **values: Any,
) -> Contact:
    return services.contact_create(
        data=ContactInput(
            values={"owner": owner, **values},
            emails=[EmailInput(e) for e in emails],
            phones=[PhoneInput(p) for p in phones],
            tags=tags,
        ),
        actor=owner,
    )


@pytest.fixture
def primary(rep: User) -> Contact:
    return make_contact(
        rep,
        given_name="Ann",
        family_name="Lee",
        department="Finance",
        emails=["ann@a.example"],
        phones=["+1 555 123 0000"],
        tags=[Tag.objects.create(name="VIP")],
    )


@pytest.fixture
def duplicate(teammate: User) -> Contact:
    return make_contact(
        teammate,
        given_name="Anne",
        family_name="Lee",
        job_title="CFO",
        department="Treasury",
        emails=["ann.lee@b.example", "ANN@a.example"],
        phones=["+1 (555) 123-0000", "+44 20 7946 0000"],
        tags=[Tag.objects.create(name="Hot")],
    )


@pytest.fixture
def west_contact(west_rep: User) -> Contact:
    return make_contact(west_rep, given_name="伟", family_name="张", emails=["ann@a.example"])


def reload(contact: Contact) -> Contact:
    return Contact.objects.get(pk=contact.pk)


# --- the service ---------------------------------------------------------------------------------


def test_merge_unites_emails_phones_and_tags(manager, primary, duplicate):
    merged = contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})

    emails = list(merged.emails.values_list("email", "is_primary"))
    assert emails == [("ann@a.example", True), ("ann.lee@b.example", False)]
    phones = list(merged.phones.values_list("number", "is_primary"))
    assert phones == [("+1 555 123 0000", True), ("+44 20 7946 0000", False)]
    assert merged.primary_email == "ann@a.example"
    assert merged.primary_phone == "+1 555 123 0000"
    assert sorted(merged.tags.values_list("name", flat=True)) == ["Hot", "VIP"]
    # The moved address is searchable on the primary.
    assert [c.pk for c in contact_search(user=manager, query="ann.lee@b.example")] == [primary.pk]


def test_merge_archives_the_duplicate_and_empties_it(manager, primary, duplicate):
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})

    dup = reload(duplicate)
    assert dup.merged_into_id == primary.pk
    assert dup.archived_at is not None
    assert not dup.emails.exists()
    assert not dup.phones.exists()
    assert dup.primary_email == ""
    assert reload(primary).archived_at is None


def test_field_choices_apply_and_blanks_take_the_duplicates_value(manager, primary, duplicate):
    merged = contact_merge(
        primary=primary,
        duplicate=duplicate,
        actor=manager,
        field_choices={"given_name": "duplicate", "department": "primary"},
    )

    merged = reload(merged)
    assert merged.given_name == "Anne"  # chosen
    assert merged.display_name == "Anne Lee"  # derived fields follow
    assert merged.department == "Finance"  # chosen
    assert merged.job_title == "CFO"  # not chosen, blank on the primary
    assert merged.owner_id == primary.owner_id  # not chosen: the primary's


def test_choosing_the_duplicates_owner_brings_its_team(manager, primary, duplicate, teammate):
    merged = contact_merge(
        primary=primary, duplicate=duplicate, actor=manager, field_choices={"owner": "duplicate"}
    )
    assert (merged.owner_id, merged.team_id) == (teammate.pk, teammate.team_id)


def test_a_primary_without_email_takes_the_duplicates_primary_one(manager, rep, duplicate):
    primary = make_contact(rep, given_name="Ann", family_name="Lee")
    merged = contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    assert merged.emails.get(is_primary=True).email == "ann.lee@b.example"
    assert merged.primary_email == "ann.lee@b.example"


def test_merge_writes_history_on_both(manager, primary, duplicate):
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})

    def merge_entry(contact: Contact) -> LogEntry:
        entries = LogEntry.objects.get_for_object(contact)
        return next(e for e in entries if "merge" in e.changes_dict)

    kept, gone = merge_entry(primary), merge_entry(duplicate)
    assert f"#{duplicate.pk}" in kept.changes_dict["merge"][1]
    assert "ann.lee@b.example" in kept.changes_dict["emails"][1]
    assert f"#{primary.pk}" in gone.changes_dict["merge"][1]
    assert kept.actor_id == gone.actor_id == manager.pk


def test_shares_move_to_the_primary_without_doubles(manager, primary, duplicate, west_rep):
    assign_perm("contacts.view_contact", west_rep, duplicate)
    assign_perm("contacts.change_contact", west_rep, duplicate)
    assign_perm("contacts.change_contact", west_rep, primary)  # already there: not doubled
    group = Group.objects.get(name="Support agent")
    assign_perm("contacts.view_contact", group, duplicate)

    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})

    user_shares = ContactUserObjectPermission.objects.filter(user=west_rep)
    assert sorted(user_shares.values_list("content_object_id", "permission__codename")) == [
        (primary.pk, "change_contact"),
        (primary.pk, "view_contact"),
    ]
    assert ContactGroupObjectPermission.objects.get(group=group).content_object_id == primary.pk


def test_contacts_merged_into_the_duplicate_follow_it(manager, rep, primary, duplicate):
    older = make_contact(rep, given_name="A.", family_name="Lee")
    contact_merge(primary=duplicate, duplicate=older, actor=manager, field_choices={})
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    assert reload(older).merged_into_id == primary.pk


@pytest.fixture
def later_app(db: None) -> Iterator[SimpleNamespace]:
    """Tables a later app might add (a note with a hidden relation, one membership per contact,
    an M2M), registered and created for one test; the test's rollback drops them."""

    class ProbeNote(models.Model):
        contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
        text = models.CharField(max_length=50)

        class Meta:
            app_label = "contacts"

        def __str__(self) -> str:
            return self.text

    class ProbeMembership(models.Model):
        contact = models.ForeignKey(
            Contact, on_delete=models.CASCADE, related_name="probe_memberships"
        )
        list_name = models.CharField(max_length=50)

        class Meta:
            app_label = "contacts"
            constraints = [
                models.UniqueConstraint(fields=["contact", "list_name"], name="probe_member_once")
            ]

        def __str__(self) -> str:
            return self.list_name

    class ProbeCampaign(models.Model):
        name = models.CharField(max_length=50)
        members = models.ManyToManyField(Contact, related_name="probe_campaigns")

        class Meta:
            app_label = "contacts"

        def __str__(self) -> str:
            return self.name

    created = [ProbeNote, ProbeMembership, ProbeCampaign]
    with connection.schema_editor() as editor:
        for model in created:
            editor.create_model(model)
    try:
        yield SimpleNamespace(note=ProbeNote, membership=ProbeMembership, campaign=ProbeCampaign)
    finally:
        registry = apps.all_models["contacts"]
        for model in [*created, ProbeCampaign.members.through]:
            registry.pop(model._meta.model_name, None)
        for accessor in ("probe_memberships", "probe_campaigns"):
            if hasattr(Contact, accessor):
                delattr(Contact, accessor)
        apps.clear_cache()


def test_records_of_later_apps_move_to_the_primary(manager, primary, duplicate, later_app):
    notes = [later_app.note.objects.create(contact=duplicate, text=str(i)) for i in range(3)]
    later_app.membership.objects.create(contact=primary, list_name="newsletter")
    clash = later_app.membership.objects.create(contact=duplicate, list_name="newsletter")
    events = later_app.membership.objects.create(contact=duplicate, list_name="events")
    spring, autumn = (later_app.campaign.objects.create(name=n) for n in ("spring", "autumn"))
    spring.members.add(primary, duplicate)
    autumn.members.add(duplicate)

    preview = contact_merge_preview(primary=primary, duplicate=duplicate)
    counts = {item.label: item.count for item in preview.related}
    assert counts["probe notes"] == 3
    assert counts["probe memberships"] == 2
    assert counts["probe campaigns"] == 2

    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})

    assert {n.contact_id for n in later_app.note.objects.filter(pk__in=[n.pk for n in notes])} == {
        primary.pk
    }
    events.refresh_from_db()
    clash.refresh_from_db()  # kept, on the duplicate: the primary is a member already
    assert (events.contact_id, clash.contact_id) == (primary.pk, duplicate.pk)
    assert sorted(primary.probe_campaigns.values_list("name", flat=True)) == ["autumn", "spring"]
    assert not duplicate.probe_campaigns.exists()


def test_merging_a_contact_into_itself_is_refused(manager, primary):
    with pytest.raises(DomainError, match="itself"):
        contact_merge(primary=primary, duplicate=primary, actor=manager, field_choices={})


def test_an_already_merged_contact_cannot_be_merged_again(manager, rep, primary, duplicate):
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    third = make_contact(rep, given_name="Ann", family_name="Lee")
    with pytest.raises(DomainError, match="already merged"):
        contact_merge(primary=third, duplicate=duplicate, actor=manager, field_choices={})
    with pytest.raises(DomainError, match="already merged"):
        contact_merge(primary=duplicate, duplicate=third, actor=manager, field_choices={})


def test_an_archived_contact_cannot_be_merged(manager, primary, duplicate):
    services.contact_archive(contact=duplicate, actor=manager)
    with pytest.raises(DomainError, match="archived"):
        contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})


def test_both_contacts_must_be_changeable_by_the_actor(manager, primary, west_contact):
    # The manager sees every contact but changes only the team's.
    with pytest.raises(DomainError, match="may not change"):
        contact_merge(primary=primary, duplicate=west_contact, actor=manager, field_choices={})
    assert reload(west_contact).archived_at is None


def test_the_duplicates_owner_must_be_assignable(manager, primary, west_contact):
    assign_perm("contacts.change_contact", manager, west_contact)  # shared for changing
    with pytest.raises(DomainError, match="owner"):
        contact_merge(
            primary=primary,
            duplicate=west_contact,
            actor=manager,
            field_choices={"owner": "duplicate"},
        )
    assert reload(west_contact).archived_at is None  # nothing happened


def test_bad_field_choices_are_refused(manager, primary, duplicate):
    with pytest.raises(DomainError):
        contact_merge(
            primary=primary, duplicate=duplicate, actor=manager, field_choices={"notes": "both"}
        )
    with pytest.raises(DomainError):
        contact_merge(
            primary=primary, duplicate=duplicate, actor=manager, field_choices={"id": "primary"}
        )
    assert reload(duplicate).merged_into_id is None


# --- the screen ----------------------------------------------------------------------------------


def merge_url(contact: Contact) -> str:
    return reverse("contacts:contact-merge", args=[contact.pk])


def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_anonymous_goes_to_login(client, primary):
    response = client.get(merge_url(primary))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_rep_without_merge_permission_gets_403(client, rep, primary):
    assert logged_in(client, rep).get(merge_url(primary)).status_code == 403


def test_manager_sees_the_candidates_and_can_search(client, manager, primary, duplicate):
    logged_in(client, manager)
    page = client.get(merge_url(primary))
    assert page.status_code == 200
    assert f"?other={duplicate.pk}" in page.content.decode()  # shares an email

    found = client.get(merge_url(primary), {"q": "Anne"}, headers={"HX-Request": "true"})
    html = found.content.decode()
    assert found.status_code == 200
    assert html.lstrip().startswith('<ul class="list-group')  # only the results fragment
    assert f"?other={duplicate.pk}" in html


def test_comparison_shows_choices_and_the_result(client, manager, primary, duplicate, west_rep):
    assign_perm("contacts.view_contact", west_rep, duplicate)
    page = logged_in(client, manager).get(merge_url(primary), {"other": duplicate.pk})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="choice-given_name"' in html
    assert 'name="choice-family_name"' not in html  # the same on both
    assert "CFO" in html
    assert "ann.lee@b.example" in html
    assert "+44 20 7946 0000" in html
    assert "Hot" in html
    assert "Shares with users or groups: 1" in html


def test_post_merges_and_goes_back_to_the_primary(client, manager, primary, duplicate):
    response = logged_in(client, manager).post(
        merge_url(primary), {"other": duplicate.pk, "choice-given_name": "duplicate"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[primary.pk])
    assert reload(primary).given_name == "Anne"
    assert reload(duplicate).merged_into_id == primary.pk
    page = client.get(response["Location"])
    assert "was merged into this contact" in page.content.decode()


def test_rep_with_merge_permission_gets_404_for_other_team_contact(
    client, rep, primary, west_contact
):
    rep.user_permissions.add(Permission.objects.get(codename="merge_contact"))
    logged_in(client, rep)
    assert client.get(merge_url(primary), {"other": west_contact.pk}).status_code == 404
    assert client.get(merge_url(west_contact)).status_code == 404
    assert client.post(merge_url(primary), {"other": west_contact.pk}).status_code == 404
    assert reload(west_contact).archived_at is None


def test_visible_but_unchangeable_duplicate_is_403(client, manager, primary, west_contact):
    response = logged_in(client, manager).get(merge_url(primary), {"other": west_contact.pk})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose the contact to merge"),
        ({"other": "abc"}, "Choose the contact to merge"),
        ({"other": "self"}, "cannot be merged with itself"),
    ],
)
def test_bad_other_is_422_with_a_message(client, manager, primary, data, message):
    if data.get("other") == "self":
        data = {"other": primary.pk}
    response = logged_in(client, manager).post(merge_url(primary), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert reload(primary).archived_at is None


def test_unknown_other_is_404(client, manager, primary):
    assert logged_in(client, manager).get(merge_url(primary), {"other": 10**9}).status_code == 404


def test_merging_an_already_merged_contact_is_422(client, manager, rep, primary, duplicate):
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    third = make_contact(rep, given_name="Ann", family_name="Lee")
    response = logged_in(client, manager).post(merge_url(third), {"other": duplicate.pk})
    assert response.status_code == 422
    assert "already merged" in response.content.decode()


def test_a_bad_choice_re_renders_the_comparison_with_422(client, manager, primary, duplicate):
    response = logged_in(client, manager).post(
        merge_url(primary), {"other": duplicate.pk, "choice-notes": "both"}
    )
    assert response.status_code == 422
    assert 'id="merge-error"' in response.content.decode()
    assert reload(duplicate).merged_into_id is None


def test_a_merged_contact_cannot_take_in_another(client, manager, primary, duplicate):
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    response = logged_in(client, manager).get(merge_url(duplicate))
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[duplicate.pk])
