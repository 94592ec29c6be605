"""Filtered lists whose page costs a page at any size (issue 31): a list without a search that
the planner expects to hold more than `ListSpec.lazy_from` matches (contacts: stage + tag) reads
its page's ids along the sort index and stops after a page (`crm.pagination.ids_first_page`),
and its count comes after the rows, instead of collecting every match first.

The table here is small, so the tests lower the thresholds (the table size from which the planner
is asked, and `lazy_from`); the planner's estimate itself is real (the table is ANALYZEd)."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from contacts.lists import CONTACTS
from contacts.models import Contact, Tag
from crm import lists as kit
from crm import pagination
from crm.lists import query_for
from crm.pagination import LAZY_FROM, list_page
from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def vip(db: None) -> Tag:
    return TagFactory(name="VIP")


def _people(owner: User, n: int, *, tag: Tag | None, stage: str = "customer", name: str = "Vip"):
    return [
        ContactFactory(
            owner=owner,
            given_name=f"{name}{i:02d}",
            family_name=f"{'ZYXWVUTSRQ'[i % 10]}amily",
            lifecycle_stage=stage,
            tags=[tag] if tag else None,
        )
        for i in range(n)
    ]


@pytest.fixture
def world(rep: User, rep_teammate: User, rep_other_team: User, vip: Tag, monkeypatch):
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 0)
    seen = _people(rep, 9, tag=vip) + _people(rep_teammate, 8, tag=vip, name="Team")
    _people(rep_other_team, 6, tag=vip, name="Other")  # another team's: never listed
    _people(rep, 4, tag=None, name="Untagged")  # customers without the tag
    _people(rep, 4, tag=vip, stage="prospect", name="Prospect")  # the tag, another stage
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")  # the planner's estimate is what decides
    return sorted(seen, key=lambda c: (c.sort_name, c.pk))


def _query(user: User, vip: Tag):
    return query_for(CONTACTS, user, f"stage=customer&tag={vip.pk}")


def _walk(
    user: User, vip: Tag, *, lazy_from: int | None, size: int = 5, counts: list | None = None
) -> list[list[int]]:
    """Every page forward, then every page backward from the last, as id lists (`counts`
    gets each page's count)."""
    q = _query(user, vip)
    read = lambda cursor: list_page(  # noqa: E731
        q.queryset,
        ordering=q.ordering,
        cursor=cursor,
        size=size,
        lazy=lazy_from is not None,
        lazy_from=lazy_from,
    )
    pages, cursor = [], None
    while True:
        found = read(cursor)
        pages.append([c.pk for c in found.page.items])
        if counts is not None:
            counts.append(found.count)
        if not found.page.has_next:
            break
        cursor = found.page.next_cursor
    back, cursor = [], found.page.prev_cursor
    while cursor:
        found = read(cursor)
        back.append([c.pk for c in found.page.items])
        cursor = found.page.prev_cursor
    return pages + back[::-1]


def test_pages_read_along_the_index_are_the_counted_pages(rep: User, vip: Tag, world):
    counts: list[int | None] = []
    walked = _walk(rep, vip, lazy_from=3, counts=counts)
    assert counts == [None] * 4  # read along the index, counted after the rows
    counted = _walk(rep, vip, lazy_from=None, counts=counts)
    assert counts[4:] == [17] * 4
    assert walked == counted
    forward = [pk for page in walked[:4] for pk in page]
    # Exactly the rep's own and team's tagged customers, in the list's order (name, id).
    assert forward == [c.pk for c in world]
    assert len(walked) == 4 + 3  # 17 rows in pages of 5, then back from the last page


def test_the_scope_stays_exact(rep_other_team: User, vip: Tag, world):
    found = [pk for page in _walk(rep_other_team, vip, lazy_from=3)[:2] for pk in page]
    theirs = Contact.objects.filter(owner=rep_other_team).order_by("sort_name", "id")
    assert found == [c.pk for c in theirs if c.lifecycle_stage == "customer"]
    assert not set(found) & {c.pk for c in world}


def test_under_lazy_from_the_count_comes_with_the_rows(rep: User, vip: Tag, world):
    q = _query(rep, vip)
    found = list_page(q.queryset, ordering=q.ordering, cursor=None, lazy=True, lazy_from=500)
    assert found.count == 17
    assert [c.pk for c in found.page.items] == [c.pk for c in world]


def _page_queries(user: User, vip: Tag) -> list[str]:
    q = _query(user, vip)
    read = lambda: list_page(  # noqa: E731
        q.queryset, ordering=q.ordering, cursor=None, size=5, lazy=True, lazy_from=3
    )
    read()  # the table's size, cached for ten minutes (crm.pagination.table_rows)
    with CaptureQueriesContext(connection) as captured:
        read()
    # Under xdist another worker's cache.clear() (a FLUSHDB of the shared Redis) may drop the
    # cached size between the two reads; that lookup is not part of the page's cost.
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith("SELECT reltuples")
    ]


def test_the_page_reads_a_page_not_the_matches(rep: User, vip: Tag, world):
    """The estimate, the page's ids (a LIMIT, no count) and its rows: the same three statements
    for 17 and for 37 matches."""
    before = _page_queries(rep, vip)
    _people(rep, 20, tag=vip, name="More")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    after = _page_queries(rep, vip)
    assert len(before) == len(after) == 3
    assert before[0].startswith("EXPLAIN")
    ids = before[1]
    assert "count(" not in ids.lower()
    assert "LIMIT 6" in ids
    assert "JOIN" not in ids  # the ids without the rows' joins
    assert "count(" not in before[2].lower()


@pytest.fixture
def lazy_list(monkeypatch):
    """The contact list with `lazy_from` lowered to what this small table can exceed."""
    monkeypatch.setitem(kit.SPECS, "contacts", CONTACTS)  # replace() registers its copy
    spec = dataclasses.replace(CONTACTS, lazy_from=3)
    monkeypatch.setattr("contacts.views.contacts.CONTACTS", spec)
    return spec


def test_the_contact_list_shows_rows_then_its_count(
    client: Client, rep: User, vip: Tag, world, lazy_list
):
    client.force_login(rep)
    url = f"/contacts/?stage=customer&tag={vip.pk}"
    page = client.get(url).content.decode()
    assert world[0].display_name in page
    assert "Other00" not in page
    assert 'hx-trigger="load"' in page  # the count after the rows
    fragment = client.get(url + "&count=1", **HTMX).content.decode()
    assert "17" in fragment
    assert "<table" not in fragment


def test_the_contact_list_lowers_the_threshold():
    assert CONTACTS.lazy_count
    assert CONTACTS.lazy_from == LAZY_FROM
    assert LAZY_FROM < kit.settings.CRM_COUNT_CAP
