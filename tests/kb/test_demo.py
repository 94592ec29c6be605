"""seed_demo's help centre: a dozen published articles in English and Chinese (translations
linked), in categories named in both languages, some in the FAQ, written once."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from kb import demo, services
from kb.models import Article, Category, Language, Status
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people() -> None:
    UserFactory(email="agent@demo.example", role=Role.SUPPORT_AGENT)
    UserFactory(email="admin@demo.example", role=Role.ADMINISTRATOR, is_superuser=True)


def test_seed_demo_writes_the_help_centre_once(demo_people: None) -> None:
    # seed_demo finds the hook by name (contacts/management/commands/seed_demo.py).
    hook = import_module("kb.demo").seed_demo
    facts = hook(contacts=200, seed=1)
    assert facts == {"articles": 12, "categories": 5}
    assert hook(contacts=200, seed=1) == {}
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
    demo.seed_demo(contacts=0)
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
