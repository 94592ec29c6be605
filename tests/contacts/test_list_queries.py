"""The list pages as production serves them: with the role data and option lists already in the
cache (they are only stored outside a transaction, so these tests commit)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from crm.tags import tags_set
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _warm_queries(client: Client, url: str) -> list[str]:
    assert client.get(url).status_code == 200  # fills the caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_contact_list_runs_four_queries_with_warm_caches(rep: User):
    vip, alpha = TagFactory(name="VIP"), TagFactory(name="alpha")
    company = CompanyFactory(owner=rep)
    for _ in range(20):
        ContactFactory(owner=rep, company=company, tags=[vip, alpha], emails=["x@y.example"])
    client = Client()
    client.force_login(rep)
    queries = _warm_queries(client, reverse("contacts:contact-list"))
    # The signed-in user, the user's explicit shares, the matches with their count, the rows.
    assert len(queries) == 4, "\n".join(q[:100] for q in queries)
    page = client.get(reverse("contacts:contact-list")).content.decode()
    # Tags from the contacts' tag ids and the cached labels, by name.
    assert page.count(">alpha</span>") == 20
    assert page.index(">alpha</span>") < page.index(">VIP</span>")


def test_company_list_runs_four_queries_with_warm_caches(rep: User):
    for _ in range(20):
        CompanyFactory(owner=rep)
    client = Client()
    client.force_login(rep)
    queries = _warm_queries(client, reverse("contacts:company-list"))
    # The signed-in user, the user's explicit shares, the matches with their count, the rows
    # (tag badges from their tag_ids and the cached labels, crm.tags).
    assert len(queries) == 4, queries


def test_a_tag_removed_from_a_contact_leaves_its_row(rep: User):
    vip = TagFactory(name="VIP")
    contact = ContactFactory(owner=rep, tags=[vip])
    client = Client()
    client.force_login(rep)
    assert ">VIP</span>" in client.get(reverse("contacts:contact-list")).content.decode()
    tags_set(obj=contact, tags=[], actor=rep)
    assert ">VIP</span>" not in client.get(reverse("contacts:contact-list")).content.decode()
