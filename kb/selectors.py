"""Reads for the public help centre. Everything public starts from `public_articles()`:
published and public only, so drafts, articles in review, archived and internal articles never
reach a public page, search result or the sitemap."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.core.cache import cache
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts import access
from kb.models import Article, Category, Status, Visibility
from kb.text import _CJK_RUN, SEGMENTER, cjk_terms

if TYPE_CHECKING:
    from accounts.models import User

MAX_RESULTS = 20
MAX_TERMS = 32
_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")


def public_articles() -> QuerySet[Article]:
    """Published public articles (the only ones anonymous visitors may see)."""
    return Article.objects.filter(status=Status.PUBLISHED, visibility=Visibility.PUBLIC)


def public_categories() -> QuerySet[Category]:
    """Top-level categories with their children and counts of public articles."""
    counted = Count(
        "articles",
        filter=Q(articles__status=Status.PUBLISHED, articles__visibility=Visibility.PUBLIC),
    )
    return (
        Category.objects.filter(parent__isnull=True)
        .annotate(public_count=counted)
        .prefetch_related(Prefetch("children", Category.objects.annotate(public_count=counted)))
    )


@dataclass
class CategoryPage:
    """One page of a category's public articles (`category_page`)."""

    articles: Sequence[Article]
    number: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def category_page(
    *, category: Category, language: str, number: int, size: int
) -> CategoryPage | None:
    """Page `number` of a category's public articles, the reader's language first, then in the
    order editors set (`article_move`); None past the last page (page 1 always exists). Two
    queries: the count (`kb_article_public` index) and the page's rows."""
    articles = public_articles().filter(category=category)
    total = articles.count()
    pages = max(1, -(-total // size))
    if number > pages:
        return None
    start = (number - 1) * size
    rows = list(
        articles.annotate(lang_first=Case(When(language=language, then=0), default=1))
        .order_by("lang_first", "language", "position", "title", "id")
        .only("title", "slug", "summary", "language")[start : start + size]
    )
    return CategoryPage(articles=rows, number=number, pages=pages, total=total)


def popular_articles(*, language: str, limit: int = 8) -> QuerySet[Article]:
    return public_articles().filter(language=language).order_by("-view_count", "-id")[:limit]


def related_articles(*, article: Article, limit: int = 5) -> list[Article]:
    """Same-language public articles sharing the category or a tag, most shared tags first."""
    match = Q(tags__overlap=article.tags) if article.tags else Q(pk__in=[])
    if article.category_id:
        match |= Q(category_id=article.category_id)
    return list(
        public_articles()
        .filter(match, language=article.language)
        .exclude(pk=article.pk)
        .order_by("-view_count", "-id")
        .only("title", "slug")[:limit]
    )


def translations(*, article: Article) -> list[Article]:
    return list(
        public_articles()
        .filter(translation_group=article.translation_group)
        .exclude(pk=article.pk)
        .order_by("language")
        .only("slug", "language")
    )


def breadcrumbs(category: Category | None) -> list[Category]:
    trail: list[Category] = []
    while category is not None and len(trail) < 10:
        trail.insert(0, category)
        category = category.parent
    return trail


def query_terms(text: str, segmenter: str = SEGMENTER) -> list[str]:
    """Latin words (lower case) and Chinese words (jieba) of a search, as indexed."""
    words = [w.lower() for w in _WORD.findall(_CJK_RUN.sub(" ", text))]
    return [*words, *cjk_terms(text, segmenter)]


def _tsquery(terms: list[str]) -> str:
    # Terms are letters/digits/CJK only (the regexes above), so they are safe in to_tsquery;
    # every term must match, and Latin words match as prefixes ("impor" finds "import").
    return " & ".join(f"{t}:*" if _WORD.fullmatch(t) else t for t in terms)


@dataclass
class Hit:
    article: Article
    title: SafeString
    snippet: SafeString


def highlight(text: str, terms: list[str], *, width: int = 160) -> SafeString:
    """An escaped excerpt of `text` around the first match with every match in <mark>."""
    plain = re.sub(r"[`*_#>\[\]|]+", " ", text)
    plain = re.sub(r"\s+", " ", plain).strip()
    needles = sorted({t for t in terms if t}, key=len, reverse=True)
    if not needles:
        return mark_safe(escape(plain[:width]))
    pattern = re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)
    first = pattern.search(plain)
    start = max(0, (first.start() if first else 0) - width // 3)
    excerpt = plain[start : start + width]
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(excerpt):
        out.append(escape(excerpt[pos : m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        pos = m.end()
    out.append(escape(excerpt[pos:]))
    prefix = "… " if start else ""
    suffix = " …" if start + width < len(plain) else ""
    return mark_safe(prefix + "".join(out) + suffix)


def _any_terms(terms: list[str]) -> str:
    # Longer Latin words match as prefixes; short ones and Chinese terms exactly.
    return " | ".join(f"{t}:*" if _WORD.fullmatch(t) and len(t) > 2 else t for t in terms)


def public_search(
    *, text: str, language: str | None = None, segmenter: str = SEGMENTER
) -> list[Hit]:
    """Ranked public articles for a search: full text with every word (title weighs more, Latin
    words match as prefixes, Chinese by jieba's words); when that finds nothing, any of the words,
    the articles matching most of them first (a question typed in full: "怎么重置密码"); then
    titles close to the words (trigram similarity, for typos). Results in the visitor's
    language come first."""
    terms = list(dict.fromkeys(query_terms(text, segmenter)))[:MAX_TERMS]
    if not terms:
        return []
    base = public_articles()
    articles: list[Article] = []
    for raw in (_tsquery(terms), _any_terms(terms)):
        query = SearchQuery(raw, search_type="raw", config="simple")
        articles = list(
            base.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "-view_count", "-id")[:MAX_RESULTS]
        )
        if articles or len(terms) == 1:
            break
    if not articles:
        words = " ".join(terms)
        articles = list(
            base.annotate(sim=TrigramWordSimilarity(words, "search_title"))
            .filter(sim__gte=0.4)
            .order_by("-sim", "-id")[:MAX_RESULTS]
        )
    if language:
        articles.sort(key=lambda a: a.language != language)  # stable: keeps rank order
    return _hits(articles, [*terms, text.strip()])


def _hits(articles: Sequence[Article], needles: list[str]) -> list[Hit]:
    return [
        Hit(
            article=a,
            title=highlight(a.title, needles, width=300),
            snippet=highlight(f"{a.summary} {a.body}", needles),
        )
        for a in articles
    ]


# --- staff reads (signed in; every role with `kb.view_article` reads every article) ------------


def staff_articles(*, user: User) -> QuerySet[Article]:
    """Every article the user may see (internal, drafts and archived too), with a row's joins."""
    return access.scoped(user, Article).select_related("category", "author")


def text_match(text: str) -> Q:
    """The condition for articles matching every word of `text` (prefixes; Chinese by jieba's
    words); none match a text without words (punctuation only). The staff list's search box
    (`kb.lists`, a `crm.lists.SearchFilter`)."""
    terms = query_terms(text)[:MAX_TERMS]
    if not terms:
        return Q(pk__in=[])
    return Q(search_vector=SearchQuery(_tsquery(terms), search_type="raw", config="simple"))


def staff_search(*, user: User, text: str, limit: int = 10) -> list[Hit]:
    """Ranked articles the user may see (internal ones too; archived ones left out), for the
    global search and the ticket panel."""
    terms = query_terms(text)[:MAX_TERMS]
    if not terms:
        return []
    query = SearchQuery(_tsquery(terms), search_type="raw", config="simple")
    articles = list(
        access.scoped(user, Article)
        .exclude(status=Status.ARCHIVED)
        .filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "-view_count", "-id")[:limit]
    )
    return _hits(articles, [*terms, text.strip()])


SUGGESTIONS_SECONDS = 600


def suggestions(*, text: str, language: str, limit: int, public: bool) -> list[Article]:
    """Articles matching any words of a longer text (a ticket's subject and message), the ones
    sharing the most words first, the reader's language first. `public=True`: only published
    public articles; otherwise published internal ones too (for staff pages)."""
    terms = list(dict.fromkeys(query_terms(text)))[:MAX_TERMS]
    if not terms or limit <= 0:
        return []
    base = public_articles() if public else Article.objects.filter(status=Status.PUBLISHED)
    # The ranking reads every article sharing a word (a ticket's subject of common words
    # matched 2,227 of 5,000 articles: 22,829 buffers, 26 ms on each view of the ticket), so
    # the ids found are kept SUGGESTIONS_SECONDS under the help centre's generation (a
    # published article's change starts a new one) and read again through `base` (an article
    # archived or unpublished since: then they are found anew). No match is not kept: it
    # costs an index lookup.
    from kb.services import public_cache_version

    digest = hashlib.sha256("\x1f".join(terms).encode()).hexdigest()[:32]
    key = f"kb-suggest:{public_cache_version()}:{int(public)}:{language}:{limit}:{digest}"
    ids = cache.get(key)
    if ids:
        found = base.in_bulk(ids)
        if len(found) == len(ids):
            return [found[pk] for pk in ids]
    query = SearchQuery(_any_terms(terms), search_type="raw", config="simple")
    lang_first = Case(When(language=language, then=0), default=1)
    articles: list[Article] = list(
        base.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query), lang_first=lang_first)
        .order_by("lang_first", "-rank", "-id")[:limit]
    )
    if articles:
        cache.set(key, [a.pk for a in articles], SUGGESTIONS_SECONDS)
    return articles


def category_tree(categories: QuerySet[Category]) -> list[tuple[Category, int]]:
    """Categories in tree order with their depth (0 for top level)."""
    rows = list(categories)
    children: dict[int | None, list[Category]] = {}
    for category in rows:
        children.setdefault(category.parent_id, []).append(category)
    out: list[tuple[Category, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for category in children.get(parent, []):
            out.append((category, depth))
            if depth < 10:
                walk(category.pk, depth + 1)

    walk(None, 0)
    return out
