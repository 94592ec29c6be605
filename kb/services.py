"""Writes to the knowledge base. Every content write saves a version; slug changes leave a
redirect; every change that can alter what the public sees bumps the public cache version."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import User
from crm.errors import DomainError
from crm.storage import private_storage
from crm.tags import resolve_names, tags_set
from kb import counters
from kb.models import (
    VERSIONED_FIELDS,
    Article,
    ArticleVersion,
    Category,
    CategorySlugRedirect,
    Feedback,
    Language,
    SearchLog,
    SlugRedirect,
    Status,
    Visibility,
)
from kb.text import render_markdown, search_terms

PUBLIC_CACHE_VERSION_KEY = "kb:public-version"


@dataclass(frozen=True)
class ArticleInput:
    title: str
    body: str = ""
    summary: str = ""
    slug: str = ""
    tags: list[str] = field(default_factory=list)
    category: Category | None = None
    visibility: str = Visibility.PUBLIC
    language: str = Language.EN
    is_faq: bool = False
    # The CRM's shared tags by name (crm.tags; unknown names are created if the actor may add
    # tags). None leaves them as they are (a restore: tags are not versioned content).
    tag_names: tuple[str, ...] | None = None


def public_cache_version() -> int:
    """The current generation of the public help centre's cached pages. A missing key (new,
    evicted by Redis under memory pressure, or Redis down) starts from the clock in
    microseconds, never from a number an earlier generation used: starting again from 1 would
    serve pages cached under 2, 3, ... before the key was lost."""
    value = cache.get(PUBLIC_CACHE_VERSION_KEY)
    if value:
        return int(value)
    fresh = time.time_ns() // 1000
    cache.add(PUBLIC_CACHE_VERSION_KEY, fresh, timeout=None)
    return int(cache.get(PUBLIC_CACHE_VERSION_KEY) or fresh)


def public_cache_bump() -> None:
    """Retire every cached public page: the next request of each renders anew."""
    cache.set(PUBLIC_CACHE_VERSION_KEY, public_cache_version() + 1, timeout=None)


def _unique_slug(base: str, *, exclude_pk: int | None) -> str:
    slug = slugify(base, allow_unicode=True)[:190] or "article"
    candidate, n = slug, 2
    taken = Article.objects.all()
    redirects = SlugRedirect.objects.all()
    if exclude_pk is not None:
        # An article may take back one of its own old slugs.
        taken = taken.exclude(pk=exclude_pk)
        redirects = redirects.exclude(article_id=exclude_pk)
    while taken.filter(slug=candidate).exists() or redirects.filter(old_slug=candidate).exists():
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _apply(article: Article, data: ArticleInput) -> None:
    title = data.title.strip()
    if not title:
        raise DomainError(_("An article needs a title."), field="title")
    article.title = title
    article.summary = data.summary.strip()
    article.body = data.body
    article.tags = sorted({t.strip() for t in data.tags if t.strip()})
    article.category = data.category
    article.visibility = data.visibility
    article.language = data.language
    article.is_faq = data.is_faq
    article.slug = _unique_slug(data.slug or title, exclude_pk=article.pk)


def derive_text(article: Article) -> None:
    """The columns derived from an article's text: its safe HTML and its search terms (the
    services call it on every content write; `kb.demo`'s bulk loader on every row it writes)."""
    article.body_html = render_markdown(article.body)
    article.search_title = search_terms(article.title)
    article.search_text = search_terms(
        " ".join([article.summary, " ".join(article.tags), article.body])
    )


def _save_version(article: Article, actor: User) -> ArticleVersion:
    article.version += 1
    Article.objects.filter(pk=article.pk).update(version=article.version)
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        status=article.status,
        author=actor,
        **{name: getattr(article, name) for name in VERSIONED_FIELDS},
    )


def _set_tags(article: Article, data: ArticleInput, actor: User) -> None:
    if data.tag_names is None:
        return
    try:
        ids = resolve_names(names=list(data.tag_names), actor=actor)
        tags_set(obj=article, tags=ids, actor=actor, check=False)
    except DomainError as exc:
        raise DomainError(exc.message, field="tag_names") from exc


def _check_translation(article: Article) -> None:
    clash = Article.objects.filter(
        translation_group=article.translation_group, language=article.language
    ).exclude(pk=article.pk)
    if clash.exists():
        raise DomainError(
            _("This article already has a translation in that language."), field="language"
        )


