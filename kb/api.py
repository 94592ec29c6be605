"""Read-only REST API for articles (`/api/kb-articles/`): the staff list's scope and filters
(`kb.lists.ArticleFilterSet`: status, language, visibility, category, tag, q), keyset pages.
Articles are written in the staff editor (versions, review step, cache)."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import serializers, viewsets

from accounts.api import ScopedViewSetMixin
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination
from kb import selectors
from kb.lists import ArticleFilterSet
from kb.models import Article


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Article
        fields = [
            "id", "title", "slug", "summary", "body", "body_html", "tags", "tag_ids",
            "category", "position",
            "status", "visibility", "language", "translation_group", "is_faq", "author",
            "reviewer", "published_at", "version", "view_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ArticleViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Articles the caller may read (`kb.view_article`: internal and unpublished ones too),
    through `accounts.access` (the API's one scoping mixin; read-only, so no POST)."""

    scoped_model = Article
    request: AuthedRequest
    serializer_class = ArticleSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ArticleFilterSet

    def get_queryset(self) -> Any:
        return selectors.staff_articles(user=self.request.user)
