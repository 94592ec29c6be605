"""Editing categories (names in English and Chinese, slug, parent, position) and the order of
the articles in a category, which the category page and the FAQ follow; by permission."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from crm.errors import DomainError
from kb import services
from kb.models import Article, Category
from tests.conftest import login
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    services.public_cache_bump()


@pytest.fixture
def category() -> Category:
    return services.category_create(name="Contacts", slug="contacts", position=1)


@pytest.fixture
def three(writer: User, reviewer: User, category: Category) -> list[Article]:
    return [
        publish(make_article(writer, title=title, category=category, is_faq=True), reviewer)
        for title in ("Alpha import", "Beta export", "Gamma merge")
    ]


def _edit(category: Category) -> str:
    return reverse("kb:category-edit", args=[category.pk])


def _form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Contacts",
        "name_zh": "联系人",
        "slug": "contacts",
        "parent": "",
        "position": "1",
    }
    data.update(values)
    return data


def test_agent_edits_names_slug_parent_and_position(
    client: Client, writer: User, category: Category
) -> None:
    top = services.category_create(name="Getting started", slug="start")
    c = login(client, writer)
    response = c.post(
        _edit(category),
        _form(name="People", name_zh="客户联系人", slug="people", parent=top.pk, position="4"),
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.name_zh, category.slug) == ("People", "客户联系人", "people")
    assert (category.parent_id, category.position) == (top.pk, 4)
    english = c.get(reverse("kb:help-category", args=["people"])).content.decode()
    assert '<h1 class="h3">People</h1>' in english
    chinese = Client().get(
        reverse("kb:help-category", args=["people"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert '<h1 class="h3">客户联系人</h1>' in chinese.content.decode()


def test_old_category_addresses_redirect_permanently(
    client: Client, writer: User, category: Category
) -> None:
    c = login(client, writer)
    c.post(_edit(category), _form(slug="people"))
    c.post(_edit(category), _form(slug="customers"))
    visitor = Client()
    for old in ("contacts", "people"):
        response = visitor.get(reverse("kb:help-category", args=[old]))
        assert response.status_code == 301
        assert response["Location"] == reverse("kb:help-category", args=["customers"])
    # Taking a slug back makes it live again (no redirect loop).
    c.post(_edit(category), _form(slug="contacts"))
    assert visitor.get(reverse("kb:help-category", args=["contacts"])).status_code == 200
    assert visitor.get(reverse("kb:help-category", args=["customers"])).status_code == 301
    assert visitor.get(reverse("kb:help-category", args=["nowhere"])).status_code == 404


def test_a_category_cannot_go_inside_itself_or_take_a_used_slug(
    client: Client, writer: User, category: Category
) -> None:
    child = services.category_create(name="Imports", slug="imports", parent=category)
    services.category_create(name="Sales", slug="sales")
    c = login(client, writer)
    response = c.post(_edit(category), _form(parent=child.pk))
    assert response.status_code == 422
    assert "cannot be placed inside itself" in response.content.decode()
    response = c.post(_edit(category), _form(slug="sales"))
    assert response.status_code == 422
    assert "Another category has this slug." in response.content.decode()
    response = c.post(_edit(category), _form(parent=category.pk))  # not offered: not a choice
    assert response.status_code == 422
    category.refresh_from_db()
    assert (category.parent_id, category.slug) == (None, "contacts")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"position": "-1"}, "greater than or equal to 0"),
        ({"position": "x" * 5000}, "Enter a whole number."),
        ({"parent": "99999999999999999999"}, "Pick a category from the list."),
        ({"slug": "!!!"}, "Give the category a slug made of letters or digits."),
    ],
)
def test_bad_category_input_is_a_422_with_a_message(
    client: Client, writer: User, category: Category, values: dict[str, str], message: str
) -> None:
    response = login(client, writer).post(_edit(category), _form(**values))
    assert response.status_code == 422
    assert message in response.content.decode()


def test_nul_in_a_category_form_is_refused(
    client: Client, writer: User, category: Category
) -> None:
    response = login(client, writer).post(_edit(category), _form(name="Con\x00tacts"))
    assert response.status_code == 400
    category.refresh_from_db()
    assert category.name == "Contacts"


def test_only_roles_that_change_categories_edit_them(
    client: Client, rep: User, category: Category
) -> None:
    c = login(client, rep)  # sales reps read the knowledge base
    assert c.get(_edit(category)).status_code == 403
    assert c.post(_edit(category), _form(name="Hacked")).status_code == 403
    assert "kb:category-edit" not in c.get(reverse("kb:category-list")).content.decode()
    category.refresh_from_db()
    assert category.name == "Contacts"
    with pytest.raises(Exception, match="may not change"):
        services.category_update(category=category, name="Hacked", actor=rep)
    assert c.get(reverse("kb:category-edit", args=[99999999])).status_code == 404


def test_moving_articles_orders_the_category_page_and_the_faq(
    client: Client,
    writer: User,
    three: list[Article],
    category: Category,
    django_capture_on_commit_callbacks,
) -> None:
    _alpha, beta, gamma = three
    public = Client()
    page = reverse("kb:help-category", args=[category.slug])
    before = public.get(page).content.decode()
    assert before.index("Alpha import") < before.index("Gamma merge")
    c = login(client, writer)
    with django_capture_on_commit_callbacks(execute=True):  # retires the cached pages
        response = c.post(
            reverse("kb:article-move", args=[gamma.pk]),
            {"direction": "up"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="kb-category-articles"')
    assert html.index("Gamma merge") < html.index("Beta export")
    with django_capture_on_commit_callbacks(execute=True):
        c.post(reverse("kb:article-move", args=[gamma.pk]), {"direction": "up"})
    titles = [a.title for a in services.category_articles(category)]
    assert titles == ["Gamma merge", "Alpha import", "Beta export"]
    # Published pages were retired: the visitor sees the new order at once.
    after = public.get(page).content.decode()
    assert after.index("Gamma merge") < after.index("Alpha import") < after.index("Beta export")
    faq = public.get(reverse("kb:help-faq")).content.decode()
    assert faq.index("Gamma merge") < faq.index("Alpha import") < faq.index("Beta export")
    # The first one up, the last one down: nothing changes.
    services.article_move(article=gamma, direction="up", actor=writer)
    services.article_move(article=beta, direction="down", actor=writer)
    titles = [a.title for a in services.category_articles(category)]
    assert titles == ["Gamma merge", "Alpha import", "Beta export"]
    assert sorted(Article.objects.values_list("position", flat=True)) == [0, 1, 2]


def test_move_refuses_bad_directions_archived_and_uncategorised_articles(
    client: Client, writer: User, three: list[Article]
) -> None:
    c = login(client, writer)
    url = reverse("kb:article-move", args=[three[0].pk])
    response = c.post(url, {"direction": "sideways"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Move an article up or down." in response.content.decode()
    services.article_archive(article=three[1], actor=writer)
    with pytest.raises(DomainError):
        services.article_move(article=three[1], direction="up", actor=writer)
    loose = make_article(writer, title="Loose")
    response = c.post(reverse("kb:article-move", args=[loose.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert response["Location"] == reverse("kb:article-detail", args=[loose.pk])


def test_sales_rep_may_not_move_articles(client: Client, rep: User, three: list[Article]) -> None:
    response = login(client, rep).post(
        reverse("kb:article-move", args=[three[2].pk]), {"direction": "up"}
    )
    assert response.status_code == 403
    assert [a.title for a in services.category_articles(three[0].category)] == [
        "Alpha import",
        "Beta export",
        "Gamma merge",
    ]


def test_category_page_queries_stay_flat(
    client: Client,
    writer: User,
    reviewer: User,
    category: Category,
    django_assert_max_num_queries,
) -> None:
    for i in range(12):
        make_article(writer, title=f"Article {i}", category=category, language="en")
    c = login(client, writer)
    c.get(_edit(category))
    with django_assert_max_num_queries(12):
        response = c.get(_edit(category))
    assert response.status_code == 200
    assert response.content.decode().count('data-kb-article="') == 12
