"""The knowledge base (issue 30): categories, articles, their versions and old slugs.

Articles are not owned records: staff with the kb grants edit every article, and the public
help centre reads only what `Article.public` lets through (published and public). Search runs
on `search_vector`, a generated column over `search_title` (weight A) and `search_text`
(weight B); both are written by `kb.services` from the article's text plus its CJK bigrams
(`kb.text.search_terms`), because PostgreSQL's parsers do not split Chinese into words.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.links import record_url
from crm.models import TimeStampedModel
from crm.tags import TagIdsField, tag_index


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")


class Language(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Category(TimeStampedModel):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    name = models.CharField(_("name"), max_length=120)
    # The name shown to visitors reading the help centre in Chinese (the English one if empty).
    name_zh = models.CharField(_("name in Chinese"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]
        indexes = [models.Index(fields=["parent", "position"], name="kb_category_parent_pos")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="kb_category_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the current UI language (Chinese when set and the page is Chinese)."""
        if self.name_zh and (get_language() or "").lower().startswith("zh"):
            return self.name_zh
        return self.name


class Article(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, allow_unicode=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("body (HTML)"), blank=True, editable=False)
    # Keywords: words that help search and related articles find this one (versioned content).
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("keywords"), default=list)
    # The CRM's shared tags (crm.tags), for staff to organise articles; not versioned content.
    tag_ids = TagIdsField()
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    # Translations of one article share a group; one article per language in a group.
    translation_group = models.UUIDField(_("translation group"), default=uuid.uuid4)
    is_faq = models.BooleanField(_("FAQ"), default=False)
    # Order within its category (and so in the FAQ), set by the editors (`article_move`).
    position = models.PositiveIntegerField(_("position"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="kb_articles",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kb_reviews",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    search_title = models.TextField(blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("search_title", weight="A", config="simple")
        + SearchVector("search_text", weight="B", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("publish_article", _("Can review and publish articles")),
            ("export_article", _("Can export articles")),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="kb_article_search"),
            GinIndex(
                fields=["search_title"], name="kb_article_title_trgm", opclasses=["gin_trgm_ops"]
            ),
            GinIndex(fields=["tags"], name="kb_article_tags"),
            tag_index(name="kb_article_tag_ids", column="status"),
            models.Index(fields=["status", "visibility", "category"], name="kb_article_public"),
            models.Index(fields=["-updated_at", "-id"], name="kb_article_updated"),
            # Popular and related articles of a language (help centre home, article pages):
            # read in view order until enough match, not sorted from every public article.
            models.Index(
                fields=["language", "-view_count", "-id"],
                name="kb_article_popular",
                condition=models.Q(status="published", visibility="public"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["translation_group", "language"], name="kb_article_one_per_language"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(published_at__isnull=False),
                name="kb_article_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The staff page (the help centre's address is `kb:help-article` by slug)."""
        return record_url("kb:article-detail", self.pk)

    @property
    def is_public(self) -> bool:
        return self.status == Status.PUBLISHED and self.visibility == Visibility.PUBLIC


# The fields a version keeps: restoring one writes exactly these back.
VERSIONED_FIELDS = (
    "title",
    "slug",
    "summary",
    "body",
    "tags",
    "category_id",
    "visibility",
    "language",
    "is_faq",
)


class ArticleVersion(models.Model):
    """A snapshot of an article's content, written by every save (`kb.services`)."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, allow_unicode=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    is_faq = models.BooleanField(_("FAQ"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class SlugRedirect(models.Model):
    """An article's former slug: its old URL answers 301 to the article's current one."""

    old_slug = models.SlugField(_("old slug"), max_length=200, unique=True, allow_unicode=True)
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="old_slugs"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("slug redirect")
        verbose_name_plural = _("slug redirects")

    def __str__(self) -> str:
        return self.old_slug


class CategorySlugRedirect(models.Model):
    """A category's former slug: its old URL answers 301 to the category's current one."""

    old_slug = models.SlugField(_("old slug"), max_length=120, unique=True, allow_unicode=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="old_slugs"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("category slug redirect")
        verbose_name_plural = _("category slug redirects")

    def __str__(self) -> str:
        return self.old_slug


class Feedback(models.Model):
    """One visitor's "was this helpful?" answer (the visitor is a random id in a signed
    cookie; one answer per visitor and article, a second one replaces the first)."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback"
    )
    visitor = models.UUIDField(_("visitor"))
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "visitor"], name="kb_feedback_one_vote")
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {self.helpful}"


class SearchLog(models.Model):
    """Help-centre searches, for the analytics page (top and zero-result searches): `count`
    searches of one text, language and number of results. A search is counted in Redis and the
    flush (`kb.counters`) writes one row per text a minute; with Redis down a search writes
    its own row (`count` 1)."""

    query = models.CharField(_("query"), max_length=200)
    language = models.CharField(_("language"), max_length=8, blank=True)
    results = models.PositiveIntegerField(_("results"))
    # db_default: a process of the previous release (during a deploy) inserts rows without it.
    count = models.PositiveIntegerField(_("searches"), default=1, db_default=1)
    created_at = models.DateTimeField(_("searched"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("search")
        verbose_name_plural = _("searches")
        indexes = [models.Index(fields=["query"], name="kb_searchlog_query")]

    def __str__(self) -> str:
        return self.query


class ArticleViewDay(models.Model):
    """Views of an article on one day (UTC), flushed from Redis by `kb.tasks.flush_views`."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="view_days"
    )
    day = models.DateField(_("day"))
    views = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        verbose_name = _("article views on a day")
        verbose_name_plural = _("article views by day")
        constraints = [
            models.UniqueConstraint(fields=["article", "day"], name="kb_viewday_one_per_day")
        ]
        indexes = [models.Index(fields=["day"], name="kb_viewday_day")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.day}: {self.views}"


class ViewFlush(models.Model):
    """A batch of view counts taken from Redis and added to the articles, written in the same
    transaction: a batch whose row exists is never added again (a crash between the commit and
    deleting the batch from Redis does not count twice)."""

    batch = models.CharField(_("batch"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("view count flush")
        verbose_name_plural = _("view count flushes")

    def __str__(self) -> str:
        return self.batch
