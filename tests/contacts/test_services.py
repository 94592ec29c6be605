"""Contact and company services: derived fields, rules, duplicates, audit."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from contacts import merge, services
from contacts.models import Contact, NameOrder
from crm.errors import DomainError
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_chinese_names_run_together_and_western_names_are_spaced():
    assert services.contact_names("伟", "张", NameOrder.FAMILY_FIRST) == ("张伟", "张 伟")
    assert services.contact_names("John", "Smith", NameOrder.GIVEN_FIRST) == (
        "John Smith",
        "smith john",
    )
    assert services.contact_names("Wei", "Zhang", NameOrder.FAMILY_FIRST)[0] == "Zhang Wei"


def test_create_sets_primary_email_phone_team_and_search_text(rep):
    contact = ContactFactory(
        owner=rep,
        given_name="José",
        family_name="Núñez",
        emails=["  JOSE@Example.com ", "jose@example.com", "j@other.example"],
        phones=["+34 91 123 45 67"],
    )
    assert contact.primary_email == "jose@example.com"
    assert list(contact.emails.values_list("email", flat=True)) == [
        "jose@example.com",
        "j@other.example",
    ]
    assert contact.team == rep.team
    assert "jose nunez" in contact.search_text
    assert "34911234567" in contact.search_text


def test_contact_needs_a_name_or_email(rep):
    with pytest.raises(DomainError):
        services.contact_create(data=services.ContactInput(values={"owner": rep}), actor=rep)


def test_rep_cannot_give_contact_to_other_team(rep, rep_other_team):
    with pytest.raises(DomainError, match="owner"):
        ContactFactory(owner=rep_other_team, actor=rep)


def test_update_logs_changes_including_emails(rep, own_contact):
    services.contact_update(
        contact=own_contact,
        actor=rep,
        values={"job_title": "CEO"},
        emails=[services.EmailInput("new@acme.example")],
    )
    entries = LogEntry.objects.get_for_object(own_contact)
    changes = [e.changes_dict for e in entries]
    assert any("job_title" in c for c in changes)
    assert any("emails" in c for c in changes)
    assert all(e.actor == rep for e in entries)
    own_contact.refresh_from_db()
    assert own_contact.primary_email == "new@acme.example"


def test_archived_contact_cannot_be_changed_until_restored(rep, own_contact):
    services.contact_archive(contact=own_contact, actor=rep)
    services.contact_archive(contact=own_contact, actor=rep)  # idempotent
    with pytest.raises(DomainError):
        services.contact_update(contact=own_contact, actor=rep, values={"job_title": "x"})
    services.contact_restore(contact=own_contact, actor=rep)
    assert Contact.objects.get(pk=own_contact.pk).archived_at is None


def test_duplicates_match_email_or_phone_digits_and_respect_scope(rep, own_contact, other_contact):
    found = services.contact_find_duplicates(actor=rep, emails=["OLIVIA@acme.example"], phones=[])
    assert list(found) == [own_contact]
    found = services.contact_find_duplicates(actor=rep, emails=[], phones=["555.010.2000"])
    assert list(found) == []  # digits must match exactly: 5550102000 is not 15550102000
    found = services.contact_find_duplicates(actor=rep, emails=[], phones=["+1 555 010 2000"])
    assert list(found) == [own_contact]
    hidden = services.contact_find_duplicates(
        actor=rep, emails=["zhang.wei@west.example"], phones=[]
    )
    assert list(hidden) == []


def test_company_rename_reindexes_its_people(rep):
    company = CompanyFactory(owner=rep, name="Old Name")
    person = ContactFactory(owner=rep, company=company)
    services.company_update(company=company, actor=rep, values={"name": "Brand New"})
    person.refresh_from_db()
    assert "brand new" in person.search_text


def test_tags_are_matched_case_insensitively(rep):
    first = services.tags_get_or_create(names=["VIP"], actor=rep)
    again = services.tags_get_or_create(names=["vip", " VIP "], actor=rep)
    assert [t.pk for t in again] == [first[0].pk]


def test_agent_cannot_create_tags(agent):
    with pytest.raises(DomainError, match="tags"):
        services.tags_get_or_create(names=["Brand-new"], actor=agent)


# --- services check access themselves (a caller that forgets cannot write) -----------------


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.mark.parametrize("role", ["rep_other_team", "read_only", "agent", "no_role"])
def test_contact_update_refuses_a_user_who_may_not_change_it(request, role, own_contact):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.contact_update(contact=own_contact, actor=user, values={"job_title": "Boss"})
    assert _fresh(own_contact).job_title != "Boss"


def test_contact_update_allows_a_team_mate(rep_teammate, own_contact):
    services.contact_update(contact=own_contact, actor=rep_teammate, values={"job_title": "Boss"})
    assert _fresh(own_contact).job_title == "Boss"


def test_contact_archive_and_restore_refuse_an_outsider(rep, rep_other_team, own_contact):
    with pytest.raises(PermissionDenied):
        services.contact_archive(contact=own_contact, actor=rep_other_team)
    assert _fresh(own_contact).archived_at is None
    services.contact_archive(contact=own_contact, actor=rep)
    with pytest.raises(PermissionDenied):
        services.contact_restore(contact=_fresh(own_contact), actor=rep_other_team)
    assert _fresh(own_contact).archived_at is not None


def test_contact_create_needs_the_add_permission(no_role, read_only):
    for user in (no_role, read_only):
        with pytest.raises(PermissionDenied):
            services.contact_create(
                data=services.ContactInput(values={"given_name": "Nope"}), actor=user
            )
    assert not Contact.objects.filter(given_name="Nope").exists()


def test_company_services_refuse_a_user_who_may_not_change(rep, agent, rep_other_team):
    company = CompanyFactory(owner=rep, name="Acme")
    for user in (agent, rep_other_team):
        with pytest.raises(PermissionDenied):
            services.company_update(company=company, actor=user, values={"name": "Stolen"})
        with pytest.raises(PermissionDenied):
            services.company_archive(company=company, actor=user)
    assert _fresh(company).name == "Acme"
    assert _fresh(company).archived_at is None
    services.company_archive(company=company, actor=rep)
    with pytest.raises(PermissionDenied):
        services.company_restore(company=_fresh(company), actor=agent)
    with pytest.raises(PermissionDenied):
        services.company_create(values={"name": "New"}, actor=agent)


def test_merge_needs_the_merge_permission_and_change_on_both(rep, manager, own_contact):
    duplicate = ContactFactory(owner=rep, given_name="Olivia", family_name="Owner")
    with pytest.raises(PermissionDenied):  # a rep's role may not merge
        merge.contact_merge(primary=own_contact, duplicate=duplicate, actor=rep, field_choices={})
    assert _fresh(duplicate).merged_into_id is None


def test_merge_refuses_a_manager_for_another_teams_contact(manager, own_contact, other_contact):
    with pytest.raises(DomainError):
        merge.contact_merge(
            primary=own_contact, duplicate=other_contact, actor=manager, field_choices={}
        )
    assert _fresh(other_contact).merged_into_id is None
