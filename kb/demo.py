"""Demo and benchmark data: the help centre's articles in English and Chinese.

`manage.py seed_demo` calls `seed_demo(contacts=, seed=, kb_articles=)` after the contacts (the
command finds it by name, and `add_arguments` gives it the `--kb-articles N` option, default
ARTICLES = 5,000, issue 30's size; the demo logins must exist). It writes:

- once, the demo's help centre through the services (versions, search columns, the review
  step): categories named in English and Chinese and a dozen published articles from
  `kb/corpus/` (six English ones with their linked Chinese translations, written by the
  demo agent and reviewed by the demo administrator), eight of them in the FAQ;
- then `top_up(N)`: bulk articles until the knowledge base holds N (the dozen count), so a
  second run adds nothing and a bigger N adds only the difference.

`seed_articles(n)` writes the bulk articles: pairs of an English article and its Chinese
translation (one translation group), each a corpus topic (30 in each language) read in one of
ten contexts (on a phone, for administrators, ...) and one of thirteen angles
(troubleshooting, limits as a table, ...): 3,900 different articles per language
before a title repeats, in the topic's category, keywords from the topic and its context.
About 86 % of the pairs are published and public (a few of those with the Chinese
translation still a draft), 6 % published for staff only, the rest drafts, in review or
archived; publication dates spread over two years and views skewed so the popular list has
something to rank. Each row's HTML and search terms come from `kb.services.derive_text`, as
an editor's save writes them; its first version is written with it. COPY in batches of 500
in one transaction: 5,000 articles in a few seconds (docs/setup.md), not a save per row. The
FAQ stays the demo's eight (the bulk articles are not questions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import random
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import User
from crm.bulk import copy_rows, reserve_ids
from kb.models import (
    VERSIONED_FIELDS,
    Article,
    ArticleVersion,
    Category,
    Language,
    Status,
    Visibility,
)

# Issue 30: "seed_demo adds 5,000 articles in English and Chinese" (bench/modules/kb.py too).
ARTICLES = 5_000
BATCH = 500
CORPUS = Path(__file__).resolve().parent / "corpus"
PARTS = Path(__file__).resolve().parent / "demo_parts.json"
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
# The category of each corpus topic (by its English slug) in the bulk articles.
TOPIC_CATEGORIES = {
    "import-contacts": "contacts-help",
    "export-contacts": "contacts-help",
    "merge-duplicates": "contacts-help",
    "share-record": "contacts-help",
    "two-factor": "account-help",
    "reset-password": "account-help",
    "roles-permissions": "account-help",
    "api-tokens": "account-help",
    "create-deal": "sales-help",
    "pipeline-stages": "sales-help",
    "sales-forecast": "sales-help",
    "lead-scoring": "sales-help",
    "web-forms": "sales-help",
    "reply-ticket": "support-help",
    "sla-business-hours": "support-help",
    "auto-assign": "support-help",
    "log-call": "getting-started",
    "tasks-reminders": "getting-started",
    "connect-mailbox": "getting-started",
    "language-timezone": "getting-started",
    "saved-views": "getting-started",
    "tag-records": "contacts-help",
    "satisfaction-survey": "support-help",
    "notifications": "getting-started",
    "record-history": "account-help",
    "archive-contact": "contacts-help",
    "global-search": "getting-started",
    "kb-write-review": "support-help",
    "reopen-ticket": "support-help",
    "escalation-rules": "support-help",
}


class Part(NamedTuple):
    """A context (on a phone, ...) or an angle (troubleshooting, ...) of a topic in both
    languages: a slug word, the words added to the title, a Markdown section added to the
    body, a keyword (kb/demo_parts.json)."""

    key: str
    title_en: str
    title_zh: str
    body_en: str
    body_zh: str
    tag_en: str
    tag_zh: str


class Topic(NamedTuple):
    """A corpus article and its Chinese translation (`kb/corpus/`, in the same order)."""

    en: dict[str, Any]
    zh: dict[str, Any]
    category: str


def _corpus(language: str) -> list[dict[str, Any]]:
    name = "zh.json" if language == Language.ZH_HANS else "en.json"
    rows: list[dict[str, Any]] = json.loads((CORPUS / name).read_text("utf-8"))
    return rows


def _topics() -> list[Topic]:
    pairs = zip(_corpus(Language.EN), _corpus(Language.ZH_HANS), strict=True)
    return [Topic(en, zh, TOPIC_CATEGORIES[en["slug"]]) for en, zh in pairs]


def _categories() -> dict[str, Category]:
    """The demo's categories by slug, made (with their Chinese names) when missing."""
    categories = {}
    for position, (slug, name) in enumerate(CATEGORIES):
        category, _created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_zh": NAMES_ZH[slug], "position": position}
        )
        if not category.name_zh:
            category.name_zh = NAMES_ZH[slug]
            category.save(update_fields=["name_zh"])
        categories[slug] = category
    return categories


