"""What an article page links to, and what the analytics count beside views and searches:
related articles (same language, shared category or keyword, public only), the language switch
to the article's published translations, a category page that never lists a hidden article,
and deflections (support's suggestion clicks whose visitor sent no request)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from kb import analytics, services
from kb.models import Category, Visibility
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    services.public_cache_bump()


@pytest.fixture
def category() -> Category:
    return services.category_create(name="Contacts", slug="contacts", position=1)


def _related(html: str) -> str:
    return (
        html.split('id="related-heading"')[1].split("</section>")[0]
        if "related-heading" in html
        else ""
    )


def test_related_articles_share_the_category_or_a_keyword_in_the_same_language(
    client: Client, writer: User, reviewer: User, category: Category
) -> None:
    main = publish(make_article(writer, title="Import contacts", category=category), reviewer)
    sibling = publish(make_article(writer, title="Merge contacts", category=category), reviewer)
    tagged = publish(make_article(writer, title="CSV columns", tags=["csv"]), reviewer)
    main = services.article_update(
        article=main,
        data=services.ArticleInput(
            title="Import contacts", body=main.body, category=category, tags=["csv"]
        ),
        actor=writer,
    )
    publish(
        make_article(writer, title="导入联系人说明", category=category, language="zh-hans"),
        reviewer,
    )
    make_article(writer, title="Draft sibling", category=category)
    publish(
        make_article(
            writer, title="Internal sibling", category=category, visibility=Visibility.INTERNAL
        ),
        reviewer,
    )
    publish(make_article(writer, title="Unrelated billing"), reviewer)
    related = _related(client.get(reverse("kb:help-article", args=[main.slug])).content.decode())
    assert sibling.title in related
    assert tagged.title in related
    for hidden in (
        "导入联系人说明",
        "Draft sibling",
        "Internal sibling",
        "Unrelated billing",
        "Import contacts",
    ):
        assert hidden not in related, hidden


def test_the_language_switch_links_published_translations_only(
    client: Client, writer: User, reviewer: User
) -> None:
    english = publish(make_article(writer, title="Import contacts"), reviewer)
    chinese = services.article_create(
        data=services.ArticleInput(title="导入联系人", body="上传 CSV 文件。", language="zh-hans"),
        actor=writer,
        translation_of=english,
    )
    page = client.get(reverse("kb:help-article", args=[english.slug])).content.decode()
    assert "Also in:" not in page  # the translation is a draft
    publish(chinese, reviewer)
    services.public_cache_bump()
    page = client.get(reverse("kb:help-article", args=[english.slug])).content.decode()
    link = reverse("kb:help-article", args=[chinese.slug])
    assert f'href="{link}" lang="zh-hans" hreflang="zh-hans"' in page
    back = client.get(reverse("kb:help-article", args=[chinese.slug])).content.decode()
    assert f'href="{reverse("kb:help-article", args=[english.slug])}" lang="en"' in back


def test_a_category_page_never_lists_drafts_internal_or_archived_articles(
    client: Client, writer: User, reviewer: User, category: Category
) -> None:
    publish(make_article(writer, title="Shown article", category=category), reviewer)
    make_article(writer, title="Secret draft", category=category)
    publish(
        make_article(
            writer, title="Secret internal", category=category, visibility=Visibility.INTERNAL
        ),
        reviewer,
    )
    archived = publish(make_article(writer, title="Secret archived", category=category), reviewer)
    services.article_archive(article=archived, actor=writer)
    services.public_cache_bump()
    html = client.get(reverse("kb:help-category", args=["contacts"])).content.decode()
    assert "Shown article" in html
    assert "Secret" not in html


def test_analytics_count_deflections_per_article_by_visitor(writer: User, reviewer: User) -> None:
    from support.models import SuggestionClick

    article = publish(make_article(writer, title="Reset a password"), reviewer)
    other = publish(make_article(writer, title="Export data"), reviewer)
    reader = uuid.uuid4()
    for visitor in (reader, reader, uuid.uuid4()):  # the same visitor twice counts once
        SuggestionClick.objects.create(visitor=visitor, article_id=article.pk, title="x", url="/")
    SuggestionClick.objects.create(visitor=uuid.uuid4(), article_id=other.pk, title="x", url="/")
    old = SuggestionClick.objects.create(
        visitor=uuid.uuid4(), article_id=other.pk, title="x", url="/"
    )
    SuggestionClick.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    rows = analytics.overview("30")["deflections"]
    assert [(r["title"], r["count"]) for r in rows] == [("Reset a password", 2), ("Export data", 1)]


@pytest.mark.parametrize(
    "path",
    [
        "/kb/a/%00/",
        "/kb/c/%00/",
        "/kb/a/" + "导" * 3000 + "/",
        "/kb/c/" + "\U0001d518" * 3000 + "/",
        "/kb/a/" + "x" * 3000 + "/feedback/",
        "/kb/img/%00",
        "/kb/search/?q=%00",
        "/kb/search/?q=" + "\U0001d518" * 20000,
        "/kb/a/import-contacts/?voted=%00",
        "/kb/c/contacts/?page=" + "9" * 5000,
        "/kb/faq/?page=%ff%fe",
    ],
)
def test_odd_public_addresses_get_a_4xx_or_the_page_never_a_500(
    client: Client, writer: User, reviewer: User, category: Category, path: str
) -> None:
    publish(make_article(writer, title="Import contacts", category=category), reviewer)
    response = client.get(path)
    assert response.status_code in (200, 400, 404), response.status_code