@transaction.atomic
def article_create(
    *, data: ArticleInput, actor: User, translation_of: Article | None = None
) -> Article:
    """Create a draft (version 1). Atomic. `translation_of` puts it in that article's
    translation group (one article per language in a group)."""
    access.require_model_perm(actor, Article, "add")
    article = Article(author=actor)
    if translation_of is not None:
        article.translation_group = translation_of.translation_group
    _apply(article, data)
    _check_translation(article)
    derive_text(article)
    article.save()
    _set_tags(article, data, actor)
    _save_version(article, actor)
    return article


@transaction.atomic
def article_update(*, article: Article, data: ArticleInput, actor: User) -> Article:
    """Change an article's content and save a new version. Atomic. A changed slug leaves a
    redirect from the old one; a published article's change is public at once."""
    access.require(actor, article, "change")
    article = Article.objects.select_for_update().get(pk=article.pk)
    old_slug = article.slug
    _apply(article, data)
    _check_translation(article)
    derive_text(article)
    article.save()
    _set_tags(article, data, actor)
    if article.slug != old_slug:
        SlugRedirect.objects.filter(old_slug=article.slug).delete()
        SlugRedirect.objects.update_or_create(old_slug=old_slug, defaults={"article": article})
    _save_version(article, actor)
    if article.status == Status.PUBLISHED:
        transaction.on_commit(public_cache_bump)
    return article


@transaction.atomic
def article_restore(*, article: Article, version: ArticleVersion, actor: User) -> Article:
    """Write an earlier version's content back exactly, as a new version. Atomic."""
    if version.article_id != article.pk:
        raise DomainError(_("That version belongs to another article."))
    data = ArticleInput(
        title=version.title,
        body=version.body,
        summary=version.summary,
        slug=version.slug,
        tags=list(version.tags),
        category=version.category,
        visibility=version.visibility,
        language=version.language,
        is_faq=version.is_faq,
    )
    return article_update(article=article, data=data, actor=actor)


def _set_status(article: Article, status: str, **fields: object) -> Article:
    now = timezone.now()
    Article.objects.filter(pk=article.pk).update(status=status, updated_at=now, **fields)
    article.refresh_from_db()
    return article


@transaction.atomic
def article_submit_for_review(*, article: Article, actor: User) -> Article:
    """Ask for review of a draft. Atomic."""
    access.require(actor, article, "change")
    if article.status not in (Status.DRAFT, Status.ARCHIVED):
        raise DomainError(_("Only drafts can be sent for review."))
    return _set_status(article, Status.IN_REVIEW)


@transaction.atomic
def article_publish(*, article: Article, actor: User) -> Article:
    """Publish an article that is in review; the reviewer must not be its author (the review
    step). Atomic; the public cache is retired after commit."""
    if not actor.has_perm("kb.publish_article"):
        raise DomainError(_("You may not publish articles."))
    if article.status != Status.IN_REVIEW:
        raise DomainError(_("Only articles in review can be published."))
    if article.author_id == actor.pk and not actor.is_superuser:
        raise DomainError(_("Another person must review your article before it is published."))
    published_at = article.published_at or timezone.now()
    article = _set_status(article, Status.PUBLISHED, reviewer=actor, published_at=published_at)
    transaction.on_commit(public_cache_bump)
    return article


@transaction.atomic
def article_archive(*, article: Article, actor: User) -> Article:
    """Take an article out of the help centre (pages, search, sitemap). Atomic."""
    access.require(actor, article, "change")
    if article.status == Status.ARCHIVED:
        raise DomainError(_("This article is already archived."))
    was_public = article.status == Status.PUBLISHED
    article = _set_status(article, Status.ARCHIVED)
    if was_public:
        transaction.on_commit(public_cache_bump)
    return article


def article_record_view(*, article_id: int) -> None:
    """Count one view in Redis (`kb.counters`: no database write in the request; a periodic
    task adds the counts to the article). Fail-soft: with Redis down the view is not counted."""
    counters.record_view(article_id)


def _category_slug(slug: str, name: str, *, exclude_pk: int | None) -> str:
    slug = slugify(slug or name, allow_unicode=True)[:120]
    if not slug:
        raise DomainError(_("Give the category a slug made of letters or digits."), field="slug")
    others = Category.objects.filter(slug=slug)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise DomainError(_("Another category has this slug."), field="slug")
    return slug


@transaction.atomic
def category_create(
    *,
    name: str,
    slug: str = "",
    parent: Category | None = None,
    position: int = 0,
    name_zh: str = "",
) -> Category:
    """Create a category. Atomic."""
    if not name.strip():
        raise DomainError(_("A category needs a name."), field="name")
    category = Category.objects.create(
        name=name.strip(),
        name_zh=name_zh.strip(),
        slug=_category_slug(slug, name, exclude_pk=None),
        parent=parent,
        position=position,
    )
    transaction.on_commit(public_cache_bump)
    return category


