"""The staff article list, declared for the list kit (`crm.lists`): status, language,
visibility, category, tags (the CRM's shared tags, `crm.tags`) and a search (the same
full-text index as the help centre, internal and unpublished articles included, since every
role with `view_article` reads them all)."""

from __future__ import annotations

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import access
from crm.lists import ExportSpec, ListFilterSet, ListSpec, SearchFilter, Sort
from crm.tags import TagFilter, attach_row_tags, tag_options
from kb import exports, selectors
from kb.models import Article, Category, Language, Status, Visibility

ANY = _("Any")


class ArticleFilterSet(ListFilterSet):
    q = SearchFilter(match=selectors.text_match)
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Status.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a status from the list.")},
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"),
        choices=Language.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a language from the list.")},
    )
    visibility = django_filters.ChoiceFilter(
        label=_("Visibility"),
        choices=Visibility.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a visibility from the list.")},
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=lambda request: Category.objects.order_by("position", "name"),
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a category from the list.")},
    )
    tag = TagFilter()  # any of the tags, through kb_article_tag_ids (tag_ids, status)
    more_filters = ("visibility", "category", "tag")

    class Meta:
        model = Article
        fields: list[str] = []

    def prepare_form(self, form: forms.Form) -> None:
        form.tag_options = tag_options()  # type: ignore[attr-defined]


ARTICLES: ListSpec[Article] = ListSpec(
    name="kb-articles",
    model=Article,
    selector=selectors.staff_articles,
    filterset=ArticleFilterSet,
    sorts={
        "-updated": Sort(("-updated_at", "-id")),
        "updated": Sort(("updated_at", "id")),
        "title": Sort(("title", "id")),
        "-title": Sort(("-title", "-id")),
        "-views": Sort(("-view_count", "-id")),
        "views": Sort(("view_count", "id")),
    },
    default_sort="-updated",
    template="kb/staff/article_list.html",
    results_id="kb-article-list-results",
    row_fields=(
        "title",
        "slug",
        "status",
        "visibility",
        "language",
        "view_count",
        "updated_at",
        "category",
        "category__name",
        "author",
        "author__first_name",
        "author__last_name",
        "author__email",
        "author__name_order",
        "tag_ids",
    ),
    prepare_rows=attach_row_tags,  # row.row_tags from the cached labels
    export=ExportSpec(
        filename="articles",
        url_name="kb:article-export",
        columns=exports.article_columns,
        rows=exports.article_rows,
        allowed=lambda user: access.has_model_perm(user, Article, "export"),
        denied_message=lambda: str(_("Your role may not export articles.")),
    ),
)
