"""Many other matches newest first (issue 31): a search listing its name matches first
(`crm.lists.NameFirst`) whose other matches the planner expects to be more than the count cap
lists those newest first, read by walking the id index with the search as a filter, and says so
(`NameFirst.newest`, `crm.pagination.name_first_page(newest=)`). Cursors carry the part, so the
pages cross from the names to the others and back without skipping or repeating a row; an
explicit sort, and searches expected under the cap, keep the name order."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from contacts.lists import CONTACTS
from contacts.models import Contact
from contacts.search import build_search_text, search_condition, walk_condition
from crm import lists as kit
from crm import pagination
from crm.lists import query_for
from crm.pagination import (
    NEWEST_WALK_PLANNER,
    _encode,
    bump_list_version,
    name_first_ids,
    planner_settings,
)
from tests.contacts.factories import ContactFactory
from tests.contacts.test_name_first import _page, _walk

pytestmark = pytest.mark.django_db

URL = "/contacts/"
_ROW = re.compile(r'id="contact-(\d+)"')
NEWEST = "are listed newest first. Add a word to narrow the search."


def _others(owners: list[User], n: int, start: int = 0) -> list[int]:
    """`n` contacts matching "chen" through their address only, named to sort before and
    after "chen" (written in one statement: enough rows for the planner's statistics)."""
    rows = []
    for i in range(start, start + n):
        owner = owners[i % len(owners)]
        family = "Adams" if i % 2 else "Zhou"
        email = f"xingchen{i}@mail.example"
        rows.append(
            Contact(given_name=f"P{i:03}", family_name=family, display_name=f"P{i:03} {family}",
                    sort_name=f"{family.lower()} p{i:03}", primary_email=email,
                    search_text=build_search_text([f"P{i:03} {family}", email]),
                    owner=owner, team_id=owner.team_id)
        )  # fmt: skip
    return [c.pk for c in Contact.objects.bulk_create(rows)]


def _world(rep: User, rep_teammate: User, rep_other_team: User, others: int) -> dict:
    """Three visible contacts named Chen (the name range), `others` visible matches through
    their address only, the other team's of both kinds, and contacts that do not match."""
    names = [
        ContactFactory(owner=rep if i % 2 else rep_teammate, given_name=f"An{i}",
                       family_name="Chen").pk
        for i in range(3)
    ]  # fmt: skip
    other = _others([rep, rep, rep_teammate], others)
    hidden = [
        ContactFactory(owner=rep_other_team, given_name="West", family_name="Chen").pk,
        *_others([rep_other_team], 2, start=900),
    ]
    for i in range(6):
        ContactFactory(owner=rep, given_name=f"No{i}", family_name="Body")
    with connection.cursor() as db:  # the planner's estimate decides the order
        db.execute("ANALYZE contacts_contact")
    return {"names": names, "others": other, "hidden": hidden}


@pytest.fixture
def world(rep: User, rep_teammate: User, rep_other_team: User) -> dict:
    return _world(rep, rep_teammate, rep_other_team, 120)


@pytest.fixture
def many(monkeypatch) -> kit.ListSpec[Contact]:
    """The contact list with the name-first count cap lowered to what this small table can
    exceed, and the planner asked at any table size."""
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 0)
    monkeypatch.setitem(kit.SPECS, "contacts", CONTACTS)  # replace() registers its copy
    assert CONTACTS.name_first is not None
    spec = dataclasses.replace(
        CONTACTS, name_first=dataclasses.replace(CONTACTS.name_first, count_cap=5)
    )
    monkeypatch.setattr("contacts.views.contacts.CONTACTS", spec)
    return spec


def _by_name(ids: list[int]) -> list[int]:
    rows = Contact.objects.filter(pk__in=ids).order_by("sort_name", "id")
    return list(rows.values_list("pk", flat=True))


@pytest.mark.parametrize("size", [5, 7, 50])
def test_many_other_matches_come_newest_first_after_the_names(
    client: Client, rep: User, world, many, settings, size: int
):
    settings.CRM_PAGE_SIZE = size
    client.force_login(rep)
    pages = _walk(client, "q=chen")  # forward along "Next", then back along "Previous"
    shown = [pk for page in pages for pk in page]
    assert shown == _by_name(world["names"]) + sorted(world["others"], reverse=True)
    assert set(shown) == {c.pk for c in query_for(CONTACTS, rep, "q=chen").queryset}
    assert all(len(page) == size for page in pages[:-1])


def test_the_pages_listing_others_newest_first_say_so(
    client: Client, rep: User, world, many, settings
):
    settings.CRM_PAGE_SIZE = 2
    client.force_login(rep)
    ids, links, html = _page(client, "q=chen")  # two of the three names
    assert ids == _by_name(world["names"])[:2]
    assert NEWEST not in html
    assert "come first" in html
    ids, links, html = _page(client, links["next"])  # the last name, the newest other
    assert ids == [_by_name(world["names"])[2], max(world["others"])]
    assert "Many matches: the ones whose name does not begin with “chen” are listed newest " in html
    ids, links, html = _page(client, links["next"])
    assert ids == sorted(world["others"], reverse=True)[1:3]
    assert NEWEST in html
    ids, links, html = _page(client, links["prev"])  # back across the parts
    assert ids == [_by_name(world["names"])[2], max(world["others"])]
    ids, links, html = _page(client, links["prev"])
    assert ids == _by_name(world["names"])[:2]
    assert "prev" not in links
    assert NEWEST not in html