@transaction.atomic
def category_update(
    *,
    category: Category,
    name: str,
    name_zh: str = "",
    slug: str = "",
    parent: Category | None = None,
    position: int = 0,
    actor: User,
) -> Category:
    """Change a category's names, slug, parent and position. Atomic; the public pages are
    retired after commit. A category cannot be its own ancestor (DomainError)."""
    access.require(actor, category, "change")
    if not name.strip():
        raise DomainError(_("A category needs a name."), field="name")
    ancestor, depth = parent, 0
    while ancestor is not None and depth < 50:
        if ancestor.pk == category.pk:
            raise DomainError(
                _("A category cannot be placed inside itself or one of its own sections."),
                field="parent",
            )
        ancestor, depth = ancestor.parent, depth + 1
    category = Category.objects.select_for_update().get(pk=category.pk)
    old_slug = category.slug
    category.name = name.strip()
    category.name_zh = name_zh.strip()
    category.slug = _category_slug(slug, name, exclude_pk=category.pk)
    category.parent = parent
    category.position = position
    category.save()
    if category.slug != old_slug:
        # The old address keeps working (301); a live slug wins over anyone's old one.
        CategorySlugRedirect.objects.filter(old_slug=category.slug).delete()
        CategorySlugRedirect.objects.update_or_create(
            old_slug=old_slug, defaults={"category": category}
        )
    transaction.on_commit(public_cache_bump)
    return category


def category_articles(category: Category) -> QuerySet[Article]:
    """A category's articles in the order the help centre lists them (per language, the
    editors' position), archived ones left out."""
    return (
        Article.objects.filter(category=category)
        .exclude(status=Status.ARCHIVED)
        .order_by("language", "position", "title", "id")
    )


@transaction.atomic
def article_move(*, article: Article, direction: str, actor: User) -> Article:
    """Move an article one place up or down among its category's articles in its language
    (the category page and the FAQ follow that order). Atomic: the siblings are locked and
    numbered 0, 1, 2, ... so positions stay distinct; the public pages are retired after
    commit. Moving the first one up (or the last one down) changes nothing."""
    access.require(actor, article, "change")
    if direction not in ("up", "down"):
        raise DomainError(_("Move an article up or down."))
    if article.category_id is None:
        raise DomainError(_("Only articles in a category have a place in it."))
    siblings = list(
        Article.objects.select_for_update()
        .filter(category_id=article.category_id, language=article.language)
        .exclude(status=Status.ARCHIVED)
        .order_by("position", "title", "id")
        .only("id", "position")
    )
    ids = [a.pk for a in siblings]
    if article.pk not in ids:
        raise DomainError(_("Archived articles have no place in their category."))
    i = ids.index(article.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(siblings):
        siblings[i], siblings[j] = siblings[j], siblings[i]
    changed = [a for n, a in enumerate(siblings) if a.position != n]
    for n, sibling in enumerate(siblings):
        sibling.position = n
    if changed:
        Article.objects.bulk_update(changed, ["position"])
        transaction.on_commit(public_cache_bump)
    article.position = next(a.position for a in siblings if a.pk == article.pk)
    return article


@transaction.atomic
def feedback_record(
    *, article: Article, visitor: uuid.UUID, helpful: bool, comment: str = ""
) -> Feedback:
    """Record a visitor's answer to "was this helpful?". Atomic and idempotent per visitor:
    a second answer replaces the first, so one visitor is one vote. Only public articles."""
    if not article.is_public:
        raise DomainError(_("This article is not available."))
    feedback, _created = Feedback.objects.update_or_create(
        article=article,
        visitor=visitor,
        defaults={"helpful": helpful, "comment": "" if helpful else comment.strip()[:2000]},
    )
    return feedback


def search_record(*, query: str, language: str, results: int) -> SearchLog:
    """Log a help-centre search (and so the zero-result ones) for the analytics page."""
    return SearchLog.objects.create(query=query.strip()[:200], language=language, results=results)


IMAGE_FOLDER = "kb-images"


def image_save(*, data: bytes, extension: str, actor: User) -> str:
    """Store an article image (already checked by `kb.forms.ImageForm`) under a random name in
    the private storage; the help centre serves it by that name (`kb.views.help_image`).
    Returns the name."""
    access.require_model_perm(actor, Article, "add")
    name = f"{IMAGE_FOLDER}/{uuid.uuid4().hex}.{extension}"
    return private_storage().save(name, ContentFile(data))
