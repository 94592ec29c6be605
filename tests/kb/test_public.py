from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from kb import counters, services
from kb.models import Article, Feedback, SearchLog, Visibility
from kb.services import ArticleInput, category_create
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    # Each test starts from a version no earlier test rendered under (the cache is shared).
    services.public_cache_bump()


@pytest.fixture
def published(writer: User, reviewer: User) -> Article:
    category = category_create(name="Contacts")
    article = make_article(
        writer,
        title="Import contacts",
        summary="Bring your contacts in from a CSV file.",
        category=category,
        tags=["import"],
    )
    return publish(article, reviewer)


def _url(article: Article) -> str:
    return reverse("kb:help-article", args=[article.slug])


def test_anonymous_reads_published_article_with_meta_and_breadcrumbs(
    client: Client, published: Article
) -> None:
    response = client.get(_url(published))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Import contacts" in html
    assert 'name="description" content="Bring your contacts in from a CSV file."' in html
    assert f'rel="canonical" href="http://testserver{_url(published)}"' in html
    assert 'href="/kb/c/contacts/"' in html
    assert "<strong>CSV</strong>" in html


@pytest.mark.parametrize(
    "make",
    [
        lambda w, r: make_article(w, title="Secret draft"),
        lambda w, r: publish(
            make_article(w, title="Secret internal", visibility=Visibility.INTERNAL), r
        ),
        lambda w, r: services.article_archive(
            article=publish(make_article(w, title="Secret archived"), r), actor=w
        ),
    ],
    ids=["draft", "internal", "archived"],
)
def test_draft_internal_and_archived_never_public(
    client: Client, writer: User, reviewer: User, make
) -> None:
    article = make(writer, reviewer)
    assert client.get(_url(article)).status_code == 404
    assert client.post(reverse("kb:help-article-vote", args=[article.slug])).status_code == 404
    search = client.get(reverse("kb:help-search"), {"q": "secret"}).content.decode()
    assert "Secret" not in search.split("Results for")[1]
    assert article.slug not in client.get(reverse("kb:help-sitemap")).content.decode()
    assert "Secret" not in client.get(reverse("kb:help-home")).content.decode()


def test_sitemap_lists_public_articles(client: Client, published: Article) -> None:
    response = client.get(reverse("kb:help-sitemap"))
    assert response["Content-Type"] == "application/xml"
    assert f"http://testserver{_url(published)}</loc>" in response.content.decode()


def test_old_slug_redirects_permanently(client: Client, published: Article, writer: User) -> None:
    old = _url(published)
    services.article_update(
        article=published,
        data=ArticleInput(title="Importing contacts", body=published.body, slug="importing"),
        actor=writer,
    )
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == "/kb/a/importing/"


def test_pages_are_cached_until_a_publish(
    client: Client,
    published: Article,
    writer: User,
    reviewer: User,
    django_capture_on_commit_callbacks,
) -> None:
    home = reverse("kb:help-home")
    sitemap = reverse("kb:help-sitemap")
    assert "X-KB-Cache" not in client.get(home)
    assert client.get(home)["X-KB-Cache"] == "hit"
    client.get(sitemap)
    second = make_article(writer, title="Merge duplicates")
    Article.objects.filter(pk=second.pk).update(status="published", published_at=second.created_at)
    # Published behind the service's back: the cached sitemap does not know yet.
    assert "merge-duplicates" not in client.get(sitemap).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=second, actor=writer)
        third = publish(make_article(writer, title="Find duplicates"), reviewer)
    assert f"/kb/a/{third.slug}/" in client.get(sitemap).content.decode()
    assert "X-KB-Cache" not in client.get(home)


