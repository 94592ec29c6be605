"""Contact and company services: derived fields, rules, duplicates, audit."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from contacts import services
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
