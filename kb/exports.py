"""The cells of the staff article export (the file is written by `crm.exports`): the list's rows
as the user filtered them, read in keyset chunks by id, with their category and author joined
and their helpful / not helpful answers counted per chunk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from crm.exports import chunks, local_time
from crm.tags import attach_row_tags
from kb.models import Article, Feedback


def article_columns() -> list[str]:
    return [
        "id", _("Title"), _("Slug"), _("Category"), _("Language"), _("Status"), _("Visibility"),
        _("Author"), _("Published"), _("Updated"), _("Views"), _("Helpful"), _("Not helpful"),
        _("Tags"),
    ]  # fmt: skip


def _helpfulness(chunk: list[Article]) -> dict[int, tuple[int, int]]:
    """(helpful, not helpful) answers per article of the chunk: one query, along the
    (article, visitor) unique index."""
    rows = (
        Feedback.objects.filter(article_id__in=[article.pk for article in chunk])
        .values("article_id")
        .annotate(yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
        .values_list("article_id", "yes", "no")
        .order_by()
    )
    return {article_id: (yes, no) for article_id, yes, no in rows}


def article_rows(qs: QuerySet[Article]) -> Iterator[list[Any]]:
    """One list of cell values per article of `qs` (already scoped and filtered); two queries
    per chunk (the articles, their answers). Views are the counted ones (`kb.counters` adds
    the last minutes' views to `view_count` in batches)."""
    heavy = ("body", "body_html", "search_text", "search_vector")
    for chunk in chunks(qs.select_related("category", "author").defer(*heavy)):
        answers = _helpfulness(chunk)
        attach_row_tags(chunk)  # the cached labels read once a chunk, not once a row
        for article in chunk:
            yes, no = answers.get(article.pk, (0, 0))
            yield [
                article.pk,
                article.title,
                article.slug,
                article.category.display_name if article.category else "",
                article.get_language_display(),
                article.get_status_display(),
                article.get_visibility_display(),
                str(article.author),
                local_time(article.published_at),
                local_time(article.updated_at),
                article.view_count,
                yes,
                no,
                ", ".join(tag.name for tag in article.row_tags),
            ]
