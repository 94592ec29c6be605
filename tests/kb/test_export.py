"""The staff article export (issue 24: every kit list exports): the staff list's own filters and
scope (internal, draft and archived articles for staff who read the knowledge base, nothing for
a user without `view_article`), CSV with formula cells neutralised, XLSX, Chinese text both
ways, helpful counts, `export_article` checked by the kit, 400 with a message for invalid
filters (NUL included), queries flat in the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Tag
from kb.models import Article, Category, Feedback, Visibility
from tests.conftest import login
from tests.exports import (
    assert_nul_refused,
    assert_refused,
    assert_sends_to_login,
    export_queries,
    read_csv,
    read_xlsx,
)
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db

URL = "kb:article-export"


@pytest.fixture
def articles(writer, reviewer) -> dict[str, Article]:
    """A published public article with answers, a Chinese draft in a category with a tag, an
    internal one whose title is a formula."""
    Tag.objects.create(name="入门")
    guides = Category.objects.create(name="指南", slug="guides")
    public = publish(make_article(writer, title="Import contacts from CSV"), reviewer)
    for n, helpful in enumerate((True, True, False)):
        Feedback.objects.create(article=public, visitor=f"00000000-0000-0000-0000-00000000000{n}",
                                helpful=helpful)  # fmt: skip
    chinese = make_article(
        writer, title="导入联系人", body="上传文件", language="zh-hans", category=guides,
        tag_names=("入门",),
    )  # fmt: skip
    internal = make_article(
        writer, title="=HYPERLINK(\"http://x.example\")", visibility=Visibility.INTERNAL,
        slug="internal-formula",
    )  # fmt: skip
    return {"public": public, "chinese": chinese, "internal": internal}


def _ids(response) -> set[int]:
    return {int(row[0]) for row in read_csv(response)[1:]}


def _list_ids(client, query) -> set[int]:
    response = client.get(reverse("kb:article-list"), query)
    assert response.status_code == 200
    return {a.pk for a in response.context["list"].page.items}


def test_csv_has_the_columns_and_neutralises_formulas(client, writer, articles):
    login(client, writer)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="articles-' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "id", "Title", "Slug", "Category", "Language", "Status", "Visibility", "Author",
        "Published", "Updated", "Views", "Helpful", "Not helpful", "Tags",
    ]  # fmt: skip
    by_id = {int(row[0]): row for row in rows[1:]}
    public = by_id[articles["public"].pk]
    assert public[1] == "Import contacts from CSV"
    assert public[5:8] == ["Published", "Public", str(articles["public"].author)]
    assert public[8]  # published
    assert public[10:13] == ["0", "2", "1"]
    chinese = by_id[articles["chinese"].pk]
    assert chinese[1] == "导入联系人"
    assert chinese[3:7] == ["指南", "Simplified Chinese", "Draft", "Public"]
    assert chinese[13] == "入门"
    assert by_id[articles["internal"].pk][1] == '\'=HYPERLINK("http://x.example")'
    assert by_id[articles["internal"].pk][6] == "Internal"


def test_xlsx_keeps_chinese_and_formulas_as_text(client, writer, articles):
    login(client, writer)
    response = client.get(reverse(URL), {"format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="articles-' in response["Content-Disposition"]
    rows = read_xlsx(response)
    chinese = rows[articles["chinese"].pk]
    assert (chinese[1].value, chinese[3].value, chinese[13].value) == ("导入联系人", "指南", "入门")
    formula = rows[articles["internal"].pk][1]
    assert formula.value == '=HYPERLINK("http://x.example")'
    assert formula.data_type == "s"
    assert rows[articles["public"].pk][11].value == 2
    assert isinstance(rows[articles["public"].pk][9].value, dt.datetime)  # Updated


def test_staff_export_what_their_list_shows(client, writer, rep, marketer, articles):
    """Internal and unpublished articles are staff reading: every role with view_article has
    them in its list, and so in its export."""
    everything = {a.pk for a in articles.values()}
    for user in (writer, rep, marketer):
        login(client, user)
        assert _ids(client.get(reverse(URL))) == everything
        assert _list_ids(client, {}) == everything


def test_without_view_article_the_export_is_empty(client, no_role, articles):
    """The export reads the list's scope: a user given only export_article sees no article."""
    no_role.user_permissions.add(Permission.objects.get(codename="export_article"))
    login(client, no_role)
    response = client.get(reverse(URL))
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][1] == "Title"
    assert rows[1:] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "published"}, {"public"}),
        ({"language": "zh-hans"}, {"chinese"}),
        ({"visibility": "internal"}, {"internal"}),
        ({"q": "导入"}, {"chinese"}),
        ({"q": "contacts", "status": "draft"}, set()),
    ],
)
def test_filters_are_the_lists(client, rep, articles, query, expected):
    login(client, rep)
    ids = {articles[key].pk for key in expected}
    assert _ids(client.get(reverse(URL), query)) == ids
    assert _list_ids(client, query) == ids


