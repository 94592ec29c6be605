"""Name matches first, continued (issue 31): Chinese full names typed together (张伟 lists the
contacts whose sort key starts "张 伟" first), companies (a search for a name's start lists
those companies first, read along company_active_name_key), the count to 1,000 ("More than
1,000": `NameFirst.count_cap`), and the other matches left out after more name matches than
that (telling them apart would read every match). Cursors cross between the parts without
skipping or repeating a row, either way, at any page size."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from contacts.lists import COMPANIES, CONTACTS
from contacts.models import Company, Contact
from contacts.search import company_sort_prefix, sort_prefix
from crm.lists import ListSpec, _name_first_cap, query_for
from crm.pagination import _encode
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.contacts.test_name_first import analyzed_search, ordered_walk_plan

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
_CONTACT_ROW = re.compile(r'id="contact-(\d+)"')
_COMPANY_ROW = re.compile(r'href="/contacts/companies/(\d+)/"')
_LINK = re.compile(r'rel="(next|prev)" href="\?([^"]*)"')
LEFT_OUT = "that the other matches are not listed after them"


def _page(client: Client, url: str, query: str, **extra) -> tuple[list[int], dict[str, str], str]:
    response = client.get(f"{url}?{query}", **extra)
    assert response.status_code == 200
    html = response.content.decode()
    links = {kind: unescape(q) for kind, q in _LINK.findall(html)}
    rows = _COMPANY_ROW if "companies" in url else _CONTACT_ROW
    return [int(pk) for pk in rows.findall(html)], links, html


def _walk(client: Client, url: str, query: str) -> tuple[list[list[int]], str]:
    """The pages from the first along "Next", checked against the way back along "Previous";
    and the last page's HTML."""
    pages, links, html = [], {"next": query}, ""
    while "next" in links:
        ids, links, html = _page(client, url, links["next"])
        pages.append(ids)
        assert len(pages) < 40
    last_html, back = html, [pages[-1]]
    while "prev" in links:
        ids, links, _html = _page(client, url, links["prev"])
        back.append(ids)
    assert back[::-1] == pages
    return pages, last_html


def _walks_in_tiers(
    client: Client, rep: User, spec: ListSpec[Any], term: str, expected: list[int], size: int
) -> str:
    """Walks the search's pages both ways: `expected` in order, each once, full pages but the
    last, every match of the rep's scope and no other; the last page's HTML."""
    url = "/contacts/companies/" if spec is COMPANIES else "/contacts/"
    pages, html = _walk(client, url, f"q={term}")
    shown = [pk for page in pages for pk in page]
    assert shown == expected
    assert set(shown) == {row.pk for row in query_for(spec, rep, f"q={term}").queryset}
    assert all(len(page) == size for page in pages[:-1])
    assert f"Names that begin with “{term}” come first" in html
    return html


def _contacts_in_order(ids: list[int]) -> list[int]:
    rows = Contact.objects.filter(pk__in=ids).order_by("sort_name", "id")
    return list(rows.values_list("pk", flat=True))


def _companies_in_order(ids: list[int]) -> list[int]:
    rows = Company.objects.filter(pk__in=ids).annotate(key=Company.NAME_KEY)
    return list(rows.order_by("key", "id").values_list("pk", flat=True))


# --- Chinese full names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "prefix"),
    [
        ("张伟", "张 伟"), ("王芳", "王 芳"), ("王小明", "王 小明"), ("欧阳娜娜", "欧阳 娜娜"),
        ("司马光", "司马 光"), ("欧阳", "欧阳"), ("李", "李"), ("张abc", None), ("张 伟", None),
        ("张伟1", None),
    ],
)  # fmt: skip
def test_a_chinese_full_name_names_the_family_name_and_the_given_names_start(
    term: str, prefix: str | None
):
    assert sort_prefix(term) == prefix