def _writers() -> tuple[User, User]:
    """Who writes and who reviews the bulk articles: the demo's agent and administrator, else
    the first superuser (or user) for both."""
    people = _demo_people()
    if people is not None:
        return people
    user = User.objects.filter(is_superuser=True).order_by("pk").first()
    user = user or User.objects.order_by("pk").first()
    if user is None:
        raise RuntimeError("the knowledge base's demo articles need a user to write them")
    return user, user


@functools.cache
def _parts() -> dict[str, tuple[Part, ...]]:
    """The contexts and angles (kb/demo_parts.json; the first angle adds nothing)."""
    data = json.loads(PARTS.read_text("utf-8"))
    return {kind: tuple(Part(**row) for row in data[kind]) for kind in ("contexts", "angles")}


def _pair(p: int, topics: list[Topic]) -> tuple[Topic, Part, Part]:
    """The topic, context and angle of pair number `p` (every combination before a repeat)."""
    contexts, angles = _parts()["contexts"], _parts()["angles"]
    topic = topics[p % len(topics)]
    context = contexts[(p // len(topics)) % len(contexts)]
    angle = angles[(p // (len(topics) * len(contexts))) % len(angles)]
    return topic, context, angle


def _text(row: dict[str, Any], context: Part, angle: Part, *, zh: bool) -> dict[str, Any]:
    if zh:
        title = f"{row['title']}{context.title_zh}{angle.title_zh}"
        sections, tags = (context.body_zh, angle.body_zh), (context.tag_zh, angle.tag_zh)
    else:
        title = f"{row['title']} {context.title_en}{angle.title_en}"
        sections, tags = (context.body_en, angle.body_en), (context.tag_en, angle.tag_en)
    return {
        "title": title[:200],
        "summary": row["summary"],
        "body": "\n\n".join([row["body"], *(s for s in sections if s)]),
        "tags": sorted({*row["tags"], *(t for t in tags if t)}),
    }


def _status(rng: random.Random) -> tuple[str, str]:
    """A pair's status and visibility: mostly published and public (see the docstring)."""
    roll = rng.random()
    if roll < 0.86:
        return Status.PUBLISHED, Visibility.PUBLIC
    if roll < 0.92:
        return Status.PUBLISHED, Visibility.INTERNAL
    if roll < 0.96:
        return Status.DRAFT, Visibility.PUBLIC
    if roll < 0.98:
        return Status.IN_REVIEW, Visibility.PUBLIC
    return Status.ARCHIVED, Visibility.PUBLIC


def _article(text: dict[str, Any], **fields: Any) -> Article:
    from kb.services import derive_text

    article = Article(**text, **fields)
    if article.status not in (Status.PUBLISHED, Status.ARCHIVED):
        article.reviewer = None  # set by the review step (`article_publish`)
        article.published_at = None
    derive_text(article)  # the HTML and search terms an editor's save writes
    return article


def _candidates(start: int, topics: list[Topic]) -> list[tuple[int, str, str]]:
    """Pair numbers from `start` (BATCH of them) with their English and Chinese slugs."""
    out = []
    for p in range(start, start + BATCH):
        topic, context, _angle = _pair(p, topics)
        en_slug = f"{topic.en['slug']}-{context.key}-{p}"
        out.append((p, en_slug, f"{topic.zh['slug']}-{context.key}-{p}"))
    return out


def _copy(rows: Sequence[Model]) -> None:
    """Write model instances with COPY (ids reserved from the sequence first and set on them),
    every column as a save would write it (`pre_save`: the timestamps; the database computes
    the generated search vector). About a third less CPU than bulk INSERTs of these wide rows."""
    if not rows:
        return
    meta = rows[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key and not f.generated]
    with connection.cursor() as cursor:
        for row, pk in zip(rows, reserve_ids(cursor, meta.db_table, len(rows)), strict=True):
            row.pk = pk
        values = (
            [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
            for row in rows
        )
        copy_rows(
            cursor,
            meta.db_table,
            ["id", *(f.column for f in fields)],
            ([row.pk, *row_values] for row, row_values in zip(rows, values, strict=True)),
        )


def seed_articles(count: int, *, seed: int = 30) -> dict[str, Any]:
    """Write `count` bulk articles (see the module's docstring) in one transaction: pairs of
    an English article and its Chinese translation (an odd count ends with an English one
    alone). Pair numbers whose slugs are taken are skipped, so a later call adds new ones."""
    if count <= 0:
        return {"rows": 0}
    author, reviewer = _writers()
    categories = _categories()
    topics = _topics()
    now = timezone.now()
    written, p = 0, 0
    with transaction.atomic():
        while written < count:
            batch = _candidates(p, topics)
            p += BATCH
            slugs = [slug for _n, en, zh in batch for slug in (en, zh)]
            taken = set(Article.objects.filter(slug__in=slugs).values_list("slug", flat=True))
            articles: list[Article] = []
            for n, en_slug, zh_slug in batch:
                if written + len(articles) >= count:
                    break
                if en_slug in taken or zh_slug in taken:
                    continue
                rng = random.Random(seed * 1_000_003 + n)  # noqa: S311 (demo data)
                topic, context, angle = _pair(n, topics)
                status, visibility = _status(rng)
                common = {
                    "category": categories[topic.category],
                    "visibility": visibility,
                    "translation_group": uuid.uuid4(),
                    "author": author,
                    "reviewer": reviewer,
                    "published_at": now - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
                    "version": 1,
                }
                views = int(rng.paretovariate(1.2) * 10)
                for language, row, slug in (
                    (Language.EN, topic.en, en_slug),
                    (Language.ZH_HANS, topic.zh, zh_slug),
                ):
                    if written + len(articles) >= count:
                        break
                    zh = language == Language.ZH_HANS
                    # The translation: now and then still a draft when the English one is out.
                    lagging = zh and rng.random() < 0.05
                    articles.append(
                        _article(
                            _text(row, context, angle, zh=zh),
                            slug=slug,
                            language=language,
                            status=Status.DRAFT if lagging else status,
                            view_count=views // 2 + rng.randrange(10) if zh else views,
                            **common,
                        )
                    )
            _copy(articles)
            # Each one's first version, as `kb.services` saves it.
            _copy(
                [
                    ArticleVersion(
                        article=a,
                        number=1,
                        status=a.status,
                        author=author,
                        **{name: getattr(a, name) for name in VERSIONED_FIELDS},
                    )
                    for a in articles
                ]
            )
            written += len(articles)
    from kb.services import public_cache_bump

    transaction.on_commit(public_cache_bump)
    return {"rows": written}


def top_up(target: int = ARTICLES, *, seed: int = 30) -> dict[str, Any]:
    """Bulk articles until the knowledge base holds `target` (whatever it holds counts): a
    second call adds nothing. The tables are analysed after a load."""
    missing = target - Article.objects.count()
    if missing <= 0:
        return {"rows": 0}
    facts = seed_articles(missing, seed=seed)
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE kb_article, kb_articleversion")
    return facts


def _demo_people() -> tuple[User, User] | None:
    """The demo's support agent writes; its administrator reviews (the review step)."""
    author = User.objects.filter(email="agent@demo.example").first()
    reviewer = User.objects.filter(email="admin@demo.example", is_superuser=True).first()
    return (author, reviewer) if author and reviewer else None


def article_count(value: str) -> int:
    """`--kb-articles`: a whole number, zero or more."""
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, zero or more, not {value!r}")
    return count


def add_arguments(parser: Any) -> None:
    """seed_demo's option for the knowledge base (the command finds this by name)."""
    parser.add_argument(
        "--kb-articles",
        type=article_count,
        default=ARTICLES,
        metavar="N",
        help=f"knowledge-base articles to have, English and Chinese (default {ARTICLES:,}; "
        "the demo's dozen count; 0 for just those)",
    )


def seed_demo(
    *, contacts: int, seed: int = 30, kb_articles: int = ARTICLES, **_options: Any
) -> dict[str, Any]:
    """The demo help centre, then bulk articles up to `kb_articles` (see the module's
    docstring). Needs the demo logins; a second run adds nothing."""
    people = _demo_people()
    if people is None:
        return {}
    facts: dict[str, Any] = {}
    if not Article.objects.filter(slug="import-contacts").exists():
        facts.update(_demo_articles(*people))
    bulk = top_up(kb_articles, seed=seed)["rows"]
    if bulk:
        facts["bulk_articles"] = bulk
    return facts


def _demo_articles(author: User, reviewer: User) -> dict[str, Any]:
    """The demo's twelve articles, written and published through the services."""
    from kb import services

    categories = _categories()
    rows = {row["slug"]: row for language in Language for row in _corpus(language)}
    written = 0
    with transaction.atomic():
        for slug, category_slug, faq in DEMO_ARTICLES:
            original = None
            for language, key in ((Language.EN, slug), (Language.ZH_HANS, f"zh-{slug}")):
                row = rows[key]
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
