"""A change history names the record a foreign key points to only if the viewer may see it
(crm.history with the permission door's scope registered by accounts), in one query per model."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from crm.history import HIDDEN_RECORD, history_items
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _company_rows(viewer) -> list[tuple[str, str]]:
    contact = Contact.objects.get(given_name="Ann")
    entries = list(LogEntry.objects.get_for_object(contact).order_by("-timestamp", "-pk"))
    items = history_items(entries, Contact, viewer=viewer)
    return [(r.before, r.after) for i in items for r in i.rows if r.label == "company"]


def test_another_teams_company_is_not_named(rep, rep_other_team, manager):
    mine = CompanyFactory(owner=rep, name="Visible Co")
    theirs = CompanyFactory(owner=rep_other_team, name="Secret West Ltd")
    contact = ContactFactory(owner=rep, given_name="Ann", company=mine)
    with set_actor(manager):
        contact.company = theirs
        contact.save(update_fields=["company"])

    assert _company_rows(manager)[0] == ("Visible Co", "Secret West Ltd")
    before, after = _company_rows(rep)[0]
    assert (before, after) == ("Visible Co", str(HIDDEN_RECORD))
    assert str(theirs.pk) not in after
    # Owners (users) are not scoped records: their names stay.
    entries = list(LogEntry.objects.get_for_object(contact))
    rows = [r for i in history_items(entries, Contact, viewer=rep) for r in i.rows]
    assert any(r.label == "owner" and r.after == str(rep) for r in rows)


def test_queries_stay_one_per_named_model(rep):
    company = CompanyFactory(owner=rep)
    for n in range(5):
        contact = ContactFactory(owner=rep, given_name=f"P{n}", company=company)
    entries = list(LogEntry.objects.filter(content_type__model="contact"))
    assert len(entries) >= 5
    history_items(entries[:1], Contact, viewer=rep)  # content types cached
    with CaptureQueriesContext(connection) as few:
        history_items(entries[:1], Contact, viewer=rep)
    with CaptureQueriesContext(connection) as many:
        history_items(entries, Contact, viewer=rep)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert contact.pk
