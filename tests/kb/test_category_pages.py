"""A category's public page in pages (`kb.views.help_category`, `kb.selectors.category_page`):
the reader's language first, crawlable previous/next links with a canonical address per page,
every page kept by the public page cache and retired by the same version; bad page numbers
get a 400 or 404 with a message."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from kb import services, views
from kb.models import Article, Category
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    services.public_cache_bump()
    monkeypatch.setattr(views, "CATEGORY_PAGE_SIZE", 2)


@pytest.fixture
def category() -> Category:
    return services.category_create(name="Contacts", slug="contacts", position=1)


@pytest.fixture
def five(writer: User, reviewer: User, category: Category) -> list[Article]:
    made = [
        publish(make_article(writer, title=title, category=category), reviewer)
        for title in ("Alpha import", "Beta export", "Gamma merge", "Delta tags")
    ]
    made.append(
        publish(
            make_article(writer, title="导入客户", category=category, language="zh-hans"), reviewer
        )
    )
    return made


def _url(page: int | None = None) -> str:
    url = reverse("kb:help-category", args=["contacts"])
    return url if page is None else f"{url}?page={page}"


def _titles(html: str) -> list[str]:
    block = html.split('id="kb-category-articles"')[1].split("</ul>")[0]
    return re.findall(r'/kb/a/[^/]+/">([^<]+)</a>', block)


def test_pages_list_the_readers_language_first_with_links_both_ways(
    client: Client, five: list[Article]
) -> None:
    first = client.get(_url()).content.decode()
    assert _titles(first) == ["Alpha import", "Beta export"]
    assert '<link rel="canonical" href="http://testserver/kb/c/contacts/">' in first
    assert '<link rel="next" href="/kb/c/contacts/?page=2">' in first
    assert 'rel="prev"' not in first
    assert "Page 1 of 3 · 5 articles" in first
    second = client.get(_url(2)).content.decode()
    assert _titles(second) == ["Delta tags", "Gamma merge"]
    assert '<link rel="canonical" href="http://testserver/kb/c/contacts/?page=2">' in second
    assert '<link rel="prev" href="/kb/c/contacts/">' in second
    assert '<link rel="next" href="/kb/c/contacts/?page=3">' in second
    assert "Page 2 of 3" in second.split("<title>")[1].split("</title>")[0]
    last = client.get(_url(3)).content.decode()
    assert _titles(last) == ["导入客户"]
    assert 'rel="next"' not in last
    chinese = client.get(_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert _titles(chinese) == ["导入客户", "Alpha import"]


def test_every_page_is_cached_and_a_publish_retires_them_all(
    client: Client, five: list[Article], writer: User, reviewer: User, category: Category
) -> None:
    for page in (None, 2):
        client.get(_url(page))
        again = client.get(_url(page))
        assert again["X-KB-Cache"] == "hit"
        assert not hasattr(again.wsgi_request, "session")  # the fast path answered
    publish(make_article(writer, title="Aardvark intro", category=category), reviewer)
    services.public_cache_bump()  # what the publish's on-commit hook does
    first = client.get(_url())
    assert "X-KB-Cache" not in first
    assert _titles(first.content.decode()) == ["Aardvark intro", "Alpha import"]
    second = client.get(_url(2))
    assert "X-KB-Cache" not in second
    assert _titles(second.content.decode()) == ["Beta export", "Delta tags"]


def test_page_one_has_one_address(client: Client, five: list[Article]) -> None:
    response = client.get(_url(1))
    assert response.status_code == 301
    assert response["Location"] == _url()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("0", 400),
        ("-1", 400),
        ("abc", 400),
        ("\u0661", 400),  # an Arabic-Indic digit one: not a page number here
        ("9" * 50, 400),
        ("1.5", 400),
        ("4", 404),
        ("999999", 404),
    ],
)
def test_bad_page_numbers_get_a_message(
    client: Client, five: list[Article], raw: str, status: int
) -> None:
    response = client.get(_url(), {"page": raw})
    assert response.status_code == status
    html = response.content.decode()
    assert 'id="kb-refusal"' in html
    if status == 400:
        assert "A page number is a whole number from 1." in html
    else:
        assert f"This category has no page {raw}." in html
    assert "X-KB-Cache" not in client.get(_url(), {"page": raw})  # refusals are not kept


def test_a_nul_in_the_page_number_is_refused_before_the_view(
    client: Client, five: list[Article]
) -> None:
    assert client.get(_url(), {"page": "2\x00"}).status_code == 400


def test_an_empty_category_has_its_one_page(client: Client, category: Category) -> None:
    html = client.get(_url()).content.decode()
    assert "No articles in this category yet." in html
    assert 'id="kb-category-pages"' not in html
    assert client.get(_url(2)).status_code == 404


def test_a_page_costs_the_same_queries_whatever_its_number(
    client: Client, five: list[Article], django_assert_num_queries
) -> None:
    with django_assert_num_queries(4):  # version, category, count, rows (children: prefetch-free)
        client.get(_url(2))
