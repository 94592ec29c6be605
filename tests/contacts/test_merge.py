"""Merging duplicates keeps every related record and follows the permission layer."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from guardian.shortcuts import assign_perm

from contacts.merge import contact_merge
from contacts.models import Contact, ContactUserObjectPermission
from crm.errors import DomainError
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(rep, rep_teammate):
    vip, hot = TagFactory(name="VIP"), TagFactory(name="Hot")
    keep = ContactFactory(
        owner=rep, given_name="Ann", family_name="Lee", emails=["ann@a.example"], tags=[vip]
    )
    dup = ContactFactory(
        owner=rep_teammate,
        given_name="Anne",
        family_name="Lee",
        job_title="CFO",
        emails=["ann@a.example", "ann.lee@b.example"],
        phones=["+1 555 123 0000"],
        tags=[hot],
    )
    return keep, dup


def test_merge_moves_everything_and_archives_the_duplicate(manager, rep_other_team, pair):
    keep, dup = pair
    assign_perm("contacts.view_contact", rep_other_team, dup)
    merged = contact_merge(
        primary=keep, duplicate=dup, actor=manager, field_choices={"given_name": "duplicate"}
    )
    assert merged.given_name == "Anne"
    assert merged.job_title == "CFO"  # blank on the primary, so the duplicate's value is kept
    assert sorted(merged.emails.values_list("email", flat=True)) == [
        "ann.lee@b.example",
        "ann@a.example",
    ]
    assert merged.primary_email == "ann@a.example"
    assert merged.primary_phone == "+1 555 123 0000"
    assert {t.name for t in merged.tags.all()} == {"VIP", "Hot"}
    assert ContactUserObjectPermission.objects.filter(
        content_object=keep, user=rep_other_team
    ).exists()
    dup.refresh_from_db()
    assert dup.merged_into == keep
    assert dup.archived_at is not None
    assert not dup.emails.exists()
    assert any("merge" in e.changes_dict for e in LogEntry.objects.get_for_object(keep))
    assert any("merge" in e.changes_dict for e in LogEntry.objects.get_for_object(dup))


def test_merge_rules(manager, pair, rep):
    keep, dup = pair
    with pytest.raises(DomainError):
        contact_merge(primary=keep, duplicate=keep, actor=manager, field_choices={})
    contact_merge(primary=keep, duplicate=dup, actor=manager, field_choices={})
    with pytest.raises(DomainError):
        contact_merge(primary=keep, duplicate=Contact.objects.get(pk=dup.pk), actor=manager,
                      field_choices={})  # fmt: skip


def test_merged_contact_cannot_be_restored(manager, pair, client):
    keep, dup = pair
    contact_merge(primary=keep, duplicate=dup, actor=manager, field_choices={})
    client.force_login(manager)
    response = client.post(reverse("contacts:contact-restore", args=[dup.pk]), follow=True)
    assert "merged into another one" in response.content.decode()
    assert Contact.objects.get(pk=dup.pk).archived_at is not None


def test_merge_views(client, rep, manager, pair, other_contact):
    keep, dup = pair
    url = reverse("contacts:contact-merge", args=[keep.pk])
    client.force_login(rep)
    assert client.get(url).status_code == 403  # reps have no merge permission
    client.force_login(manager)
    page = client.get(url).content.decode()
    assert "Anne Lee" in page  # found by the shared email
    page = client.get(url, {"other": dup.pk}).content.decode()
    assert "CFO" in page
    assert client.get(url, {"other": "nonsense"}).status_code == 404
    response = client.post(url, {"other": dup.pk, "choice-given_name": "duplicate"})
    assert response.status_code == 302
    assert Contact.objects.get(pk=keep.pk).given_name == "Anne"


def test_merge_of_invisible_contact_is_404(client, rep_other_team, team_west, other_contact, pair):
    from tests.accounts.factories import UserFactory

    west_manager = UserFactory(email="wm@example.com", team=team_west, role="Sales manager")
    from accounts.models import RolePolicy

    RolePolicy.objects.filter(group__name="Sales manager").update(view_scope="team")
    keep, _dup = pair
    client.force_login(west_manager)
    url = reverse("contacts:contact-merge", args=[other_contact.pk])
    assert client.get(url, {"other": keep.pk}).status_code == 404


def test_anonymous_goes_to_login(client, pair):
    keep, _dup = pair
    response = client.get(reverse("contacts:contact-merge", args=[keep.pk]))
    assert response.status_code == 302
