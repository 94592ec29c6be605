"""Name matches first (issue 31): a contact search in the default name sort whose term names the
start of a sort key ("nguy", 李, 欧阳) lists the contacts whose sort name starts with it first,
then the other matches (given name, e-mail, company) in name order, and counts after the rows
(`crm.lists.NameFirst`, `crm.pagination.name_first_page`). Cursors carry their part, so walking
the pages either way shows every match of the user's scope exactly once; other sorts and terms
that name no prefix keep the plain name order with the count."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from contacts.lists import CONTACTS
from contacts.models import Contact
from contacts.search import sort_prefix
from crm.lists import query_for
from crm.pagination import _encode
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

URL = "/contacts/"
HTMX = {"HTTP_HX_REQUEST": "true"}
_ROW = re.compile(r'id="contact-(\d+)"')
_LINK = re.compile(r'rel="(next|prev)" href="\?([^"]*)"')


@pytest.fixture
def world(rep: User, rep_teammate: User, rep_other_team: User) -> dict[str, list[int]]:
    """Seven visible contacts named Nguyen (the name range), five visible matches elsewhere
    (a given name, an address, a company), some sorting before "nguy" and some after, and the
    other team's of both kinds, which the rep never sees."""
    trading = CompanyFactory(owner=rep, name="Nguyen Trading")
    far = CompanyFactory(owner=rep_other_team, name="Nguyen Far Away")

    def nguyen(owner: User, given: str) -> int:
        return ContactFactory(owner=owner, given_name=given, family_name="Nguyen").pk

    names = [nguyen(rep if i % 2 else rep_teammate, f"An{i}") for i in range(7)]
    others = [
        ContactFactory(owner=rep, given_name="Nguyet", family_name="Adams").pk,
        ContactFactory(owner=rep_teammate, given_name="Zoe", family_name="Brown",
                       emails=["nguyen.zoe@mail.example"]).pk,
        ContactFactory(owner=rep, given_name="Al", family_name="Zhou", company=trading).pk,
        ContactFactory(owner=rep, given_name="Bo", family_name="Aaron", company=trading).pk,
        ContactFactory(owner=rep_teammate, given_name="Nguyen", family_name="Zz").pk,
    ]  # fmt: skip
    hidden = [
        nguyen(rep_other_team, "West"),
        ContactFactory(owner=rep_other_team, given_name="Nguyet", family_name="Abel").pk,
        ContactFactory(owner=rep_other_team, given_name="Cy", family_name="Able", company=far).pk,
    ]
    ContactFactory(owner=rep, given_name="Nobody", family_name="Else")
    return {"names": names, "others": others, "hidden": hidden}


def _in_order(ids: list[int]) -> list[int]:
    rows = Contact.objects.filter(pk__in=ids).order_by("sort_name", "id")
    return list(rows.values_list("pk", flat=True))


def _page(client: Client, query: str, **extra) -> tuple[list[int], dict[str, str], str]:
    response = client.get(f"{URL}?{query}", **extra)
    assert response.status_code == 200
    html = response.content.decode()
    links = {kind: unescape(q) for kind, q in _LINK.findall(html)}
    return [int(pk) for pk in _ROW.findall(html)], links, html


def _walk(client: Client, query: str) -> list[list[int]]:
    """The pages from the first, following "Next"; then back along "Previous" (the same pages)."""
    pages, links = [], {"next": query}
    while "next" in links:
        ids, links, _html = _page(client, links["next"])
        pages.append(ids)
        assert len(pages) < 30
    back = [ids]
    while "prev" in links:
        ids, links, _html = _page(client, links["prev"])
        back.append(ids)
    assert back[::-1] == pages
    return pages


@pytest.mark.parametrize("size", [2, 3, 7, 50])
def test_name_matches_come_first_and_every_match_shows_once(
    client: Client, rep: User, world, settings, size: int
):
    settings.CRM_PAGE_SIZE = size
    client.force_login(rep)
    pages = _walk(client, "q=nguy")
    shown = [pk for page in pages for pk in page]
    assert shown == _in_order(world["names"]) + _in_order(world["others"])
    assert len(shown) == len(set(shown))
    assert set(shown) == {c.pk for c in query_for(CONTACTS, rep, "q=nguy").queryset}
    assert all(len(page) == size for page in pages[:-1])
    # The page that ends in the name range goes on into the others (size 2: 7 = 2+2+2+1).
    assert not set(shown) & set(world["hidden"])


def test_a_page_that_ends_the_name_range_exactly_links_to_the_others(
    client: Client, rep: User, world, settings
):
    settings.CRM_PAGE_SIZE = 7
    client.force_login(rep)
    ids, links, _html = _page(client, "q=nguy")
    assert ids == _in_order(world["names"])
    assert "prev" not in links
    ids, links, _html = _page(client, links["next"])
    assert ids == _in_order(world["others"])
    assert "next" not in links


