"""What the contacts tables guarantee whatever the server's locale, and the fast paths of the
text helpers that every write and import runs (they must agree with the general ones)."""

from __future__ import annotations

import random
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from contacts import selectors, services
from contacts.imports.rows import _PLAIN_EMAIL, RowParser
from contacts.models import ContactEmail
from contacts.search import digits_of, normalize

pytestmark = pytest.mark.django_db


def _normalize_general(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@pytest.mark.parametrize(
    "text",
    [
        "Anna SMITH",
        "  o'Brien\t\tJr. ",
        "x\x1cy",
        "A-B_C@Example.COM",
        "",
        "Zoë",
        "\uff21\uff22\uff23",
        "王小明",
    ],
)
def test_normalize_fast_path_agrees_with_the_general_one(text):
    assert normalize(text) == _normalize_general(text)


def test_digits_of_keeps_ascii_digits_only():
    assert digits_of("+86 (138) 1234-5678") == "8613812345678"
    assert (
        digits_of("\uff11\uff12\uff13 \u0664\u0665\u0666 7") == "7"
    )  # full-width and Arabic-Indic digits are not stored


def test_plain_email_shortcut_accepts_only_what_djangos_validator_accepts():
    validator, rng = EmailValidator(), random.Random(17)
    accepted = 0
    for _i in range(20_000):
        text = "".join(rng.choice("ab0_+-.@-z9") for _j in range(rng.randint(3, 14)))
        text += "." + "".join(rng.choice("abz") for _j in range(rng.randint(1, 4)))
        if _PLAIN_EMAIL.fullmatch(text):
            accepted += 1
            validator(text)  # raises if the shortcut let through an invalid address
    assert accepted > 100  # the sample reached the shortcut


@pytest.mark.parametrize("address", ["a@b", "a..b@example.com", "a@-b.com", "a@b.c", "@b.com"])
def test_parser_still_refuses_addresses_outside_the_shortcut(address):
    row = RowParser({"0": "email"})(2, [address])
    assert row.errors
    assert not row.emails
    with pytest.raises(ValidationError):
        EmailValidator()(address)


def test_names_sort_in_byte_order_on_any_server(manager: User):
    for given, family in [("Bob", "Devon"), ("Anna", "de Vries"), ("Émile", "Dubois")]:
        data = services.ContactInput(values={"given_name": given, "family_name": family})
        services.contact_create(actor=manager, data=data)
    page = selectors.contact_list(user=manager).order_by("sort_name", "id")
    # A locale collation would ignore the space and put "devon" before "de vries".
    assert [c.sort_name for c in page] == ["de vries anna", "devon bob", "dubois emile"]


def test_a_contact_still_has_one_primary_email_at_most(manager: User):
    data = services.ContactInput(
        values={"given_name": "Ann"}, emails=[services.EmailInput("ann@example.com")]
    )
    contact = services.contact_create(actor=manager, data=data)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactEmail.objects.create(contact=contact, email="ann2@example.com", is_primary=True)


def test_contact_tables_keep_only_the_indexes_they_need():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN "
            "('contacts_contact', 'contacts_contactemail')"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"contact_one_primary_email", "contact_email_unique", "contact_merged_into"} <= names
    assert (
        not {
            "contacts_contact_created_at_8189cff1",
            "contacts_contact_merged_into_id_940ac4a0",
            "contacts_contactemail_contact_id_8dd35e56",
        }
        & names
    )
