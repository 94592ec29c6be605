"""Demo and benchmark data: help-centre articles in English and Chinese.

`seed_demo(contacts=, seed=)` (called by `manage.py seed_demo` after the contacts) writes the
demo's help centre once: categories named in English and Chinese and a dozen published
articles from `tests/kb/corpus/` (six in English with their Chinese translations, linked),
written and reviewed through the services (versions, search columns, the review step), four
of each language in the FAQ. A second run changes nothing.

`seed_articles(n)` writes `n` articles (half English, half Chinese, 90 % published and public,
the rest drafts or internal), each a variation of one of the corpus articles in
`tests/kb/corpus/` with its own title and slug, in a few categories, with a first version, the
derived HTML and the search columns (jieba for Chinese) as the services write them; views are
spread so the popular list has something to rank. Bulk inserts in batches of 500.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from kb.models import Article, ArticleVersion, Category, Language, Status, Visibility
from kb.text import render_markdown, search_terms

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "kb" / "corpus"
CATEGORIES = (
    ("getting-started", "Getting started"),
    ("contacts-help", "Contacts"),
    ("sales-help", "Sales"),
    ("support-help", "Support"),
    ("account-help", "Your account"),
)
NAMES_ZH = {
    "getting-started": "入门",
    "contacts-help": "联系人",
    "sales-help": "销售",
    "support-help": "客户服务",
    "account-help": "您的账户",
}
# The demo's articles (corpus slugs of the English ones): category, in the FAQ.
DEMO_ARTICLES = (
    ("import-contacts", "contacts-help", True),
    ("merge-duplicates", "contacts-help", False),
    ("reset-password", "account-help", True),
    ("create-deal", "sales-help", False),
    ("reply-ticket", "support-help", True),
    ("language-timezone", "getting-started", True),
)
VARIANTS_EN = ("for teams", "on a phone", "step by step", "for administrators", "in detail")
VARIANTS_ZH = ("团队版", "手机端", "分步说明", "管理员版", "详细说明")


def _templates() -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for language, name in ((Language.EN, "en.json"), (Language.ZH_HANS, "zh.json")):
        rows.extend((language, row) for row in json.loads((CORPUS / name).read_text("utf-8")))
    return rows


def seed_articles(count: int, *, seed: int = 30) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 (demo data)
    author = User.objects.filter(is_superuser=True).order_by("pk").first()
    author = author or User.objects.order_by("pk").first()
    if author is None:
        raise RuntimeError("seed_articles needs a user to write the articles")
    categories = [
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "position": i})[0]
        for i, (slug, name) in enumerate(CATEGORIES)
    ]
    templates = _templates()
    start = Article.objects.count()
    now = timezone.now()
    written = 0
    while written < count:
        articles: list[Article] = []
        for _ in range(min(500, count - written)):
            n = start + written + len(articles)
            language, row = templates[n % len(templates)]
            zh = language == Language.ZH_HANS
            variant = (VARIANTS_ZH if zh else VARIANTS_EN)[(n // len(templates)) % 5]
            title = f"{row['title']}:{variant}" if zh else f"{row['title']} {variant}"
            title = f"{title} {n}"
            public = rng.random() < 0.9
            article = Article(
                title=title[:200],
                slug=f"{row['slug']}-{n}",
                summary=row["summary"],
                body=row["body"],
                tags=row["tags"],
                category=categories[n % len(categories)],
                status=Status.PUBLISHED if public or rng.random() < 0.5 else Status.DRAFT,
                visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
                language=language,
                translation_group=uuid.uuid4(),
                author=author,
                reviewer=author,
                published_at=now,
                version=1,
                view_count=int(rng.paretovariate(1.2) * 10),
            )
            article.body_html = render_markdown(article.body)
            article.search_title = search_terms(article.title)
            article.search_text = search_terms(
                " ".join([article.summary, " ".join(article.tags), article.body])
            )
            if article.status != Status.PUBLISHED:
                article.published_at = None
            articles.append(article)
        with transaction.atomic():
            Article.objects.bulk_create(articles)
            ArticleVersion.objects.bulk_create(
                ArticleVersion(
                    article=a,
                    number=1,
                    title=a.title,
                    slug=a.slug,
                    summary=a.summary,
                    body=a.body,
                    tags=a.tags,
                    category=a.category,
                    visibility=a.visibility,
                    language=a.language,
                    is_faq=a.is_faq,
                    status=a.status,
                    author=author,
                )
                for a in articles
            )
        written += len(articles)
    from kb.services import public_cache_bump

    public_cache_bump()
    return {"rows": written}


def _demo_people() -> tuple[User, User] | None:
    """The demo's support agent writes; its administrator reviews (the review step)."""
    author = User.objects.filter(email="agent@demo.example").first()
    reviewer = User.objects.filter(email="admin@demo.example", is_superuser=True).first()
    return (author, reviewer) if author and reviewer else None


def seed_demo(*, contacts: int, seed: int = 30) -> dict[str, Any]:
    """The demo help centre (see the module's docstring); once: a second run adds nothing."""
    from kb import services

    people = _demo_people()
    if people is None or Article.objects.filter(slug="import-contacts").exists():
        return {}
    author, reviewer = people
    categories = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        category, _created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
        if not category.name_zh:
            category.name_zh = NAMES_ZH[slug]
            category.save(update_fields=["name_zh"])
        categories[slug] = category
    rows = {row["slug"]: (language, row) for language, row in _templates()}
    written = 0
    with transaction.atomic():
        for slug, category_slug, faq in DEMO_ARTICLES:
            original = None
            for language, key in ((Language.EN, slug), (Language.ZH_HANS, f"zh-{slug}")):
                row = rows[key][1]
                data = services.ArticleInput(
                    title=row["title"],
                    slug=row["slug"],
                    summary=row["summary"],
                    body=row["body"],
                    tags=list(row["tags"]),
                    category=categories[category_slug],
                    language=language,
                    is_faq=faq,
                )
                article = services.article_create(data=data, actor=author, translation_of=original)
                services.article_submit_for_review(article=article, actor=author)
                services.article_publish(article=article, actor=reviewer)
                original = original or article
                written += 1
    return {"articles": written, "categories": len(categories)}