def test_the_list_says_that_names_come_first_and_counts_after_the_rows(
    client: Client, rep: User, world, settings
):
    settings.CRM_PAGE_SIZE = 5  # the first page holds name matches only
    client.force_login(rep)
    _ids, _links, html = _page(client, "q=Nguy")
    assert "Names that begin with “Nguy” come first, then the other matches." in html
    # The rows at once, the count after them (the pager's fragment).
    assert 'hx-get="?q=Nguy&amp;count=1" hx-trigger="load"' in html
    assert "12 results" not in html
    response = client.get(f"{URL}?q=Nguy&count=1", **HTMX)
    assert "12 results" in response.content.decode()
    assert "<table" not in response.content.decode()
    # Without JS the link counts with the rows.
    _ids, _links, html = _page(client, "q=Nguy&count=1")
    assert "12 results" in html
    assert "come first" in html


def test_a_first_page_that_reaches_the_others_counts_with_the_rows(
    client: Client, rep: User, world
):
    # The others' read counts them; the name matches are all on the page: no second request.
    client.force_login(rep)
    ids, _links, html = _page(client, "q=nguy")
    assert ids == _in_order(world["names"]) + _in_order(world["others"])
    assert "12 results" in html
    assert "count=1" not in html
    assert "come first" in html
    # A term with no name matches at all: the others are every match.
    ids, _links, html = _page(client, "q=trading")
    assert set(ids) == {world["others"][2], world["others"][3]}
    assert "2 results" in html


@pytest.mark.parametrize("size", [5, 50])
def test_the_count_keeps_its_cap(client: Client, rep: User, world, settings, size: int):
    settings.CRM_COUNT_CAP = 5
    settings.CRM_PAGE_SIZE = size
    client.force_login(rep)
    response = client.get(f"{URL}?q=nguy&count=1", **HTMX)
    assert "More than 5" in response.content.decode()
    ids, _links, html = _page(client, "q=nguy")
    # More name matches (7) than the cap: the others are left out after them, and said so
    # (tests/contacts/test_name_first_more.py).
    assert ids == _in_order(world["names"])[:size]
    assert ("More than 5" in html) == (size == 50)


def test_the_htmx_fragment_pages_the_same_way(client: Client, rep: User, world, settings):
    settings.CRM_PAGE_SIZE = 5
    client.force_login(rep)
    ids, links, html = _page(client, "q=nguy", **HTMX)
    assert "<html" not in html
    assert ids == _in_order(world["names"])[:5]
    more, links, _html = _page(client, links["next"], **HTMX)
    assert more == _in_order(world["names"])[5:] + _in_order(world["others"])[:3]
    assert not set(ids + more) & set(world["hidden"])


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%00",
        _encode(["nguyen an1", 1], "n"),  # a plain list's cursor
        _encode(["nguyen an1", 1], "n3"),  # no such part
        _encode(["nguyen an1"], "n1"),  # too few values
        _encode(["nguyen\x00", 1], "n1"),  # NUL
        _encode(["nguyen", "x"], "p2"),  # not an id
        _encode([None, None], "n2"),
        _encode(["nguyen", 10**30], "n1"),  # past every id
    ],
)
def test_a_tampered_cursor_is_a_first_page_or_an_empty_one_never_an_error(
    client: Client, rep: User, world, cursor: str
):
    client.force_login(rep)
    response = client.get(URL, {"q": "nguy", "cursor": cursor})
    assert response.status_code == 200
    ids = [int(pk) for pk in _ROW.findall(response.content.decode())]
    assert not set(ids) & set(world["hidden"])
    assert ids in ([], (_in_order(world["names"]) + _in_order(world["others"]))[: len(ids)])


def test_chinese_family_names_come_first(client: Client, rep: User, rep_other_team: User):
    def chinese(owner: User, family: str, given: str) -> int:
        return ContactFactory(
            owner=owner, family_name=family, given_name=given, name_order="family_first"
        ).pk

    li = [chinese(rep, "李", "伟"), chinese(rep, "李", "娜"), chinese(rep, "李", "小明")]
    given_li = chinese(rep, "王", "李")  # 李 as a given name: sorts as "王 李"
    ouyang = chinese(rep, "欧阳", "娜娜")
    yang = chinese(rep, "阳", "光")
    hidden = chinese(rep_other_team, "李", "强")
    client.force_login(rep)
    ids, _links, html = _page(client, "q=李")
    assert ids == [*_in_order(li), given_li]
    assert hidden not in ids
    assert "come first" in html
    ids, _links, _html = _page(client, "q=欧阳")
    assert ids == [ouyang]
    ids, _links, _html = _page(client, "q=阳")  # 阳 first, then 欧阳 (the character inside)
    assert ids == [yang, ouyang]


@pytest.mark.parametrize(
    ("term", "prefix"),
    [
        ("nguy", "nguy"), ("  Smi ", "smi"), ("NGÔ", "ngo"), ("李", "李"), ("欧阳", "欧阳"),
        ("张伟", "张 伟"), ("nguy an", None), ("o'brien", None), ("138", None), ("smi3", None),
        ("nguyen.zoe@mail.example", None), ("a_b", None), ("50%", None), ("", None),
    ],
)  # fmt: skip
def test_which_terms_name_a_sort_key_prefix(term: str, prefix: str | None):
    assert sort_prefix(term) == prefix