@pytest.fixture
def zhang_wei(rep: User, rep_teammate: User, rep_other_team: User) -> dict[str, list[int]]:
    def chinese(owner: User, family: str, given: str, **extra) -> int:
        return ContactFactory(
            owner=owner, family_name=family, given_name=given, name_order="family_first", **extra
        ).pk

    trading = CompanyFactory(owner=rep, name="张伟贸易")
    names = [
        chinese(rep, "张", "伟"),
        chinese(rep_teammate, "张", "伟"),
        chinese(rep, "张", "伟明"),
        chinese(rep, "张", "伟华"),
        ContactFactory(owner=rep, family_name="张", given_name="伟", name_order="given_first").pk,
    ]
    others = [
        chinese(rep, "王", "芳", company=trading),  # through the company's name
        chinese(rep, "李", "张伟"),  # 张伟 as a given name: sorts as "李 张伟"
        chinese(rep_teammate, "阿", "张伟"),
    ]
    not_matching = [chinese(rep, "张", "强"), chinese(rep, "张", "小伟")]
    hidden = [chinese(rep_other_team, "张", "伟"), chinese(rep_other_team, "赵", "张伟")]
    return {"names": names, "others": others, "not": not_matching, "hidden": hidden}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 6, 50])
@pytest.mark.parametrize("term", ["张伟", "acme"])
def test_names_first_across_pages_both_ways_chinese_full_names_and_companies(
    client: Client, rep: User, request, settings, term: str, size: int
):
    """张伟 lists 张伟, 张伟明... first, then 张伟 in a company or a given name; "acme" lists
    the companies whose name begins with it (any case), then those that have it elsewhere."""
    settings.CRM_PAGE_SIZE = size
    client.force_login(rep)
    if term == "acme":
        world, spec, in_order = request.getfixturevalue("acme"), COMPANIES, _companies_in_order
    else:
        world, spec, in_order = request.getfixturevalue("zhang_wei"), CONTACTS, _contacts_in_order
    html = _walks_in_tiers(
        client, rep, spec, term, in_order(world["names"]) + in_order(world["others"]), size
    )
    assert LEFT_OUT not in html


def test_a_compound_family_names_full_name_is_name_first(client: Client, rep: User):
    def chinese(family: str, given: str) -> int:
        return ContactFactory(
            owner=rep, family_name=family, given_name=given, name_order="family_first"
        ).pk

    ouyang = [chinese("欧阳", "娜娜"), chinese("欧阳", "娜")]
    other = chinese("王", "欧阳娜娜")  # a given name that is a whole name
    chinese("欧阳", "修")
    client.force_login(rep)
    ids, _links, html = _page(client, "/contacts/", "q=欧阳娜")
    assert ids == [*_contacts_in_order(ouyang), other]
    assert "come first" in html


# --- Companies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "prefix"),
    [
        ("Acme", "acme"), ("  ACME  Tr ", "acme tr"), ("华为", "华为"), ("3M", "3m"),
        ("sales@acme.example", None), ("https://acme.example", None), ("+86 138 0000", None),
        ("", None),
    ],
)  # fmt: skip
def test_which_terms_name_the_start_of_a_company_name(term: str, prefix: str | None):
    assert company_sort_prefix(term) == prefix


@pytest.fixture
def acme(rep: User, rep_teammate: User, rep_other_team: User) -> dict[str, list[int]]:
    def company(owner: User, name: str, **extra) -> int:
        return CompanyFactory(owner=owner, name=name, **extra).pk

    names = [
        company(rep, "Acme Trading"),
        company(rep_teammate, "acme labs"),  # lower case: the same range
        company(rep, "ACME"),
        company(rep, "Acme Trading"),  # a twin: the id breaks the tie
    ]
    others = [
        company(rep, "Acmé Foods"),  # found unaccented, but "acmé" does not begin "acme"
        company(rep, "Zeta Acme"),
        company(rep_teammate, "Beta Works", website="https://acme-beta.example"),
        company(rep, "Able Acme Partners"),
    ]
    hidden = [company(rep_other_team, "Acme Far"), company(rep_other_team, "Far Acme")]
    company(rep, "Nothing Here")
    return {"names": names, "others": others, "hidden": hidden}


def test_the_company_list_sorts_by_the_lower_cased_name_and_counts_after_the_rows(
    client: Client, rep: User, acme, settings
):
    settings.CRM_PAGE_SIZE = 3
    client.force_login(rep)
    ids, _links, html = _page(client, "/contacts/companies/", "q=Acme")
    assert ids == _companies_in_order(acme["names"])[:3]
    assert 'hx-get="?q=Acme&amp;count=1" hx-trigger="load"' in html
    response = client.get("/contacts/companies/?q=Acme&count=1", **HTMX)
    assert "8 results" in response.content.decode()
    # Without a search, and in the other sorts, the plain order.
    ids, _links, html = _page(client, "/contacts/companies/", "sort=-name")
    visible = acme["names"] + acme["others"] + [Company.objects.get(name="Nothing Here").pk]
    assert ids == _companies_in_order(visible)[::-1][:3]
    ids, _links, html = _page(client, "/contacts/companies/", "q=acme&sort=-name")
    assert ids == _companies_in_order(acme["names"] + acme["others"])[::-1][:3]
    assert "come first" not in html


