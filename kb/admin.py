from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from kb.models import Article, ArticleVersion, Category, CategorySlugRedirect, SlugRedirect


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_zh", "slug", "parent", "position")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-mostly: articles are written in the staff editor, which keeps versions, redirects
    and the public cache right; the admin is for looking things up."""

    list_display = ("title", "status", "visibility", "language", "category", "updated_at")
    list_filter = ("status", "visibility", "language", "is_faq")
    search_fields = ("title", "slug")
    readonly_fields = ("body_html", "version", "view_count", "published_at", "reviewer")
    raw_id_fields = ("author", "category")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Article | None = None) -> bool:
        return False


@admin.register(ArticleVersion)
class ArticleVersionAdmin(admin.ModelAdmin):
    list_display = ("article", "number", "title", "author", "created_at")
    raw_id_fields = ("article", "author", "category")


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ("old_slug", "article", "created_at")
    raw_id_fields = ("article",)


@admin.register(CategorySlugRedirect)
class CategorySlugRedirectAdmin(admin.ModelAdmin):
    list_display = ("old_slug", "category", "created_at")
    raw_id_fields = ("category",)
