"""The anonymous fast path of the help centre (`crm.pagecache`, registered in
kb/registrations.py): a cached page is answered before the session, auth and CSRF middleware,
in one Redis round trip that also counts an article's view; signed-in users take the whole
stack; a publish, change or archive retires the pages at once; with Redis down the pages
render from the database."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from kb import counters, services
from kb.models import Article, SearchLog, Visibility
from kb.registrations import PUBLIC_PREFIX
from kb.services import ArticleInput
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db

DOWN = {
    "default": {
        "BACKEND": "crm.cache_backends.FailSoftRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    services.public_cache_bump()


@pytest.fixture
def article(writer: User, reviewer: User) -> Article:
    return publish(make_article(writer, title="Import contacts"), reviewer)


def _url(article: Article) -> str:
    return reverse("kb:help-article", args=[article.slug])


def _fast(response) -> bool:
    """Served by the middleware: the session and auth middleware never saw the request."""
    request = response.wsgi_request
    return response.get("X-KB-Cache") == "hit" and not hasattr(request, "session")


def test_the_prefix_is_where_the_help_centre_is_mounted() -> None:
    assert reverse("kb:help-home") == PUBLIC_PREFIX


def test_an_anonymous_hit_skips_the_session_auth_and_csrf_middleware(
    client: Client, article: Article, django_assert_num_queries
) -> None:
    first = client.get(_url(article))
    assert first.status_code == 200
    assert not _fast(first)
    with django_assert_num_queries(0):
        second = client.get(_url(article))
    assert _fast(second)
    assert not hasattr(second.wsgi_request, "user")
    assert second.content == first.content
    assert not second.cookies  # no session, no CSRF cookie
    # The headers the rest of the stack set on the render, and the outer middleware's own.
    for header in ("Vary", "Content-Language", "X-Frame-Options", "Content-Type"):
        assert second[header] == first[header], header
    assert second["Vary"] == "Accept-Language, Cookie"
    assert "default-src" in second["Content-Security-Policy"]
    assert second["X-Content-Type-Options"] == "nosniff"


def test_a_signed_in_user_or_a_session_takes_the_whole_stack(
    client: Client, article: Article, writer: User
) -> None:
    client.get(_url(article))
    assert _fast(client.get(_url(article)))
    client.force_login(writer)
    response = client.get(_url(article))
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
    assert response.wsgi_request.user == writer
    visitor = Client()
    visitor.cookies[settings.SESSION_COOKIE_NAME] = "stale-or-forged"
    assert not _fast(visitor.get(_url(article)))
    assert not _fast(client.get(_url(article), headers={"HX-Request": "true"}))


def test_every_hit_counts_a_view(client: Client, article: Article) -> None:
    for _ in range(4):
        client.get(_url(article))
    assert _fast(client.get(_url(article)))
    assert counters.pending_views(article.pk) == 5
    client.get(reverse("kb:help-home"))
    client.get(reverse("kb:help-home"))  # a page that counts nothing
    assert counters.pending_views(article.pk) == 5


def test_a_change_or_an_archive_is_public_at_once(
    client: Client, article: Article, writer: User, django_capture_on_commit_callbacks
) -> None:
    client.get(_url(article))
    client.get(reverse("kb:help-home"))
    assert _fast(client.get(_url(article)))
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(
            article=article,
            data=ArticleInput(title="Import contacts", body="Upload an **Excel** file."),
            actor=writer,
        )
    changed = client.get(_url(article))
    assert not _fast(changed)
    assert "<strong>Excel</strong>" in changed.content.decode()
    assert _fast(client.get(_url(article)))
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=article, actor=writer)
    assert client.get(_url(article)).status_code == 404
    assert "Import contacts" not in client.get(reverse("kb:help-home")).content.decode()


def test_drafts_internal_articles_and_errors_are_never_kept(
    client: Client, writer: User, reviewer: User
) -> None:
    draft = make_article(writer, title="Secret draft")
    internal = publish(
        make_article(writer, title="Secret internal", visibility=Visibility.INTERNAL), reviewer
    )
    for article in (draft, internal):
        for _ in range(2):
            response = client.get(_url(article))
            assert response.status_code == 404
            assert "X-KB-Cache" not in response
    # The feedback form sets a CSRF cookie: never kept, never served to another visitor.
    feedback = reverse("kb:help-article-feedback", args=[draft.slug])
    assert client.get(feedback).status_code == 404


def test_a_page_that_sets_a_cookie_is_not_kept(client: Client, article: Article) -> None:
    feedback = reverse("kb:help-article-feedback", args=[article.slug]) + "?fragment=1"
    first = client.get(feedback)
    assert "csrftoken" in first.cookies
    second = Client().get(feedback)
    assert "X-KB-Cache" not in second
    assert "csrftoken" in second.cookies  # its own token, not the first visitor's


def test_each_language_has_its_own_copy(client: Client, article: Article) -> None:
    home = reverse("kb:help-home")
    english = client.get(home)
    chinese = client.get(home, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese["Content-Language"] == "zh-hans"
    assert _fast(client.get(home, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    again = client.get(home, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert again.content == chinese.content != english.content
    assert 'lang="zh-hans"' in again.content.decode()
    # The language switch (Django's set_language cookie) beats the browser's header.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    switched = client.get(home, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert switched["Content-Language"] == "en"
    assert switched.content == english.content


def test_with_redis_down_the_pages_render_from_the_database(
    client: Client, article: Article
) -> None:
    client.get(_url(article))
    assert _fast(client.get(_url(article)))
    with override_settings(CACHES=DOWN):
        response = client.get(_url(article))
        assert response.status_code == 200
        assert "X-KB-Cache" not in response
        assert "Import contacts" in response.content.decode()
    cache.get("anything")  # the real cache is back
    assert counters.pending_views(article.pk) == 2  # the view while down was lost, no error


def test_a_search_answered_from_the_cache_is_counted_without_a_query(
    client: Client, article: Article, django_assert_num_queries
) -> None:
    url = reverse("kb:help-search")
    first = client.get(url, {"q": "import"})
    with django_assert_num_queries(0):  # counted by the lookup script: no INSERT
        second = client.get(url, {"q": "import"})
    assert _fast(second)
    assert second.content == first.content
    chinese = client.get(url, {"q": "import"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert _fast(client.get(url, {"q": "import"}, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert chinese.status_code == 200
    client.get(url, {"q": "nothing like it"})
    client.get(url, {"q": "nothing like it"})
    assert not SearchLog.objects.exists()  # waiting in Redis for the periodic flush
    facts = counters.flush_views()
    assert facts["searches"] == 6
    logged = set(SearchLog.objects.values_list("query", "language", "results", "count"))
    assert logged == {
        ("import", "en", 1, 2),
        ("import", "zh-hans", 1, 2),
        ("nothing like it", "en", 0, 2),
    }
    assert counters.flush_views()["searches"] == 0  # each search once


def test_with_redis_down_a_search_writes_its_own_row(client: Client, article: Article) -> None:
    url = reverse("kb:help-search")
    with override_settings(CACHES=DOWN):
        response = client.get(url, {"q": "import"})
        assert response.status_code == 200
        assert "X-KB-Cache" not in response
    cache.get("anything")  # the real cache is back
    assert list(SearchLog.objects.values_list("query", "results", "count")) == [("import", 1, 1)]
    client.get(url, {"q": "import"})
    counters.flush_views()
    assert sorted(SearchLog.objects.values_list("query", "count")) == [("import", 1), ("import", 1)]


def test_control_characters_in_a_search_are_spaces(client: Client, article: Article) -> None:
    url = reverse("kb:help-search")
    assert client.get(url, {"q": "im\x00port"}).status_code == 400  # NUL: refused upstream
    response = client.get(url, {"q": "im\tport\x1f  contacts\x7f" + "导" * 5000})
    assert response.status_code == 200
    counters.flush_views()
    (query,) = SearchLog.objects.values_list("query", flat=True)
    assert query.startswith("im port contacts 导")
    assert len(query) == 200
