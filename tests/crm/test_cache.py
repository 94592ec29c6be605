"""Values kept in the cache until their rows change (crm.cache), and the option lists built on it.

These tests commit (transactional_db): entries are stored only outside a transaction, and
versions move on commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from accounts import access
from accounts.models import User
from contacts.models import Tag
from contacts.selectors import owner_options, tag_options
from crm import cache
from tests.contacts.factories import TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_value_is_computed_once_per_version():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    cache.bump("test-thing")
    assert cache.get_or_compute("test-thing", "k", compute, 60) == 1
    assert cache.get_or_compute("test-thing", "k", compute, 60) == 1
    cache.bump("test-thing")
    assert cache.get_or_compute("test-thing", "k", compute, 60) == 2


def test_a_bump_inside_a_transaction_waits_for_the_commit():
    cache.bump("test-thing")
    assert cache.get_or_compute("test-thing", "k", lambda: "old", 60) == "old"
    with transaction.atomic():
        cache.bump("test-thing")
        assert cache.get_or_compute("test-thing", "k", lambda: "new", 60) == "old"
    assert cache.get_or_compute("test-thing", "k", lambda: "new", 60) == "new"


def test_a_rolled_back_bump_changes_nothing_and_stores_nothing():
    cache.bump("test-thing")
    with transaction.atomic():
        cache.bump("test-thing")
        assert cache.get_or_compute("test-thing", "other", lambda: "in-tx", 60) == "in-tx"
        transaction.set_rollback(True)
    assert cache.get_or_compute("test-thing", "other", lambda: "after", 60) == "after"


def test_a_version_is_stable_until_bumped_and_then_moves():
    first = cache.version("test-version")
    assert cache.version("test-version") == first
    cache.bump("test-version")
    assert cache.version("test-version") != first


def test_a_scope_signature_changes_with_the_team_and_the_roles(rep: User, rep_teammate: User):
    before = access.scope_signature(User.objects.get(pk=rep.pk))
    assert before == access.scope_signature(User.objects.get(pk=rep.pk))
    cache.bump("roles")
    after_roles = access.scope_signature(User.objects.get(pk=rep.pk))
    assert after_roles != before
    moved = User.objects.get(pk=rep.pk)
    moved.team = None
    assert access.scope_signature(moved) != after_roles
    assert access.scope_signature(User.objects.get(pk=rep_teammate.pk)) != after_roles


def test_new_renamed_and_deleted_tags_show_in_the_options(rep: User):
    tag = TagFactory(name="Alpha")
    assert (str(tag.pk), "Alpha") in tag_options()
    tag.name = "Beta"
    tag.save()
    assert (str(tag.pk), "Beta") in tag_options()
    Tag.objects.filter(pk=tag.pk).delete()
    assert all(pk != str(tag.pk) for pk, _name in tag_options())


def test_renamed_and_deactivated_users_show_in_the_owner_options(rep: User, rep_teammate: User):
    assert (str(rep_teammate.pk), str(rep_teammate)) in owner_options(user=rep)
    rep_teammate.first_name = "Renamed"
    rep_teammate.save()
    assert (str(rep_teammate.pk), str(rep_teammate)) in owner_options(user=rep)
    rep_teammate.is_active = False
    rep_teammate.save()
    assert all(pk != str(rep_teammate.pk) for pk, _name in owner_options(user=rep))


def test_the_list_page_shows_a_tag_made_after_it_was_cached(rep: User):
    client = Client()
    client.force_login(rep)
    client.get("/contacts/")
    TagFactory(name="Fresh tag")
    assert "Fresh tag" in client.get("/contacts/").content.decode()
