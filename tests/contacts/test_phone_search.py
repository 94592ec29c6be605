"""Phone searches through the digit-suffix indexes (contacts.search.DigitSuffixes): a fragment
anywhere in any of a contact's numbers, typed in any format, found by one prefix lookup in
contactphone_suffixes (company_phone_digits for companies), never by the trigram index, whose
digit posting lists grow with the table (issue 31)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from accounts.models import User
from contacts import selectors, services
from contacts.lists import COMPANIES, CONTACTS
from contacts.models import Company, Contact
from contacts.search import digits_match, search_condition
from crm.lists import query_for
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def numbers(rep: User, rep_other_team: User) -> dict[str, Contact]:
    return {
        "li": ContactFactory(
            owner=rep,
            given_name="Li",
            family_name="Na",
            phones=["+86 138-1234-5678", "(010) 6552 9988"],
        ),
        "ann": ContactFactory(
            owner=rep, given_name="Ann", family_name="Lee", phones=["+1 555 010 7788"]
        ),
        "hidden": ContactFactory(
            owner=rep_other_team, given_name="Hidden", family_name="Na", phones=["138 1234 5678"]
        ),
    }


def _found(user: User, query: str) -> set[str]:
    return {c.given_name for c in query_for(CONTACTS, user, f"q={query}").queryset}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("+86 138-1234-5678", {"Li"}),  # the whole number, as written
        ("8613812345678", {"Li"}),
        ("138 1234 5678", {"Li"}),  # without the country code
        ("(138) 1234", {"Li"}),  # a group's start, other punctuation
        ("5678", {"Li"}),  # the last digits
        ("3812345", {"Li"}),  # a fragment in the middle of a group
        ("6552 9988", {"Li"}),  # the second number
        ("010", {"Li", "Ann"}),  # three digits, in two numbers
        ("\uff11\uff13\uff18\uff11\uff12\uff13\uff14", {"Li"}),  # full-width 1381234
        ("999 000", set()),
        ("13812345679", set()),  # one digit off
    ],
)
def test_a_phone_is_found_by_any_fragment_typed_any_way(rep, numbers, query, expected):
    assert _found(rep, query) == expected


def test_a_number_out_of_scope_stays_hidden(rep, numbers):
    # "hidden" has the same number in another team: the rep never sees it.
    assert _found(rep, "138 1234 5678") == {"Li"}
    assert selectors.contact_search(user=rep, query="1381234") == [numbers["li"]]


def test_a_changed_number_is_found_by_the_new_digits_only(rep, numbers):
    li = numbers["li"]
    services.contact_update(
        contact=li, actor=rep, values={}, phones=[services.PhoneInput("+44 20 7946 0018")]
    )
    assert _found(rep, "7946 0018") == {"Li"}
    assert _found(rep, "1381234") == set()


def test_a_company_is_found_by_its_phone(rep):
    CompanyFactory(owner=rep, name="Acme", phone="+86 21 6888 1234")
    CompanyFactory(owner=rep, name="Other", phone="")
    found = {c.name for c in query_for(COMPANIES, rep, "q=6888123").queryset}
    assert found == {"Acme"}
    assert [c.name for c in selectors.company_search(user=rep, query="21 6888")] == ["Acme"]


def test_digits_match_takes_digits_only():
    with pytest.raises(ValueError, match="ASCII digits only"):
        digits_match("digits", "12a")
    with pytest.raises(ValueError, match="ASCII digits only"):
        digits_match("digits", "\u0661\u0662\u0663")  # Arabic-Indic digits: not the stored ones


@pytest.mark.django_db(transaction=True)
def test_the_phone_search_reads_the_suffix_indexes_not_the_trigrams(rep, numbers):
    for i in range(300):
        ContactFactory(owner=rep, given_name=f"Filler{i}", phones=[f"+86 139 {i:04d} 0000"])
    CompanyFactory(owner=rep, name="Acme", phone="+86 21 6888 1234")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact; ANALYZE contacts_contactphone")
        cursor.execute("ANALYZE contacts_company")
    plans = {}
    for model in (Contact, Company):
        qs = model.objects.filter(search_condition("3812345", model))
        sql, params = qs.query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # as on a big table
            cursor.execute(f"EXPLAIN {sql}", params)
            plans[model] = "\n".join(row[0] for row in cursor.fetchall())
    assert "contactphone_suffixes" in plans[Contact], plans[Contact]
    assert "company_phone_digits" in plans[Company], plans[Company]
    for plan in plans.values():
        assert "search_trgm" not in plan, plan
        assert "search_text" not in plan, plan


def test_the_list_joins_the_phones_and_their_contacts(rep, numbers):
    """Not paired with the scope (contacts.scope_led): an IN under the pairing's OR is a
    subplan tested on every row the scope holds (1.2 s at ten million contacts)."""
    from bench.run import list_plans

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a big table
    plan = list_plans(CONTACTS, rep, {"phone": "q=138 1234"})["phone"]
    # A join of the phones and their contacts, whichever side a table this small starts from
    # (at ten million contacts: the suffix index, then contacts_contact_pkey: 68 blocks).
    assert "contacts_contactphone" in plan, plan
    assert "SubPlan" not in plan, plan
