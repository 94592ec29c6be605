from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import IntegrityError, transaction

from accounts.models import User
from crm.errors import DomainError
from kb import services
from kb.models import Article, ArticleVersion, Language, SlugRedirect, Status, Visibility
from kb.services import ArticleInput
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


def _input(article: Article, **changes: object) -> ArticleInput:
    values: dict[str, object] = {
        "title": article.title,
        "body": article.body,
        "summary": article.summary,
        "slug": article.slug,
        "tags": list(article.tags),
        "category": article.category,
        "visibility": article.visibility,
        "language": article.language,
        "is_faq": article.is_faq,
    }
    values.update(changes)
    return ArticleInput(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<p style="background:url(x)" onclick="x()">hi</p>', "onclick"),
        ("<iframe src='https://evil.example'></iframe>", "<iframe"),
    ],
)
def test_rendered_body_is_sanitised(writer: User, body: str, forbidden: str) -> None:
    article = make_article(writer, body=body)
    assert forbidden not in article.body_html.lower()


def test_markdown_renders_tables_code_and_safe_links(writer: User) -> None:
    body = (
        "## Steps\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n[docs](https://x.example)"
    )
    html = make_article(writer, body=body).body_html
    assert "<h2>Steps</h2>" in html
    assert "<table>" in html
    assert "<pre><code>code" in html
    assert 'href="https://x.example"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_markdown_images_keep_their_address_but_never_a_script_or_data_one(writer: User) -> None:
    body = (
        '![Import screen](/kb/img/kb-images/abc.png "The import")\n\n'
        "![a](javascript:alert(1))\n\n![b](data:image/svg+xml;base64,PHN2Zz4=)\n\n"
        "[c](JaVaScRiPt:alert(1))"
    )
    html = make_article(writer, body=body).body_html
    assert '<img alt="Import screen" src="/kb/img/kb-images/abc.png" title="The import">' in html
    assert '<img alt="a">' in html
    assert '<img alt="b">' in html
    assert "javascript" not in html.lower()
    assert "data:" not in html


def test_every_save_is_a_version_and_restore_is_exact(writer: User, reviewer: User) -> None:
    article = make_article(writer, title="Import contacts", tags=["import", "csv"], summary="S1")
    first = {
        f: getattr(article, f)
        for f in ("title", "slug", "summary", "body", "tags", "category_id", "is_faq")
    }
    services.article_update(
        article=article,
        data=_input(article, title="Importing people", body="New body", tags=["x"], is_faq=True),
        actor=reviewer,
    )
    article.refresh_from_db()
    assert article.version == 2
    assert list(article.versions.values_list("number", flat=True)) == [2, 1]

    v1 = ArticleVersion.objects.get(article=article, number=1)
    services.article_restore(article=article, version=v1, actor=reviewer)
    article.refresh_from_db()
    assert article.version == 3
    assert {f: getattr(article, f) for f in first} == first
    assert article.body_html == services.render_markdown(first["body"])  # type: ignore[attr-defined]


def test_restore_refuses_another_articles_version(writer: User) -> None:
    a = make_article(writer, title="A")
    b = make_article(writer, title="B")
    with pytest.raises(DomainError):
        services.article_restore(article=a, version=b.versions.get(), actor=writer)


def test_slug_change_leaves_redirect_and_old_slug_stays_reserved(writer: User) -> None:
    article = make_article(writer, title="Import contacts")
    assert article.slug == "import-contacts"
    services.article_update(article=article, data=_input(article, slug="importing"), actor=writer)
    assert SlugRedirect.objects.get(old_slug="import-contacts").article == article
    other = make_article(writer, title="Import contacts")
    assert other.slug == "import-contacts-2"
    # Going back to the old slug drops its redirect (no loop) and redirects the newer one.
    article.refresh_from_db()
    services.article_update(
        article=article, data=_input(article, slug="import-contacts"), actor=writer
    )
    assert set(SlugRedirect.objects.values_list("old_slug", flat=True)) == {"importing"}


def test_chinese_titles_get_unicode_slugs(writer: User) -> None:
    article = make_article(writer, title="导入联系人", language=Language.ZH_HANS)
    assert article.slug == "导入联系人"


def test_review_step_before_publishing(writer: User, reviewer: User) -> None:
    article = make_article(writer)
    with pytest.raises(DomainError):
        services.article_publish(article=article, actor=reviewer)  # not in review yet
    services.article_submit_for_review(article=article, actor=writer)
    with pytest.raises(DomainError):
        services.article_publish(article=article, actor=writer)  # own article
    services.article_publish(article=article, actor=reviewer)
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert article.reviewer == reviewer
    assert article.published_at is not None
    assert article.is_public


def test_rep_may_not_publish(writer: User, rep: User) -> None:
    article = make_article(writer)
    services.article_submit_for_review(article=article, actor=writer)
    with pytest.raises(DomainError):
        services.article_publish(article=article, actor=rep)


def test_publish_change_and_archive_bump_public_cache_version(
    writer: User, reviewer: User, django_capture_on_commit_callbacks
) -> None:
    cache.delete(services.PUBLIC_CACHE_VERSION_KEY)
    article = make_article(writer)
    start = services.public_cache_version()
    with django_capture_on_commit_callbacks(execute=True):
        publish(article, reviewer)
    assert services.public_cache_version() == start + 1
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=article, data=_input(article, body="x"), actor=writer)
    assert services.public_cache_version() == start + 2
    with django_capture_on_commit_callbacks(execute=True):
        services.article_archive(article=article, actor=writer)
    assert services.public_cache_version() == start + 3


def test_draft_edits_do_not_bump_public_cache(
    writer: User, django_capture_on_commit_callbacks
) -> None:
    article = make_article(writer)
    start = services.public_cache_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.article_update(article=article, data=_input(article, body="x"), actor=writer)
    assert services.public_cache_version() == start


def test_one_translation_per_language(writer: User) -> None:
    en = make_article(writer, title="Import contacts")
    zh = services.article_create(
        data=ArticleInput(title="导入联系人", language=Language.ZH_HANS),
        actor=writer,
        translation_of=en,
    )
    assert zh.translation_group == en.translation_group
    with pytest.raises(DomainError):
        services.article_create(
            data=ArticleInput(title="Import again", language=Language.EN),
            actor=writer,
            translation_of=en,
        )


def test_database_refuses_published_without_date(writer: User) -> None:
    article = make_article(writer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(status=Status.PUBLISHED)


def test_search_columns_hold_chinese_bigrams(writer: User) -> None:
    article = make_article(
        writer, title="导入客户数据", body="上传文件", visibility=Visibility.INTERNAL
    )
    assert "客户" in article.search_title.split()
    assert Article.objects.filter(search_vector="客户").get() == article
