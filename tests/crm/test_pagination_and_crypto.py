from __future__ import annotations

import pytest
from django.test import override_settings

from crm import crypto
from crm.pagination import capped_count, keyset_page
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_keyset_descending_and_tampered_cursor(rep):
    from contacts.models import Contact

    for i in range(5):
        ContactFactory(owner=rep, given_name="", family_name=f"N{i}")
    qs = Contact.objects.all()
    first = keyset_page(qs, ordering=["-sort_name", "-id"], cursor=None, size=2)
    assert [c.family_name for c in first.items] == ["N4", "N3"]
    second = keyset_page(qs, ordering=["-sort_name", "-id"], cursor=first.next_cursor, size=2)
    assert [c.family_name for c in second.items] == ["N2", "N1"]
    assert second.has_prev
    bad = keyset_page(qs, ordering=["-sort_name", "-id"], cursor="garbage==", size=2)
    assert bad.is_first
    assert [c.family_name for c in bad.items] == ["N4", "N3"]


def test_capped_count(rep):
    from contacts.models import Contact

    for _ in range(3):
        ContactFactory(owner=rep)
    assert capped_count(Contact.objects.all(), cap=5) == (3, False)
    assert capped_count(Contact.objects.all(), cap=2) == (2, True)


def test_encryption_round_trip_and_rotation():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        crypto._fernet.cache_clear()
        token = crypto.encrypt("smtp-password")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        crypto._fernet.cache_clear()
        assert crypto.decrypt(token) == "smtp-password"
        rotated = crypto.rotate(token)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        crypto._fernet.cache_clear()
        assert crypto.decrypt(rotated) == "smtp-password"
        with pytest.raises(crypto.InvalidToken):
            crypto.decrypt(token)
    crypto._fernet.cache_clear()
