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


@pytest.mark.parametrize("cap", [3, 100])
def test_list_page_walks_matches_in_order_on_both_paths(rep, settings, cap):
    """Few matches: sorted from their ids. More than the cap: read along the sort index."""
    from contacts.models import Contact
    from contacts.search import search_condition
    from crm.pagination import list_page

    settings.CRM_COUNT_CAP = cap
    for i in range(7):
        ContactFactory(owner=rep, given_name="Match", family_name=f"M{6 - i}")
    ContactFactory(owner=rep, given_name="Other", family_name="Zed")
    qs = Contact.objects.filter(search_condition("match", Contact)).select_related("owner")

    def walk(ordering: list[str]) -> tuple[list[str], object]:
        names, cursor = [], None
        for _ in range(5):
            result = list_page(qs, ordering=ordering, cursor=cursor, size=3)
            names += [c.family_name for c in result.page.items]
            cursor = result.page.next_cursor
            if not cursor:
                return names, result
        raise AssertionError("too many pages")

    seen, result = walk(["sort_name", "id"])
    assert seen == [f"M{i}" for i in range(7)]
    assert (result.count, result.capped) == ((3, True) if cap == 3 else (7, False))
    assert all(c.owner_id == rep.pk for c in result.page.items)
    back, cursor = [], result.page.prev_cursor  # and back again, from the last page
    while cursor:
        result = list_page(qs, ordering=["sort_name", "id"], cursor=cursor, size=3)
        back = [c.family_name for c in result.page.items] + back
        cursor = result.page.prev_cursor
    assert back == [f"M{i}" for i in range(6)]  # the pages before the last one, [M6]
    assert result.page.is_first
    assert walk(["-sort_name", "-id"])[0] == [f"M{i}" for i in reversed(range(7))]


def test_a_big_list_remembers_its_plan_and_rows_stay_live(rep, settings, django_assert_num_queries):
    """The second page of a list over the cap skips the id fetch. Writes do not drop the hint
    (it expires): the rows read are still the live ones; only the count label may lag."""
    from contacts.models import Contact
    from crm.pagination import bump_list_version, list_page

    settings.CRM_COUNT_CAP = 2
    for i in range(4):
        ContactFactory(owner=rep, family_name=f"N{i}")
    qs = Contact.objects.all()
    key = (rep.pk, "all")

    def names() -> list[str]:
        result = list_page(qs, ordering=["sort_name", "id"], cursor=None, size=3, hint_key=key)
        assert (result.count, result.capped) == (2, True)
        return [c.family_name for c in result.page.items]

    with django_assert_num_queries(2):  # the capped id fetch, then the page
        first = names()
    with django_assert_num_queries(1):  # the page alone
        assert names() == first == ["N0", "N1", "N2"]
    ContactFactory(owner=rep, family_name="A")
    with django_assert_num_queries(1):  # still the hint, and the new row is there
        assert names() == ["A", "N0", "N1"]
    bump_list_version(Contact)  # bulk writers may still forget hints at once
    with django_assert_num_queries(2):
        assert names() == ["A", "N0", "N1"]
    with django_assert_num_queries(2):  # another user's list has its own hint
        list_page(qs, ordering=["sort_name", "id"], cursor=None, hint_key=(0, "all"))


def test_planner_settings_apply_to_the_counting_query_only(rep):
    from django.db import connection

    from contacts.models import Contact
    from contacts.search import search_condition
    from crm.pagination import IN_MEMORY_COSTS, list_page

    for i in range(3):
        ContactFactory(owner=rep, given_name="Match", family_name=f"M{i}")
    qs = Contact.objects.filter(search_condition("match", Contact))
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        before = cursor.fetchone()[0]
        result = list_page(qs, ordering=["sort_name", "id"], cursor=None, planner=IN_MEMORY_COSTS)
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == before != IN_MEMORY_COSTS["random_page_cost"]
    assert [c.family_name for c in result.page.items] == ["M0", "M1", "M2"]


def test_a_search_over_the_cap_reads_its_first_page_up_to_the_counts_bound(
    rep, settings, monkeypatch, django_assert_num_queries
):
    """Over the cap, a search's first page is read only up to the sort key where the counting
    query's subset of matches had a page: the same rows as the walk, and the bound is kept in
    the hint. When few rows come before the bound the walk is kept; a bound that no longer holds
    a page (rows gone), or a later page, is read without it."""
    from contacts.models import Contact
    from contacts.search import search_condition
    from crm import pagination
    from crm.pagination import bounded_page, keyset_page, list_page

    settings.CRM_COUNT_CAP = 4
    for i in range(9):
        ContactFactory(owner=rep, given_name="Match", family_name=f"M{i}")
    ContactFactory(owner=rep, given_name="Other", family_name="A")
    qs = Contact.objects.filter(search_condition("match", Contact))
    ordering = ["sort_name", "id"]
    walked = [c.pk for c in keyset_page(qs, ordering=ordering, cursor=None, size=3).items]

    def first(key: str) -> list[int]:
        result = list_page(qs, ordering=ordering, cursor=None, size=3, bounded=True, hint_key=key)
        assert (result.count, result.capped) == (4, True)
        assert result.page.has_next
        return [c.pk for c in result.page.items]

    bound = pagination._sort_values(qs, ordering, walked[-1])
    assert pagination._rows_before(qs, ordering, bound) >= 1  # the planner's estimate
    monkeypatch.setattr(pagination, "_rows_before", lambda *_args: 10**6)  # a long walk
    # The count, the bound's sort key, the ids (with NO_INDEX_WALK set and, inside the test's
    # transaction, put back: two more), the rows.
    with django_assert_num_queries(6) as captured:
        assert first("far") == walked
    # Never a walk along the sort index to the bound (3M contacts: 4.8 s for 李).
    assert any("enable_indexscan" in str(q["sql"]) for q in captured.captured_queries)
    with django_assert_num_queries(4):  # the hint keeps the bound
        assert first("far") == walked
    monkeypatch.setattr(pagination, "_rows_before", lambda *_args: 1)  # a short walk
    with django_assert_num_queries(3):  # the count, the bound's sort key, the walk
        assert first("near") == walked
    with django_assert_num_queries(1):
        assert first("near") == walked
    # A bound before the page's end (its rows gone): the page is walked without it.
    bound = list(qs.filter(pk=walked[0]).values_list("sort_name", "id")[0])
    page = bounded_page(qs, ordering=ordering, cursor=None, size=3, bound=bound)
    assert [c.pk for c in page.items] == walked
    garbage = bounded_page(qs, ordering=ordering, cursor=None, size=3, bound=["x"])
    assert [c.pk for c in garbage.items] == walked
    # A later page goes on from its cursor.
    second = list_page(qs, ordering=ordering, cursor=page.next_cursor, size=3, bounded=True)
    assert [c.family_name for c in second.page.items] == ["M3", "M4", "M5"]
