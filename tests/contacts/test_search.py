"""Search: partial names, Chinese names, phone fragments and emails, through the indexes."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from accounts.models import User
from contacts import selectors
from contacts.models import Company, Contact
from contacts.search import build_search_text, normalize, search_condition, with_cjk_characters
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(manager: User) -> dict:
    acme = CompanyFactory(owner=manager, name="Acme Robotics")
    return {
        "john": ContactFactory(
            owner=manager,
            given_name="John",
            family_name="Smith",
            company=acme,
            emails=["john.smith@acme.example"],
            phones=["+1 (555) 123-4567"],
        ),
        "wang": ContactFactory(
            owner=manager,
            given_name="小明",
            family_name="王",
            name_order="family_first",
            phones=["+86 138 1234 5678"],
        ),
        "zhang": ContactFactory(
            owner=manager, given_name="伟", family_name="张", name_order="family_first"
        ),
        "zoe": ContactFactory(
            owner=manager,
            given_name="Zoë",
            family_name="Müller",
            emails=["zoe-m@mail.example", "z.mueller+news@other-mail.example"],
        ),
    }


def find(user: User, q: str) -> set[str]:
    """What the list's search filter (contacts.filters) finds among the contacts `user` sees."""
    condition = search_condition(q, Contact)
    qs = selectors.contact_list(user=user)
    return {c.display_name for c in (qs if condition is None else qs.filter(condition))}


def find_companies(user: User, q: str) -> set[str]:
    condition = search_condition(q, Company)
    qs = selectors.company_list(user=user)
    return {c.name for c in (qs if condition is None else qs.filter(condition))}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("smi", {"John Smith"}),
        ("smith john", {"John Smith"}),
        ("ohn sm", {"John Smith"}),
        ("acme", {"John Smith"}),
        ("john.smith@acme.example", {"John Smith"}),
        ("@acme.example", {"John Smith"}),
        ("555-123", {"John Smith"}),
        ("5551234", {"John Smith"}),
        ("1234567", {"John Smith", "王小明"}),
        ("138 1234", {"王小明"}),
        ("王小明", {"王小明"}),
        ("小明", {"王小明"}),
        ("张伟", {"张伟"}),
        ("zoe", {"Zoë Müller"}),
        ("MÜLLER", {"Zoë Müller"}),
        ("JOHN.SMITH@ACME.EXAMPLE", {"John Smith"}),
        ("zoe-m@mail.example", {"Zoë Müller"}),
        ("z.mueller+news@other-mail.example", {"Zoë Müller"}),
        ("mueller+news@other", {"Zoë Müller"}),
        ("nobody@acme.example", set()),
        ("nobody-here", set()),
    ],
)
def test_search_finds(manager, people, query, expected):
    assert find(manager, query) == expected


def test_a_whole_email_is_found_by_its_token_without_the_trigram_scan():
    whole = str(Contact.objects.filter(search_condition("ann@acme.example", Contact)).query)
    fragment = str(Contact.objects.filter(search_condition("ann@acme", Contact)).query)
    assert "LIKE" not in whole
    assert "LIKE" in fragment


@pytest.mark.parametrize("query", ["", "   ", "&|!", "'", ":*", "a'b", "\\", "%", "_", "-"])
def test_odd_queries_do_not_error(manager, people, query):
    find(manager, query)


def test_normalize_and_bigrams():
    assert normalize("  Zoë   MÜLLER ") == "zoe muller"
    assert build_search_text(["王小明"], ["+86 138"]) == "王小明 王小 小明 86138 王 小 明"


# --- one- and two-character Chinese queries -------------------------------------------------


