"""contacts_contact.tag_ids, written by the services (crm.tags.tags_set / tags_add), the merge
and the bulk writers, stays equal to the contact's link rows; the tag filter reads it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from contacts import services
from contacts.imports import import_file
from contacts.lists import CONTACTS
from contacts.merge import contact_merge
from contacts.models import Contact, ImportStatus, Tag
from crm.lists import query_for
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def stored(contact: Contact) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_ids FROM contacts_contact WHERE id = %s", [contact.pk])
        return list(cursor.fetchone()[0])


def actual(contact: Contact) -> list[int]:
    return sorted(contact.tags.values_list("pk", flat=True))


def test_services_write_the_ids_and_the_link_table(rep):
    vip, hot, cold = (Tag.objects.create(name=n) for n in ("VIP", "Hot", "Cold"))
    contact = ContactFactory(owner=rep, tags=[hot, vip])
    assert stored(contact) == actual(contact) == sorted([vip.pk, hot.pk])
    services.contact_update(contact=contact, actor=rep, values={}, tags=[vip, cold])
    assert stored(contact) == actual(contact) == sorted([vip.pk, cold.pk])
    contact.job_title = "Buyer"
    contact.save(update_fields=["job_title"])
    assert stored(contact) == sorted([vip.pk, cold.pk])
    services.contact_update(contact=contact, actor=rep, values={}, tags=[])
    assert stored(contact) == actual(contact) == []


def test_a_deleted_tag_leaves_every_record(rep):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    contact = ContactFactory(owner=rep, tags=[vip, hot])
    company = CompanyFactory(owner=rep, tags=[vip])
    vip.delete()
    company.refresh_from_db()
    assert stored(contact) == actual(contact) == [hot.pk]
    assert company.tag_ids == []


def test_bulk_tagging_and_merge_keep_it(manager, rep):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    primary = ContactFactory(owner=rep, tags=[vip], emails=["p@example.com"])
    duplicate = ContactFactory(owner=rep, tags=[hot], emails=["d@example.com"])
    services.contact_bulk_update(actor=rep, ids=[primary.pk, duplicate.pk], add_tags=[vip])
    assert stored(duplicate) == actual(duplicate) == sorted([vip.pk, hot.pk])
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    assert stored(primary) == actual(primary) == sorted([vip.pk, hot.pk])
    assert stored(duplicate) == actual(duplicate)  # the archived duplicate keeps its own


def test_imported_and_seeded_contacts_carry_their_tags(rep, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Name,Email,Tags\nAl Ng,al@example.com,Hot; VIP\nBo Li,bo@example.com,\n")
    job = import_file(path=path, actor=rep, commit=True, tag_names="Imported")
    assert job.status == ImportStatus.DONE, job.errors or job.message
    for contact in Contact.objects.all():
        assert stored(contact) == actual(contact)
    al = Contact.objects.get(primary_email="al@example.com")
    assert {t.name for t in al.tags.all()} == {"Hot", "VIP", "Imported"}

    call_command("seed_demo", "--contacts", "300", "--kb-articles", "0", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM contacts_contact c WHERE c.tag_ids <> COALESCE(
                   (SELECT array_agg(t.tag_id ORDER BY t.tag_id) FROM contacts_contact_tags t
                     WHERE t.contact_id = c.id), '{}')"""
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM contacts_contact WHERE tag_ids <> '{}'")
        assert cursor.fetchone()[0] > 0  # the seed did tag some


def test_tag_filter_finds_contacts_with_any_of_the_tags(manager):
    vip, hot, cold = (Tag.objects.create(name=n) for n in ("VIP", "Hot", "Cold"))
    a = ContactFactory(owner=manager, tags=[vip], lifecycle_stage="customer")
    b = ContactFactory(owner=manager, tags=[hot, cold], lifecycle_stage="customer")
    ContactFactory(owner=manager, tags=[cold], lifecycle_stage="customer")
    ContactFactory(owner=manager, tags=[vip], lifecycle_stage="prospect")

    def found(*tags: Tag) -> set[int]:
        tag_query = "".join(f"&tag={t.pk}" for t in tags)
        return {c.pk for c in query_for(CONTACTS, manager, f"stage=customer{tag_query}").queryset}

    assert found(vip) == {a.pk}
    assert found(vip, hot) == {a.pk, b.pk}
