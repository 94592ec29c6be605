"""The knowledge base's numbers for the analytics page: views, helpfulness, top searches,
searches that found nothing, and deflections. Searches are `SearchLog` rows of `count`
searches each (flushed from Redis by `kb.counters`), so they are summed, not counted.

A deflection is counted where support records it: the public request form shows suggested
articles (`support.plugins.suggest`), support stores each click (`support.SuggestionClick`),
and a click whose visitor then sent no request (no ticket linked) is an article that answered
the customer. kb reads that model through the app registry (support is a sibling app, not a
dependency), so the page works, without that column, while support does not record them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import Count, Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from kb.models import Article, Feedback, SearchLog

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
TOP = 15


def period_days(raw: str | None) -> int:
    return int(raw) if raw in {str(p) for p in PERIODS} else DEFAULT_PERIOD


def article_helpfulness(article: Article) -> dict[str, int]:
    counts = Feedback.objects.filter(article=article).aggregate(
        yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False))
    )
    return {"yes": counts["yes"] or 0, "no": counts["no"] or 0}


def _searches(since: dt.datetime, *, empty: bool) -> list[dict[str, Any]]:
    rows = SearchLog.objects.filter(created_at__gte=since)
    if empty:
        rows = rows.filter(results=0)
    return list(
        rows.annotate(term=Lower("query"))
        .values("term")
        .annotate(count=Sum("count"))
        .order_by("-count", "term")[:TOP]
    )


def deflections(since: dt.datetime) -> list[dict[str, Any]] | None:
    """Articles whose suggestion was opened by a visitor who then sent no request (None while
    support does not record suggestion clicks)."""
    try:
        clicks = apps.get_model("support", "SuggestionClick")
    except LookupError:
        return None
    rows = list(
        clicks.objects.filter(created_at__gte=since, ticket__isnull=True, article_id__isnull=False)
        .values("article_id")
        .annotate(count=Count("visitor", distinct=True))
        .order_by("-count", "article_id")[:TOP]
    )
    titles = dict(
        Article.objects.filter(pk__in=[r["article_id"] for r in rows]).values_list("pk", "title")
    )
    for row in rows:
        row["title"] = titles.get(row["article_id"], "")
    return rows


def overview(raw_days: str | None) -> dict[str, Any]:
    days = period_days(raw_days)
    since = timezone.now() - dt.timedelta(days=days)
    totals = Article.objects.aggregate(views=Sum("view_count"), articles=Count("id"))
    votes = Feedback.objects.filter(created_at__gte=since).aggregate(
        yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False))
    )
    searches = SearchLog.objects.filter(created_at__gte=since).aggregate(
        all=Sum("count"), empty=Sum("count", filter=Q(results=0))
    )
    helpfulness = list(
        Article.objects.filter(feedback__created_at__gte=since)
        .annotate(
            yes=Count("feedback", filter=Q(feedback__helpful=True)),
            no=Count("feedback", filter=Q(feedback__helpful=False)),
        )
        .only("title", "language")
        .order_by("-no", "yes", "id")[:TOP]
    )
    return {
        "days": days,
        "periods": PERIODS,
        "totals": {
            "views": totals["views"] or 0,
            "articles": totals["articles"] or 0,
            "yes": votes["yes"] or 0,
            "no": votes["no"] or 0,
            "searches": searches["all"] or 0,
            "empty_searches": searches["empty"] or 0,
        },
        # Views per day are flushed from Redis every minute (kb/counters.py).
        "top_viewed": list(
            Article.objects.filter(view_days__day__gte=since.date())
            .annotate(period_views=Sum("view_days__views"))
            .only("title", "language")
            .order_by("-period_views", "id")[:TOP]
        ),
        "helpfulness": helpfulness,
        "top_searches": _searches(since, empty=False),
        "empty_searches": _searches(since, empty=True),
        "deflections": deflections(since),
    }