@pytest.fixture
def chinese(manager: User) -> dict:
    alibaba = CompanyFactory(owner=manager, name="阿里巴巴")
    yutong = CompanyFactory(owner=manager, name="郑州宇通物流有限公司")
    return {
        "zhang_wei": ContactFactory(
            owner=manager, given_name="伟", family_name="张", name_order="family_first"
        ),
        "zhang_min": ContactFactory(
            owner=manager,
            given_name="敏",
            family_name="张",
            name_order="family_first",
            company=alibaba,
        ),
        "li_xiaoming": ContactFactory(
            owner=manager,
            given_name="小明",
            family_name="李",
            name_order="family_first",
            company=yutong,
        ),
        "ouyang": ContactFactory(
            owner=manager, given_name="娜娜", family_name="欧阳", name_order="family_first"
        ),
        "john": ContactFactory(owner=manager, given_name="John", family_name="Smith"),
        "alibaba": alibaba,
        "yutong": yutong,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张", {"张伟", "张敏"}),  # a family name alone
        ("李", {"李小明"}),
        ("伟", {"张伟"}),  # the last character of a name
        ("明", {"李小明"}),
        ("阳", {"欧阳娜娜"}),  # inside a two-character family name
        ("刘", set()),
        ("张伟", {"张伟"}),
        ("小明", {"李小明"}),  # a given name
        ("欧阳", {"欧阳娜娜"}),
        ("娜娜", {"欧阳娜娜"}),
        ("张 敏", {"张敏"}),  # two one-character words, both required
        ("张 伟", {"张伟"}),
        ("里", {"张敏"}),  # one character of the company's name
        ("巴巴", {"张敏"}),
        ("宇通", {"李小明"}),
        ("物", {"李小明"}),
        ("伟明", set()),  # characters of different people do not pair up
    ],
)
def test_one_and_two_character_chinese_queries_find_contacts(manager, chinese, query, expected):
    assert find(manager, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("阿", {"阿里巴巴"}), ("巴巴", {"阿里巴巴"}), ("通", {"郑州宇通物流有限公司"}),
     ("郑州", {"郑州宇通物流有限公司"}), ("司", {"郑州宇通物流有限公司"}), ("张", set())],
)  # fmt: skip
def test_one_and_two_character_chinese_queries_find_companies(manager, chinese, query, expected):
    assert find_companies(manager, query) == expected


def test_a_one_character_query_is_one_full_text_token_not_a_scan():
    sql = str(Contact.objects.filter(search_condition("张", Contact)).query)
    assert "LIKE" not in sql
    assert "'张'" in sql or "张" in sql


def test_search_text_holds_each_chinese_character_once_after_bigrams_and_digits():
    assert build_search_text(["张伟", "阿里巴巴"], ["+86 138"]) == (
        "张伟 阿里巴巴 张伟 阿里 里巴 巴巴 86138 张 伟 阿 里 巴"
    )
    # a character that is already a token of its own is not repeated
    assert build_search_text(["张 伟"]) == "张 伟 张 伟"
    assert build_search_text(["John Smith"]) == "john smith"


@pytest.mark.parametrize(
    "text",
    [
        "张伟 张伟",
        "张 伟 张伟",
        "john smith",
        "王小明 acme 王小 小明 86138",
        "김철수 株式会社 ひらがな",
        "",
    ],
)
def test_with_cjk_characters_is_idempotent(text):
    once = with_cjk_characters(text)
    assert with_cjk_characters(once) == once


def test_migration_sql_gives_what_build_search_text_gives(manager):
    """Rows stored before the change (no single characters) get exactly what a save now writes."""
    migration = importlib.import_module("contacts.migrations.0009_search_cjk_characters")
    texts = {
        "张伟": "张伟 张伟",
        "王小明 acme": "王小明 acme 王小 小明 86138",
        "lone": "张 伟 张伟",
        "korean": "김철수 株式会社 ひらがな 김철 철수 株式 式会 会社 ひら らが がな",
        "ascii": "john smith",
    }
    ids = {}
    for name, old in texts.items():
        contact = ContactFactory(owner=manager, given_name=name)
        Contact.objects.filter(pk=contact.pk).update(search_text=old)
        ids[name] = contact.pk
    company = CompanyFactory(owner=manager, name="阿里巴巴")
    Company.objects.filter(pk=company.pk).update(search_text="阿里巴巴 阿里 里巴 巴巴")

    run = migration._batched(migration.FORWARD)
    run(None, SimpleNamespace(connection=connection))
    for name, old in texts.items():
        assert Contact.objects.get(pk=ids[name]).search_text == with_cjk_characters(old), name
    assert Company.objects.get(pk=company.pk).search_text == "阿里巴巴 阿里 里巴 巴巴 阿 里 巴"
    assert find_companies(manager, "巴") == {"阿里巴巴"}

    before = dict(Contact.objects.filter(pk__in=ids.values()).values_list("pk", "search_text"))
    run(None, SimpleNamespace(connection=connection))  # a second run changes nothing
    assert dict(Contact.objects.filter(pk__in=ids.values()).values_list("pk", "search_text")) == (
        before
    )