def test_under_the_cap_the_others_keep_the_name_order(
    client: Client, rep: User, rep_teammate: User, rep_other_team: User, monkeypatch
):
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 0)
    world = _world(rep, rep_teammate, rep_other_team, 40)  # the list's own cap: 1,000
    client.force_login(rep)
    ids, _links, html = _page(client, "q=chen")
    assert ids == _by_name(world["names"]) + _by_name(world["others"])
    assert NEWEST not in html
    assert "43 results" in html


def test_small_tables_keep_the_name_order(client: Client, rep: User, world, many, monkeypatch):
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 100_000)
    client.force_login(rep)
    ids, _links, html = _page(client, "q=chen")
    assert ids == _by_name(world["names"]) + _by_name(world["others"])[:47]
    assert NEWEST not in html


@pytest.mark.parametrize("sort", ["-name", "created", "-updated"])
def test_an_explicit_sort_keeps_its_order(
    client: Client, rep: User, world, many, settings, sort: str
):
    settings.CRM_PAGE_SIZE = 50
    client.force_login(rep)
    ids, _links, html = _page(client, f"q=chen&sort={sort}")
    ordering = CONTACTS.sorts[sort].ordering
    every = query_for(CONTACTS, rep, f"q=chen&sort={sort}").queryset.order_by(*ordering)
    assert ids == list(every.values_list("pk", flat=True))[:50]
    assert NEWEST not in html
    assert "come first" not in html


@pytest.mark.parametrize(
    "cursor",
    [
        _encode(["x"], "n3"),  # not an id
        _encode([None], "p3"),
        _encode(["1\x00"], "n3"),  # NUL
        _encode([1, 2], "n3"),  # too many values
        _encode([10**30], "n3"),  # past every id: every other match follows
        _encode([-5], "p3"),
        _encode([3], "x3"),  # no such direction
    ],
)
def test_a_tampered_newest_cursor_is_a_page_never_an_error(
    client: Client, rep: User, world, many, cursor: str
):
    client.force_login(rep)
    response = client.get(f"{URL}?q=chen&cursor={cursor}")
    assert response.status_code == 200
    ids = [int(pk) for pk in _ROW.findall(response.content.decode())]
    assert not set(ids) & set(world["hidden"])


def test_a_newest_cursor_in_a_list_without_that_order_is_the_first_page(
    client: Client, rep: User, world, many, monkeypatch
):
    assert many.name_first is not None
    plain = dataclasses.replace(many, name_first=dataclasses.replace(many.name_first, newest=()))
    monkeypatch.setattr("contacts.views.contacts.CONTACTS", plain)
    client.force_login(rep)
    ids, _links, html = _page(client, "q=chen")
    assert ids == _by_name(world["names"]) + _by_name(world["others"])[:47]
    assert NEWEST not in html
    again, _links, _html = _page(client, f"q=chen&cursor={_encode([world['others'][-1]], 'n3')}")
    assert again == ids


def test_queries_do_not_grow_with_the_matches(
    client: Client, rep: User, rep_teammate: User, rep_other_team: User, many, settings
):
    settings.CRM_PAGE_SIZE = 4
    client.force_login(rep)
    world = _world(rep, rep_teammate, rep_other_team, 120)
    _page(client, "q=chen")  # warm the caches (role rules, options, the table's size)

    def queries() -> tuple[int, int]:
        bump_list_version(Contact)  # a search typed for the first time (no plan hints)
        with CaptureQueriesContext(connection) as first:
            _ids, links, _html = _page(client, "q=chen")
        with CaptureQueriesContext(connection) as second:
            _page(client, links["next"])
        return len(first.captured_queries), len(second.captured_queries)

    few = queries()
    _others([rep], 300, start=1000)
    with connection.cursor() as db:
        db.execute("ANALYZE contacts_contact")
    assert queries() == few
    assert few[0] <= 22, few
    assert world["others"]


def test_the_walk_reads_the_id_index_backwards_without_bitmaps(rep: User, world, many):
    query = query_for(CONTACTS, rep, "q=chen")
    assert query.first is not None
    rest = query.queryset.exclude(query.first).filter(walk_condition("chen"))
    sql, params = name_first_ids(rest, ordering=["-id"])[:5].query.sql_with_params()
    walk = planner_settings(connection.alias, NEWEST_WALK_PLANNER)
    with transaction.atomic(), walk, connection.cursor() as db:
        db.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "Index Scan Backward" in plan, plan
    assert "Bitmap" not in plan, plan
    assert "Sort" not in plan, plan
    # The trigram arm is tested before the full-text one.
    assert plan.index("~~ '%chen%'") < plan.index("@@"), plan


@pytest.mark.parametrize(
    ("term", "walks"),
    [("chen", True), ("Chen", True), ("ab1", True), ("ch", False), ("smi joh", False),
     ("李", False), ("ann@x.example", False), ("1381234", False)],
)  # fmt: skip
def test_the_walk_filter_is_the_trigram_arm_of_one_plain_word(term: str, walks: bool):
    assert (walk_condition(term) is not None) == walks


def test_the_walk_filter_keeps_every_match(rep: User, world):
    matches = Contact.objects.filter(search_condition("chen", Contact))
    assert set(matches.filter(walk_condition("chen"))) == set(matches)