def test_category_and_tag_filters(client, rep, articles):
    login(client, rep)
    chinese = articles["chinese"]
    for query in ({"category": chinese.category_id}, {"tag": chinese.tag_ids[0]}):
        assert _ids(client.get(reverse(URL), query)) == {chinese.pk}


def test_the_list_links_the_export_with_its_filters(client, rep, articles):
    login(client, rep)
    html = client.get(reverse("kb:article-list"), {"language": "zh-hans"}).content.decode()
    assert reverse(URL) + "?language=zh-hans&amp;format=xlsx" in html
    assert reverse(URL) + "?language=zh-hans&amp;format=csv" in html


def test_export_needs_the_role_permission(client, read_only, articles):
    login(client, read_only)
    response = client.get(reverse(URL))
    assert response.status_code == 403
    assert "may not export articles" in response.content.decode()
    assert reverse(URL) not in client.get(reverse("kb:article-list")).content.decode()


def test_anonymous_goes_to_login(client):
    assert_sends_to_login(client, reverse(URL))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "exploded"}, "Pick a status from the list."),
        ({"language": "klingon"}, "Pick a language from the list."),
        ({"visibility": "secret"}, "Pick a visibility from the list."),
        ({"category": "999999"}, "Pick a category from the list."),
        ({"category": "x"}, "Pick a category from the list."),
        ({"q": "x" * 500}, "nothing was exported"),
    ],
)
def test_invalid_filters_are_a_400_and_export_nothing(client, rep, articles, query, message):
    login(client, rep)
    assert_refused(client.get(reverse(URL), query), message, "Import contacts")


@pytest.mark.parametrize("query", [{"q": "a\x00b"}, {"status": "draft\x00"}, {"tag": "\x00"}])
def test_nul_in_a_filter_is_a_400_not_a_500(client, rep, articles, query):
    login(client, rep)
    assert_nul_refused(client.get(reverse(URL), query), "Import contacts")


def test_queries_do_not_grow_with_rows(client, writer, articles):
    login(client, writer)
    url = reverse(URL)
    client.get(url)  # warm the role cache
    few_rows, few = export_queries(client, url, {})
    guides = articles["chinese"].category
    for n in range(20):
        article = make_article(writer, title=f"Article {n}", category=guides, tag_names=("入门",))
        Feedback.objects.create(
            article=article, visitor=f"00000000-0000-0000-0000-0000000001{n:02d}", helpful=True
        )
    many_rows, many = export_queries(client, url, {})
    assert (few_rows, many_rows) == (3, 23)
    assert many == few
    # The user, role and permissions (4), the filter's categories and tag labels, the rows,
    # their answers, the chunk's tag labels (cached outside a test's transaction), the empty
    # chunk that ends them.
    assert many <= 10
