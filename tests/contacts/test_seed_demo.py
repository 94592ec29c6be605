"""seed_demo: demo users of every role, and bulk-loaded contacts that behave like typed ones."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from contacts.lists import CONTACTS
from contacts.models import Company, Contact, ContactEmail
from contacts.services import contact_names
from crm.lists import query_for

pytestmark = pytest.mark.django_db


def test_demo_users_have_every_role_and_load_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert "nothing to do" in capsys.readouterr().out
    for role in Role:
        assert User.objects.filter(
            groups__name=role.value, email__endswith="@demo.example"
        ).exists()
    assert User.objects.get(email="rep@demo.example").check_password("demo")
    assert Contact.objects.count() == 200
    assert Company.objects.count() == 20


def test_bulk_rows_match_what_the_services_would_write():
    call_command("seed_demo", contacts=500, kb_articles=0)
    assert Contact.objects.count() == 500
    assert ContactEmail.objects.filter(is_primary=True).count() == 500
    for contact in Contact.objects.all()[:50]:
        assert (contact.display_name, contact.sort_name) == contact_names(
            contact.given_name, contact.family_name, contact.name_order
        )
        assert contact.primary_email == contact.emails.get(is_primary=True).email
        assert contact.team_id == contact.owner.team_id
    sample = Contact.objects.filter(name_order="family_first").first()
    admin = User.objects.get(email="admin@demo.example")
    found = query_for(CONTACTS, admin, f"q={sample.display_name}").queryset
    assert sample in found


def test_reset_empties_contacts_first():
    call_command("seed_demo", contacts=100, kb_articles=0)
    call_command("seed_demo", contacts=50, reset=True, kb_articles=0)
    assert Contact.objects.count() == 50
