"""Search quality on a realistic corpus (kb/corpus/: 30 English and 30 Chinese help
articles about using the CRM, and 60 queries with the article that must come first), and the
measurement that chose how Chinese is segmented: jieba's search-mode words
(kb.text.jieba_words, used) against overlapping bigrams (kb.text.cjk_bigrams). Results:
bench/results/kb-segmentation-2026-11-30.md."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from kb import selectors
from kb.models import Article
from kb.text import SEGMENTER, search_terms
from tests.kb.factories import make_article, publish

CORPUS = Path(__file__).resolve().parents[2] / "kb" / "corpus"
QUERIES: list[dict[str, str]] = json.loads((CORPUS / "queries.json").read_text("utf-8"))


@pytest.fixture
def corpus(writer: User, reviewer: User) -> dict[str, Article]:
    articles = {}
    for language, name in (("en", "en.json"), ("zh-hans", "zh.json")):
        for row in json.loads((CORPUS / name).read_text("utf-8")):
            article = make_article(writer, language=language, **row)
            articles[row["slug"]] = publish(article, reviewer)
    return articles


def _reindex(segmenter: str) -> None:
    for article in Article.objects.all():
        Article.objects.filter(pk=article.pk).update(
            search_title=search_terms(article.title, segmenter),
            search_text=search_terms(
                " ".join([article.summary, " ".join(article.tags), article.body]), segmenter
            ),
        )


def _evaluate(segmenter: str, queries: list[dict[str, str]]) -> dict[str, Any]:
    ranks: list[int | None] = []
    misses = []
    started = time.perf_counter()
    for query in queries:
        hits = selectors.public_search(text=query["q"], language=query["lang"], segmenter=segmenter)
        slugs = [h.article.slug for h in hits]
        rank = slugs.index(query["expected"]) + 1 if query["expected"] in slugs else None
        ranks.append(rank)
        if rank != 1:
            misses.append(f"{query['q']} -> {slugs[:3]} (expected {query['expected']})")
    elapsed = time.perf_counter() - started
    return {
        "top1": sum(r == 1 for r in ranks),
        "found": sum(r is not None for r in ranks),
        "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
        "queries": len(ranks),
        "ms_per_query": round(1000 * elapsed / len(ranks), 1),
        "misses": misses,
    }


@pytest.mark.django_db
def test_every_query_ranks_its_article_first(corpus: dict[str, Article]) -> None:
    result = _evaluate(SEGMENTER, QUERIES)
    assert result["misses"] == [], result


@pytest.mark.django_db
def test_the_segmenter_used_ranks_chinese_best(corpus: dict[str, Article]) -> None:
    chinese = [q for q in QUERIES if q["lang"] == "zh-hans"]
    results = {}
    for segmenter in ("bigram", "jieba"):
        _reindex(segmenter)
        results[segmenter] = _evaluate(segmenter, chinese)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    other = "bigram" if SEGMENTER == "jieba" else "jieba"
    assert results[SEGMENTER]["top1"] >= results[other]["top1"]
    assert results[SEGMENTER]["mrr"] >= results[other]["mrr"]