def test_pages_work_with_redis_down(client: Client, published: Article) -> None:
    down = {
        "default": {
            "BACKEND": "crm.cache_backends.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=down):
        assert client.get(_url(published)).status_code == 200
        assert client.get(reverse("kb:help-home")).status_code == 200
    cache.get("anything")  # the real cache is back


def test_one_vote_per_visitor_and_comment_on_no(client: Client, published: Article) -> None:
    vote = reverse("kb:help-article-vote", args=[published.slug])
    response = client.post(vote, {"helpful": "yes"})
    assert response.status_code == 302
    assert response["Location"].endswith("?voted=yes")
    client.post(vote, {"helpful": "no"})
    assert 'data-kb-feedback="/kb/a/import-contacts/feedback/?voted=no"' in (
        client.get(_url(published) + "?voted=no").content.decode()
    )
    feedback_url = reverse("kb:help-article-feedback", args=[published.slug])
    assert "Sorry about that" in client.get(feedback_url + "?voted=no").content.decode()
    client.post(vote, {"helpful": "no", "comment": "I need the Excel format"})
    feedback = Feedback.objects.get()
    assert (feedback.helpful, feedback.comment) == (False, "I need the Excel format")
    Client().post(vote, {"helpful": "yes"})  # another visitor
    assert Feedback.objects.count() == 2


def test_forged_visitor_cookie_is_a_new_visitor(client: Client, published: Article) -> None:
    vote = reverse("kb:help-article-vote", args=[published.slug])
    client.cookies["kb_visitor"] = "not-signed"
    response = client.post(vote, {"helpful": "yes"})
    assert response.cookies["kb_visitor"].value != "not-signed"
    assert client.post(vote, {"helpful": "maybe"}).status_code == 400


def test_search_is_ranked_highlighted_and_logged(
    client: Client, published: Article, writer: User, reviewer: User
) -> None:
    publish(make_article(writer, title="Export data", body="Export contacts to a file."), reviewer)
    response = client.get(reverse("kb:help-search"), {"q": "import"})
    html = response.content.decode()
    results = html.split('id="kb-search-results"')[1]
    assert "<mark>Import</mark> contacts" in results
    assert "Export data" not in results
    client.get(reverse("kb:help-search"), {"q": "zzzz nothing"})
    counters.flush_views()  # searches are counted in Redis until the periodic flush
    assert list(SearchLog.objects.order_by("query").values_list("query", "results")) == [
        ("import", 1),
        ("zzzz nothing", 0),
    ]


def test_search_tolerates_a_typo(client: Client, published: Article) -> None:
    html = client.get(reverse("kb:help-search"), {"q": "contcts"}).content.decode()
    assert "Import contacts" in html


def test_search_finds_chinese_words_inside_sentences(
    client: Client, writer: User, reviewer: User
) -> None:
    publish(
        make_article(writer, title="如何导入客户资料", body="上传 CSV 文件即可批量导入客户。"),
        reviewer,
    )
    html = client.get(reverse("kb:help-search"), {"q": "导入客户"}).content.decode()
    results = html.split('id="kb-search-results"')[1]
    assert "如何<mark>导入客户</mark>资料" in results  # the title
    assert "批量<mark>导入客户</mark>" in results  # the snippet


def test_faq_lists_public_faq_articles(client: Client, writer: User, reviewer: User) -> None:
    publish(make_article(writer, title="Is my data safe?", is_faq=True), reviewer)
    make_article(writer, title="Unpublished question", is_faq=True)
    html = client.get(reverse("kb:help-faq")).content.decode()
    assert "Is my data safe?" in html
    assert "Unpublished question" not in html


def test_home_lists_categories_sections_and_the_popular_articles_of_the_readers_language(
    writer: User, reviewer: User
) -> None:
    contacts = category_create(name="Contacts", name_zh="联系人")
    category_create(name="Importing", parent=contacts)  # a section of Contacts
    category_create(name="Sales", position=1)
    for title, views, language in (
        ("Import contacts", 50, "en"),
        ("Merge duplicates", 90, "en"),
        ("导入联系人", 70, "zh-hans"),
    ):
        article = make_article(writer, title=title, category=contacts, language=language)
        Article.objects.filter(pk=publish(article, reviewer).pk).update(view_count=views)
    internal = make_article(writer, title="Secret pricing", visibility=Visibility.INTERNAL)
    Article.objects.filter(pk=publish(internal, reviewer).pk).update(view_count=1_000)
    draft = make_article(writer, title="Draft idea")
    Article.objects.filter(pk=draft.pk).update(view_count=1_000)
    services.public_cache_bump()
    home = reverse("kb:help-home")

    html = Client().get(home).content.decode()
    for slug in ("contacts", "importing", "sales"):
        assert f'href="{reverse("kb:help-category", args=[slug])}"' in html
    assert ">Contacts</a>" in html
    popular = html[html.index("Popular articles") :]
    assert popular.index("Merge duplicates") < popular.index("Import contacts")  # most viewed
    for absent in ("导入联系人", "Secret pricing", "Draft idea"):
        assert absent not in html

    html_zh = Client().get(home, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">联系人</a>" in html_zh  # the category's Chinese name
    assert ">导入联系人</a>" in html_zh
    assert "Merge duplicates" not in html_zh
