"""leads.services.lead_find_matches: each way of matching a contact (email, phone digits, name
plus company) finds it through its own index, in a bounded number of queries."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts.models import Company
from leads.services import lead_find_matches
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(rep):
    acme = Company.objects.create(name="Acme Robotics", owner=rep, team_id=rep.team_id)
    ada = ContactFactory(owner=rep, given_name="Ada", family_name="Lovelace", company=acme,
                         emails=["ada@acme.example"], phones=["+44 20 7946 0001"])  # fmt: skip
    other = ContactFactory(owner=rep, given_name="Ada", family_name="Lovelace",
                           emails=["ada@elsewhere.example"])  # fmt: skip
    return ada, other


@pytest.mark.parametrize(
    "given",
    [
        {"email": " ADA@acme.example "},
        {"email": "", "phone": "+44 (20) 7946-0001"},
        {
            "email": "",
            "given_name": "ada",
            "family_name": "LOVELACE",
            "company_name": "acme robotics",
        },
    ],
)
def test_each_way_finds_the_contact_alone(people, given, django_assert_max_num_queries):
    ada, _other = people
    with django_assert_max_num_queries(3):
        found = lead_find_matches(**{"email": "", "phone": "", **given})
    assert [c.pk for c in found.contacts] == [ada.pk]


def test_no_match_and_archived_contacts(people):
    ada, _other = people
    assert lead_find_matches(email="nobody@acme.example", phone="").contacts == []
    type(ada).objects.filter(pk=ada.pk).update(archived_at="2026-01-01T00:00:00Z")
    assert lead_find_matches(email="ada@acme.example", phone="").contacts == []


def test_the_contacts_ids_are_one_union_of_index_lookups(people):
    """The three ways in one WHERE (an OR over subqueries) could use no index and walked every
    active contact; each is now its own lookup."""
    with connection.execute_wrapper(_record):
        _seen.clear()
        lead_find_matches(
            email="ada@acme.example", phone="+44 20 7946 0001",
            given_name="Ada", family_name="Lovelace", company_name="Acme Robotics",
        )  # fmt: skip
    union = next(sql for sql in _seen if " UNION " in sql)
    assert union.count("SELECT") == 3
    assert " OR " not in union


_seen: list[str] = []


def _record(execute, sql, params, many, context):
    _seen.append(sql)
    return execute(sql, params, many, context)
