"""Search: partial names, Chinese names, phone fragments and emails, through the indexes."""

from __future__ import annotations

import pytest

from accounts.models import User
from contacts import selectors
from contacts.models import Contact
from contacts.search import build_search_text, normalize, search_condition
from contacts.selectors import ContactFilters
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(manager: User) -> dict:
    acme = CompanyFactory(owner=manager, name="Acme Robotics")
    return {
        "john": ContactFactory(
            owner=manager,
            given_name="John",
            family_name="Smith",
            company=acme,
            emails=["john.smith@acme.example"],
            phones=["+1 (555) 123-4567"],
        ),
        "wang": ContactFactory(
            owner=manager,
            given_name="小明",
            family_name="王",
            name_order="family_first",
            phones=["+86 138 1234 5678"],
        ),
        "zhang": ContactFactory(
            owner=manager, given_name="伟", family_name="张", name_order="family_first"
        ),
        "zoe": ContactFactory(
            owner=manager,
            given_name="Zoë",
            family_name="Müller",
            emails=["zoe-m@mail.example", "z.mueller+news@other-mail.example"],
        ),
    }


def find(user: User, q: str) -> set[str]:
    qs = selectors.contact_list(user=user, filters=ContactFilters(q=q))
    return {c.display_name for c in qs}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("smi", {"John Smith"}),
        ("smith john", {"John Smith"}),
        ("ohn sm", {"John Smith"}),
        ("acme", {"John Smith"}),
        ("john.smith@acme.example", {"John Smith"}),
        ("@acme.example", {"John Smith"}),
        ("555-123", {"John Smith"}),
        ("5551234", {"John Smith"}),
        ("1234567", {"John Smith", "王小明"}),
        ("138 1234", {"王小明"}),
        ("王小明", {"王小明"}),
        ("小明", {"王小明"}),
        ("张伟", {"张伟"}),
        ("zoe", {"Zoë Müller"}),
        ("MÜLLER", {"Zoë Müller"}),
        ("JOHN.SMITH@ACME.EXAMPLE", {"John Smith"}),
        ("zoe-m@mail.example", {"Zoë Müller"}),
        ("z.mueller+news@other-mail.example", {"Zoë Müller"}),
        ("mueller+news@other", {"Zoë Müller"}),
        ("nobody@acme.example", set()),
        ("nobody-here", set()),
    ],
)
def test_search_finds(manager, people, query, expected):
    assert find(manager, query) == expected


def test_a_whole_email_is_found_by_its_token_without_the_trigram_scan():
    whole = str(Contact.objects.filter(search_condition("ann@acme.example")).query)
    fragment = str(Contact.objects.filter(search_condition("ann@acme")).query)
    assert "LIKE" not in whole
    assert "LIKE" in fragment


@pytest.mark.parametrize("query", ["", "   ", "&|!", "'", ":*", "a'b", "\\", "%", "_", "-"])
def test_odd_queries_do_not_error(manager, people, query):
    find(manager, query)


def test_normalize_and_bigrams():
    assert normalize("  Zoë   MÜLLER ") == "zoe muller"
    assert build_search_text(["王小明"], ["+86 138"]) == "王小明 王小 小明 86138"