def test_the_company_name_range_is_read_along_its_index_without_bitmaps(
    client: Client, rep: User, acme
):
    client.force_login(rep)
    queries = analyzed_search(client, "contacts_company", "/contacts/companies/?q=acme")
    found = [q["sql"] for q in queries if "LIKE 'acme%'" in q["sql"]]
    found = [sql for sql in found if "NOT" not in sql and "COUNT(" not in sql.upper()]
    assert len(found) == 1, found
    plan = ordered_walk_plan(found[0])
    assert "Index Scan using company_active_name_key on contacts_company" in plan, plan
    assert "Bitmap" not in plan, plan
    assert re.search(r"Index Cond: .*>= 'acme'", plan), plan


# --- The count's cap and the other matches after many names -------------------------------


def test_a_name_first_count_stops_at_a_thousand():
    assert _name_first_cap(CONTACTS) == 1000
    assert _name_first_cap(COMPANIES) == 1000


def test_the_count_fragment_reads_at_most_the_cap_and_one_more(client: Client, rep: User):
    for given in ("An", "Bo", "Cy"):
        ContactFactory(owner=rep, given_name=given, family_name="Nguyen")
    client.force_login(rep)
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/contacts/?q=nguy&count=1", **HTMX)
    assert "3 results" in response.content.decode()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert "LIMIT 1001" in counts[0], counts[0]


@pytest.fixture
def many_nguyens(rep: User) -> dict[str, list[int]]:
    names = [
        ContactFactory(owner=rep, given_name=f"An{i}", family_name="Nguyen").pk for i in range(7)
    ]
    others = [
        ContactFactory(owner=rep, given_name="Nguyet", family_name="Adams").pk,
        ContactFactory(owner=rep, given_name="Nguyen", family_name="Zz").pk,
    ]
    return {"names": names, "others": others}


@pytest.mark.parametrize("size", [2, 3, 7, 50])
def test_after_more_name_matches_than_the_cap_the_others_are_left_out_and_said_so(
    client: Client, rep: User, many_nguyens, settings, size: int
):
    settings.CRM_COUNT_CAP = 5  # the list's cap, lower than NameFirst's: 7 names are "many"
    settings.CRM_PAGE_SIZE = size
    client.force_login(rep)
    pages, html = _walk(client, "/contacts/", "q=nguy")
    shown = [pk for page in pages for pk in page]
    assert shown == _contacts_in_order(many_nguyens["names"])
    assert LEFT_OUT in html
    assert "More than 5" in html or "count=1" in html
    if len(pages) > 1:
        assert LEFT_OUT not in _page(client, "/contacts/", "q=nguy")[2]
    # A cursor into the others (made by hand, or from before the names grew): none listed.
    ids, _links, html = _page(client, "/contacts/", "q=nguy&cursor=" + _encode(["a", 1], "n2"))
    assert ids == []
    assert LEFT_OUT in html
    # A word more finds them; so does the plain order of another sort.
    ids, _links, _html = _page(client, "/contacts/", "q=nguyet")
    assert ids == [many_nguyens["others"][0]]
    ids, _links, _html = _page(client, "/contacts/", "q=nguy&sort=-name")
    everyone = many_nguyens["names"] + many_nguyens["others"]
    assert ids == _contacts_in_order(everyone)[::-1][:size]


def test_under_the_cap_the_others_follow_the_names(
    client: Client, rep: User, many_nguyens, settings
):
    settings.CRM_COUNT_CAP = 7  # exactly the names: not more than the cap
    settings.CRM_PAGE_SIZE = 4
    client.force_login(rep)
    pages, html = _walk(client, "/contacts/", "q=nguy")
    shown = [pk for page in pages for pk in page]
    assert shown == _contacts_in_order(many_nguyens["names"]) + _contacts_in_order(
        many_nguyens["others"]
    )
    assert LEFT_OUT not in html
