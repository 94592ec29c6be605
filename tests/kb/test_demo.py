"""seed_demo's help centre: a dozen published articles in English and Chinese written through
the services (translations linked, categories named in both languages, eight in the FAQ), then
bulk articles up to 5,000 (`--kb-articles N`), English with their Chinese translations, that
the public search finds in both languages; a second run adds nothing."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from kb import demo, selectors, services
from kb.models import Article, ArticleVersion, Category, Language, Status, Visibility
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people() -> None:
    UserFactory(email="agent@demo.example", role=Role.SUPPORT_AGENT)
    UserFactory(email="admin@demo.example", role=Role.ADMINISTRATOR, is_superuser=True)


def test_seed_demo_writes_the_help_centre_once(demo_people: None) -> None:
    # seed_demo finds the hook by name (contacts/management/commands/seed_demo.py).
    hook = import_module("kb.demo").seed_demo
    facts = hook(contacts=200, seed=1, kb_articles=0)
    assert facts == {"articles": 12, "categories": 5}
    assert hook(contacts=200, seed=1, kb_articles=0) == {}
    articles = Article.objects.all()
    assert articles.count() == 12
    assert set(articles.values_list("status", flat=True)) == {Status.PUBLISHED}
    assert articles.filter(language=Language.ZH_HANS).count() == 6
    assert articles.values("translation_group").distinct().count() == 6
    assert articles.filter(is_faq=True).count() == 8
    assert all(a.reviewer_id != a.author_id for a in articles)
    assert all(a.version == 1 and a.search_text for a in articles)
    assert Category.objects.get(slug="contacts-help").name_zh == "联系人"


def test_demo_articles_read_well_in_both_languages(demo_people: None) -> None:
    demo.seed_demo(contacts=0, kb_articles=0)
    services.public_cache_bump()
    visitor = Client()
    faq = visitor.get(reverse("kb:help-faq")).content.decode()
    assert "Import contacts from a CSV or Excel file" in faq
    faq_zh = visitor.get(reverse("kb:help-faq"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "从 Excel 或 CSV 文件导入联系人" in faq_zh
    home_zh = visitor.get(reverse("kb:help-home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客户服务" in home_zh
    found = visitor.get(reverse("kb:help-search"), {"q": "忘记密码"}).content.decode()
    assert 'href="/kb/a/zh-reset-password/"' in found


def test_without_the_demo_users_it_adds_nothing(db: None) -> None:
    assert demo.seed_demo(contacts=200) == {}
    assert not Article.objects.exists()


def test_seed_demo_adds_5000_articles_in_english_and_chinese_once() -> None:
    call_command("seed_demo", verbosity=0)  # the README's run: the default size
    articles = Article.objects.all()
    assert articles.count() == demo.ARTICLES == 5_000
    by_language = dict(articles.values_list("language").annotate(n=Count("id")))
    assert by_language == {Language.EN: 2_500, Language.ZH_HANS: 2_500}
    public = selectors.public_articles()
    assert public.count() > 4_000
    assert public.filter(language=Language.ZH_HANS).count() > 2_000
    # Staff-only, unpublished and archived ones too, as in a real knowledge base.
    assert articles.filter(status=Status.PUBLISHED, visibility=Visibility.INTERNAL).exists()
    assert articles.filter(status=Status.DRAFT).exists()
    assert articles.filter(status=Status.ARCHIVED).exists()
    # Every category is used, in both languages; the FAQ stays the demo's eight.
    for category in Category.objects.all():
        langs = set(public.filter(category=category).values_list("language", flat=True))
        assert langs == {Language.EN, Language.ZH_HANS}, category.slug
    assert articles.filter(is_faq=True).count() == 8
    # English articles and their Chinese translations share a group, one per language.
    groups = articles.values("translation_group").annotate(n=Count("id"))
    assert groups.filter(n=2).count() == 2_500
    assert articles.values("title").distinct().count() > 4_900  # realistic variety
    assert ArticleVersion.objects.filter(number=1).count() == 5_000

    call_command("seed_demo", verbosity=0)  # the demo is there: nothing to do
    call_command("seed_demo", "--contacts", "0", verbosity=0)  # the apps' hooks run again
    assert Article.objects.count() == 5_000
    assert demo.top_up(5_000) == {"rows": 0}


def test_the_seeded_articles_are_found_in_english_and_chinese(demo_people: None) -> None:
    demo.seed_demo(contacts=0, kb_articles=1_200)
    assert Article.objects.count() == 1_200
    for query, language, topic in (
        ("import contacts", Language.EN, "import-contacts"),
        ("forgot password", Language.EN, "reset-password"),
        ("round robin", Language.EN, "auto-assign"),
        ("导入联系人", Language.ZH_HANS, "zh-import-contacts"),
        ("忘记密码", Language.ZH_HANS, "zh-reset-password"),
        ("手机 销售预测", Language.ZH_HANS, "zh-sales-forecast"),
    ):
        hits = selectors.public_search(text=query, language=language)
        assert hits, query
        top = hits[0].article
        assert top.language == language, query
        assert top.slug.startswith(topic), (query, top.slug)
        assert all(h.article.is_public for h in hits)
    # Through the public page, as a visitor types it.
    services.public_cache_bump()
    page = Client().get(reverse("kb:help-search"), {"q": "手机 导出"}).content.decode()
    assert "/kb/a/zh-export-contacts-phone-" in page


def test_bulk_rows_are_what_the_services_write(demo_people: None) -> None:
    demo.seed_demo(contacts=0, kb_articles=400)
    bulk = Article.objects.filter(slug__regex=r"-[0-9]+$")  # the demo's dozen have none
    assert bulk.count() == 388
    sample = list(bulk.order_by("?")[:60])
    for article in sample:
        stored = (article.body_html, article.search_title, article.search_text)
        services.derive_text(article)
        assert (article.body_html, article.search_title, article.search_text) == stored
        version = article.versions.get()
        assert (version.title, version.body, version.status) == (
            article.title,
            article.body,
            article.status,
        )
        dated = article.status in (Status.PUBLISHED, Status.ARCHIVED)
        assert dated == (article.published_at is not None)
        assert (article.reviewer_id is None) == (not dated)
    zh = Article.objects.filter(language=Language.ZH_HANS, slug__contains="-phone-").first()
    assert zh is not None
    assert "手机端" in zh.title
    assert "<h2>" in zh.body_html
    en = Article.objects.get(translation_group=zh.translation_group, language=Language.EN)
    assert "on a phone" in en.title


def test_kb_articles_option_tops_up_to_the_number() -> None:
    call_command("seed_demo", "--kb-articles", "100", verbosity=0)
    assert Article.objects.count() == 100
    # On a database with the demo, `--contacts 0` runs the apps' hooks without more contacts.
    call_command("seed_demo", "--contacts", "0", "--kb-articles", "301", verbosity=0)
    assert Article.objects.count() == 301  # an odd number ends with an English one alone
    call_command("seed_demo", "--contacts", "0", "--kb-articles", "50", verbosity=0)
    assert Article.objects.count() == 301  # never removes any
    assert Article.objects.values("slug").distinct().count() == 301


@pytest.mark.parametrize("value", ["-5", "many"])
def test_kb_articles_option_refuses_a_bad_number(db: None, value: str) -> None:
    with pytest.raises(CommandError, match="zero or more"):
        call_command("seed_demo", "--kb-articles", value, verbosity=0)
    assert not Article.objects.exists()
