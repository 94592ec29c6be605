"""Issue 25: a contact merged into another team's record must not say into whom."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts import merge, selectors
from contacts.models import Contact
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(admin_user: User, own_contact: Contact, other_contact: Contact) -> Contact:
    """The rep's contact, merged by an administrator into a contact of the West team."""
    merge.contact_merge(
        primary=other_contact, duplicate=own_contact, actor=admin_user, field_choices={}
    )
    return Contact.objects.get(pk=own_contact.pk)


def test_the_selector_hides_a_merge_target_the_user_cannot_see(rep, manager, merged):
    assert selectors.contact_detail(user=rep, pk=merged.pk).merged_into_visible is None
    target = selectors.contact_detail(user=manager, pk=merged.pk).merged_into_visible
    assert target is not None
    assert target.pk == merged.merged_into_id


def test_page_says_merged_but_not_into_whom_for_an_outsider(
    client: Client, rep: User, merged: Contact, other_contact: Contact
):
    page = login(client, rep).get(reverse("contacts:contact-detail", args=[merged.pk])).content
    text = page.decode()
    assert "Merged into another contact" in text
    assert other_contact.display_name not in text
    assert reverse("contacts:contact-detail", args=[other_contact.pk]) not in text


def test_page_names_and_links_the_target_for_who_may_see_it(
    client: Client, manager: User, merged: Contact, other_contact: Contact
):
    url = reverse("contacts:contact-detail", args=[merged.pk])
    text = login(client, manager).get(url).content.decode()
    assert "Merged into" in text
    assert reverse("contacts:contact-detail", args=[other_contact.pk]) in text
    assert other_contact.display_name in text