@pytest.mark.parametrize(
    "query", ["q=nguy+an1", "q=nguyen.zoe@mail.example", "q=张+伟", "q=138", "q=nguy&sort=-name"]
)
def test_other_terms_and_sorts_keep_the_plain_order_with_the_count(
    client: Client, rep: User, world, query: str
):
    ContactFactory(owner=rep, family_name="张", given_name="伟", name_order="family_first")
    ContactFactory(owner=rep, given_name="Phone", family_name="Aardvark", phones=["+86 138 0000"])
    client.force_login(rep)
    ids, _links, html = _page(client, query)
    assert ids
    assert "come first" not in html
    assert "count=1" not in html  # counted with the rows, as before
    assert re.search(r"\d+ results?<", html)
    expected = [c.pk for c in query_for(CONTACTS, rep, query).queryset.order_by("sort_name", "id")]
    assert ids == (expected[::-1] if "-name" in query else expected)


def test_other_sorts_keep_the_plain_order(client: Client, rep: User, world):
    client.force_login(rep)
    ids, _links, html = _page(client, "q=nguy&sort=created")
    assert ids == sorted(world["names"] + world["others"])
    assert "come first" not in html


def test_the_api_and_the_export_keep_their_order_and_the_scope(rep: User, rep_client, world):
    api = APIClient()
    api.force_authenticate(rep)
    body = api.get("/api/contacts/", {"q": "nguy"}).json()
    visible = set(world["names"] + world["others"])
    assert {c["id"] for c in body["results"]} == visible
    response = rep_client.get(reverse("contacts:contact-export"), {"q": "nguy"})
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    exported = {int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert exported == visible
    assert api.get("/api/contacts/", {"q": "nguy", "cursor": "garbage"}).status_code == 400


def _tier_one_sql(queries: list[dict]) -> str:
    found = [q["sql"] for q in queries if "LIKE 'nguy%'" in q["sql"] and "NOT" not in q["sql"]]
    assert len(found) == 1, [q["sql"][:200] for q in queries]
    return found[0]


@pytest.mark.django_db(transaction=True)  # the caches are filled outside a transaction only
def test_a_page_in_the_name_range_reads_ids_then_rows_and_no_count(
    client: Client, rep: User, world, settings
):
    settings.CRM_PAGE_SIZE = 3
    client.force_login(rep)
    client.get(f"{URL}?q=nguy")  # the caches: role rules, options, tag labels
    with CaptureQueriesContext(connection) as captured:
        ids, _links, _html = _page(client, "q=nguy")
    sqls = [q["sql"] for q in captured.captured_queries]
    assert ids == _in_order(world["names"])[:3]
    # The session's user, the user's shares; BEGIN, the planner setting, the name range's ids
    # (no join), COMMIT; the rows. As many as the plain search (its counting query has its
    # planner settings too), without its count.
    assert len(sqls) == 7, "\n".join(s[:150] for s in sqls)
    tier_one = _tier_one_sql(captured.captured_queries)
    assert " JOIN " not in tier_one
    assert not [s for s in sqls if "count(" in s.lower()]
    # A page that reaches the others reads them as the plain search does: collected and sorted
    # (the table's size, which decides whether to ask the planner how many others there are
    # (`NameFirst.newest`), is cached for ten minutes: read by the first such page).
    reaching = "q=nguy&cursor=" + _encode(["nguyen an5", world["names"][5]], "n1")
    _page(client, reaching)
    with CaptureQueriesContext(connection) as captured:
        _page(client, reaching)
    sqls = [q["sql"] for q in captured.captured_queries]
    # ... the name matches counted up to the cap (more than the cap would leave the others
    # out), then the others' counting query (BEGIN, settings, matches, COMMIT) and their rows.
    assert len(sqls) == 13, "\n".join(s[:150] for s in sqls)
    assert len([s for s in sqls if "LIMIT 1001) subquery" in s]) == 1


def test_the_name_range_is_read_along_the_name_index_without_bitmaps(
    client: Client, rep: User, world
):
    client.force_login(rep)
    queries = analyzed_search(client, "contacts_contact", f"{URL}?q=nguy")
    plan = ordered_walk_plan(_tier_one_sql(queries))
    assert "Index Scan using contact_active_name on contacts_contact" in plan, plan
    assert "Bitmap" not in plan, plan
    assert re.search(r"Index Cond: .*sort_name.*>= 'nguy'", plan), plan


def ordered_walk_plan(sql: str) -> str:
    """The plan of a name range's statement as the page runs it (no bitmaps), on a small table
    (no sequential scan). On a few dozen rows the planner may also read the range through
    another index's second column and sort the handful it finds (contact_company_name: seen in
    CI); at scale it walks the name index in order (bench.modules.contacts plans it). Without
    the sort the ordered walk is the one plan left: the statement must allow it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def analyzed_search(client: Client, table: str, url: str) -> list[dict[str, str]]:
    """The statements of the page at `url`, once `table` has its statistics."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return captured.captured_queries
