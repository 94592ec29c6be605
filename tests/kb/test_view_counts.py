"""View counts: one Redis increment per view in the request, added to PostgreSQL by the flush
task (a real worker), each batch once; with Redis down the page renders and the view is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from kb import analytics, counters, services
from kb.models import Article, ArticleViewDay, SearchLog, ViewFlush
from kb.tasks import flush_views
from tests.kb.factories import make_article, publish

DOWN = {
    "default": {
        "BACKEND": "crm.cache_backends.FailSoftRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def _redis():  # type: ignore[no-untyped-def]
    return cache._client()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    services.public_cache_bump()


@pytest.fixture
def article(writer: User, reviewer: User) -> Article:
    return publish(make_article(writer, title="Import contacts"), reviewer)


def _url(article: Article) -> str:
    return reverse("kb:help-article", args=[article.slug])


@pytest.mark.django_db(transaction=True)
def test_views_wait_in_redis_and_a_real_worker_adds_them_once(
    client: Client, article: Article, live_worker, django_assert_num_queries
) -> None:
    client.get(_url(article))  # renders and caches the page
    with django_assert_num_queries(0):  # the cached page names the article it counts
        response = client.get(_url(article))
    assert response.status_code == 200
    assert response["X-KB-Cache"] == "hit"
    client.get(_url(article))
    article.refresh_from_db()
    assert article.view_count == 0
    assert counters.pending_views(article.pk) == 3

    facts = flush_views.delay().get(timeout=30)
    assert facts == {"batches": 1, "views": 3, "searches": 0, "skipped": 0}
    article.refresh_from_db()
    assert article.view_count == 3
    assert counters.pending_views(article.pk) == 0
    day = ArticleViewDay.objects.get(article=article)
    assert (day.day, day.views) == (timezone.now().date(), 3)

    assert flush_views.delay().get(timeout=30) == {
        "batches": 0,
        "views": 0,
        "searches": 0,
        "skipped": 0,
    }
    client.get(_url(article))
    flush_views.delay().get(timeout=30)
    article.refresh_from_db()
    assert article.view_count == 4
    assert ArticleViewDay.objects.get(article=article).views == 4


@pytest.mark.django_db(transaction=True)
def test_searches_wait_in_redis_and_a_real_worker_writes_the_analytics_rows(
    client: Client, article: Article, live_worker, django_assert_num_queries
) -> None:
    url = reverse("kb:help-search")
    for text in ("Import", "import", "import", "zzyzx", "Zzyzx"):
        client.get(url, {"q": text})
    with django_assert_num_queries(0):  # a repeated search: the lookup script counts it
        assert client.get(url, {"q": "zzyzx"})["X-KB-Cache"] == "hit"
    client.get(reverse("kb:help-search"), {"q": "import"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert not SearchLog.objects.exists()

    facts = flush_views.delay().get(timeout=30)
    assert facts["searches"] == 7
    assert flush_views.delay().get(timeout=30)["searches"] == 0  # each batch once
    numbers = analytics.overview("7")
    assert numbers["totals"]["searches"] == 7
    assert numbers["totals"]["empty_searches"] == 3
    assert numbers["top_searches"] == [
        {"term": "import", "count": 4},
        {"term": "zzyzx", "count": 3},
    ]
    assert numbers["empty_searches"] == [{"term": "zzyzx", "count": 3}]
    # Five rows for seven searches (one per text as typed, language and result count).
    assert SearchLog.objects.count() == 5


@pytest.mark.django_db
def test_a_search_flushed_on_a_later_day_keeps_its_day(article: Article) -> None:
    client = _redis()
    field = counters.search_field(query="import", language="en", results=1)
    client.hset(f"{counters._base()}:pending:2026-11-01", mapping={field: 4, "s\x1fbad": 1})
    assert counters.flush_views()["searches"] == 4
    row = SearchLog.objects.get()
    assert (row.count, row.created_at.date()) == (4, dt.date(2026, 11, 1))


@pytest.mark.django_db
def test_a_batch_added_before_a_crash_is_not_added_again(article: Article) -> None:
    counters.record_view(article.pk)
    counters.record_view(article.pk)
    client = _redis()
    # A flush that renamed the hash and committed, then died before deleting the batch:
    today = timezone.now().date().isoformat()
    batch = f"{counters._base()}:batch:{today}:crashed"
    client.rename(f"{counters._base()}:pending:{today}", batch)
    assert counters._add(batch, dt.date.fromisoformat(today), {article.pk: 2})
    facts = counters.flush_views()
    assert facts == {"batches": 0, "views": 0, "searches": 0, "skipped": 1}
    assert not client.exists(batch)
    article.refresh_from_db()
    assert article.view_count == 2
    assert ViewFlush.objects.filter(batch=batch).count() == 1


@pytest.mark.django_db
def test_counts_of_a_deleted_article_and_of_other_days_are_kept_apart(article: Article) -> None:
    client = _redis()
    base = counters._base()
    client.hset(f"{base}:pending:2026-11-01", mapping={str(article.pk): 5, "999999999": 7})
    client.hset(f"{base}:pending:2026-11-02", mapping={str(article.pk): 1, "junk": 3})
    facts = counters.flush_views()
    assert facts["batches"] == 2
    article.refresh_from_db()
    assert article.view_count == 6
    assert sorted(ArticleViewDay.objects.values_list("day", "views")) == [
        (dt.date(2026, 11, 1), 5),
        (dt.date(2026, 11, 2), 1),
    ]


@pytest.mark.django_db
def test_page_renders_with_redis_down_and_the_view_is_lost(
    client: Client, article: Article
) -> None:
    with override_settings(CACHES=DOWN):
        assert client.get(_url(article)).status_code == 200
        assert counters.record_view(article.pk) is False
        assert counters.flush_views() == {"batches": 0, "views": 0, "searches": 0, "skipped": 0}
    cache.get("anything")  # the real cache is back
    assert counters.pending_views(article.pk) == 0
    article.refresh_from_db()
    assert article.view_count == 0


@pytest.mark.django_db
def test_analytics_shows_the_flushed_views_of_the_period(
    client: Client, article: Article, writer: User
) -> None:
    client.get(_url(article))
    counters.flush_views()
    client.force_login(writer)
    page = client.get(reverse("kb:analytics"), {"days": "7"}).content.decode()
    assert "Most viewed in this period" in page
    assert '<td class="text-end">1</td>' in page


def test_the_flush_runs_every_minute_from_beat() -> None:
    from crm.celery import app

    entry = app.conf.beat_schedule["kb-flush-views"]
    assert entry == {"task": "kb.tasks.flush_views", "schedule": 60.0}
