"""The staff pages: list (filters, bad values), editor (create, edit, preview, images), the
review step by permission, versions compared and restored, categories, the ticket panel's
search, and internal articles visible to staff only."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from accounts.models import User
from kb import counters, services
from kb.models import Article, Category, Status, Visibility
from tests.conftest import login
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


def _png(size: tuple[int, int] = (4, 3), kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(out, kind)
    return out.getvalue()


def _form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Export deals",
        "summary": "Download the deal list.",
        "body": "Open **Deals** and pick *Export*.",
        "tags": "export, deals",
        "category": "",
        "visibility": "public",
        "language": "en",
        "slug": "",
    }
    data.update(values)
    return data


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("kb:article-list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_list_filters_and_search(client: Client, writer: User, reviewer: User, rep: User) -> None:
    publish(make_article(writer, title="Import contacts from CSV"), reviewer)
    make_article(writer, title="导入联系人", body="上传文件", language="zh-hans")
    make_article(writer, title="Internal pricing notes", visibility=Visibility.INTERNAL)
    c = login(client, rep)  # a sales rep reads the knowledge base
    html = c.get(reverse("kb:article-list")).content.decode()
    assert "Import contacts from CSV" in html
    assert "Internal pricing notes" in html
    html = c.get(reverse("kb:article-list"), {"status": "published"}).content.decode()
    assert "Import contacts from CSV" in html
    assert "导入联系人" not in html
    html = c.get(reverse("kb:article-list"), {"language": "zh-hans"}).content.decode()
    assert "导入联系人" in html
    assert "Import contacts" not in html
    html = c.get(reverse("kb:article-list"), {"q": "联系"}).content.decode()
    assert "导入联系人" in html
    assert "Internal pricing" not in html
    html = c.get(reverse("kb:article-list"), {"q": "impor"}).content.decode()
    assert "Import contacts from CSV" in html
    assert "Internal pricing" not in html
    fragment = c.get(reverse("kb:article-list"), {"visibility": "internal"}, HTTP_HX_REQUEST="true")
    assert "Internal pricing notes" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"category": "999999"},
        {"category": "x\u202e"},
        {"q": "a" * 500},
        {"cursor": "not-a-cursor"},
        {"sort": "nope"},
        {"q": "\U0001f600" * 50},
    ],
)
def test_list_bad_input_is_a_clear_4xx_or_ignored(client: Client, rep: User, query: dict) -> None:
    response = login(client, rep).get(reverse("kb:article-list"), query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "Some filters were not understood" in response.content.decode()


def test_nul_in_search_is_refused(client: Client, rep: User) -> None:
    response = login(client, rep).get(reverse("kb:article-list"), {"q": "a\x00b"})
    assert response.status_code == 400


def test_create_edit_and_version_history(client: Client, agent: User) -> None:
    c = login(client, agent)
    response = c.post(reverse("kb:article-create"), _form())
    assert response.status_code == 302
    article = Article.objects.get(title="Export deals")
    assert article.author == agent
    assert article.tags == ["deals", "export"]
    assert article.status == Status.DRAFT
    assert article.version == 1
    response = c.post(
        reverse("kb:article-edit", args=[article.pk]),
        _form(title="Export your deals", slug=article.slug, body="New body\nline two"),
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.version == 2
    assert article.title == "Export your deals"
    page = c.get(reverse("kb:article-detail", args=[article.pk])).content.decode()
    assert "v2" in page
    assert "v1" in page
    assert "Submit for review" in page


def test_editor_errors_are_422_with_the_message(client: Client, agent: User) -> None:
    c = login(client, agent)
    response = c.post(reverse("kb:article-create"), _form(title="", visibility="secret"))
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice." in html
    response = c.post(reverse("kb:article-create"), _form(tags=",".join(["x" * 60])))
    assert response.status_code == 422
    assert "at most 50 characters" in response.content.decode()


def test_readers_cannot_write(client: Client, rep: User, writer: User) -> None:
    article = make_article(writer)
    c = login(client, rep)
    assert c.get(reverse("kb:article-create")).status_code == 403
    assert c.post(reverse("kb:article-edit", args=[article.pk]), _form()).status_code == 403
    assert c.post(reverse("kb:article-archive", args=[article.pk])).status_code == 403
    image = {"image": SimpleUploadedFile("a.png", _png())}
    assert c.post(reverse("kb:image-upload"), image).status_code == 403
    article.refresh_from_db()
    assert article.status == Status.DRAFT
    assert article.version == 1


def test_preview_renders_the_same_sanitised_html(client: Client, rep: User) -> None:
    c = login(client, rep)
    body = "# Title\n\n**bold** <script>alert(1)</script> [x](javascript:alert(1))"
    response = c.post(reverse("kb:article-preview"), {"body": body})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    too_long = c.post(reverse("kb:article-preview"), {"body": "x" * 200_001})
    assert too_long.status_code == 422


def test_review_step_by_permission(client: Client, agent: User, writer: User, rep: User) -> None:
    article = make_article(writer, title="Reset a password")
    c = login(client, writer)
    page = c.get(reverse("kb:article-detail", args=[article.pk])).content.decode()
    assert "Submit for review" in page
    assert ">Publish<" not in page
    c.post(reverse("kb:article-submit", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW
    # The author may not publish their own article: no button, and the POST is refused.
    page = c.get(reverse("kb:article-detail", args=[article.pk])).content.decode()
    assert ">Publish<" not in page
    response = c.post(reverse("kb:article-publish", args=[article.pk]), follow=True)
    assert "Another person must review" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW
    # A rep may read but not publish.
    rep_client = Client()
    login(rep_client, rep)
    assert rep_client.post(reverse("kb:article-publish", args=[article.pk])).status_code == 403
    # Another agent publishes, then archives.
    agent_client = Client()
    login(agent_client, agent)
    page = agent_client.get(reverse("kb:article-detail", args=[article.pk])).content.decode()
    assert ">Publish<" in page
    agent_client.post(reverse("kb:article-publish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert article.reviewer == agent
    agent_client.post(reverse("kb:article-archive", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Status.ARCHIVED


def test_compare_and_restore(client: Client, agent: User) -> None:
    article = make_article(agent, title="Merge contacts", body="one\ntwo\nthree", tags=["a"])
    services.article_update(
        article=article,
        data=services.ArticleInput(
            title="Merge two contacts", slug=article.slug, body="one\n2\nthree\nfour", tags=["b"]
        ),
        actor=agent,
    )
    c = login(client, agent)
    response = c.get(reverse("kb:article-compare", args=[article.pk]), {"a": 1, "b": 2})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.kind, r.left, r.right) for r in rows] == [
        ("equal", "one", "one"),
        ("replace", "two", "2"),
        ("equal", "three", "three"),
        ("insert", None, "four"),
    ]
    labels = {f.label: (f.left, f.right) for f in response.context["fields"]}
    assert labels["Title"] == ("Merge contacts", "Merge two contacts")
    assert labels["Tags"] == ("a", "b")
    for bad in ({"a": "x", "b": 2}, {"a": 99, "b": 1}, {"a": "1" * 40, "b": 1}):
        assert c.get(reverse("kb:article-compare", args=[article.pk]), bad).status_code == 400
    response = c.post(reverse("kb:article-restore", args=[article.pk, 1]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.body, article.tags, article.version) == (
        "Merge contacts",
        "one\ntwo\nthree",
        ["a"],
        3,
    )
    assert c.post(reverse("kb:article-restore", args=[article.pk, 42])).status_code == 404


@pytest.fixture
def private_root(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.PRIVATE_ROOT = tmp_path
    return tmp_path


def test_image_upload_checks_and_serves(client: Client, agent: User, private_root) -> None:  # type: ignore[no-untyped-def]
    c = login(client, agent)
    url = reverse("kb:image-upload")
    response = c.post(url, {"image": SimpleUploadedFile("shot.png", _png())})
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["markdown"] == f"![]({body['url']})"
    served = Client().get(body["url"])  # the public reads it by its random name
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == _png()
    # A script named .png, a truncated image, an SVG, a BMP and an oversized file are refused.
    truncated = _png((64, 64))[:60]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    bmp = _png(kind="BMP")
    for name, data, message in [
        ("x.png", b"<script>alert(1)</script>", "not an image we can read"),
        ("t.png", truncated, "not an image we can read"),
        ("x.svg", svg, "not an image we can read"),
        ("x.bmp", bmp, "PNG, JPEG, GIF or WebP"),
        ("big.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 1), "at most 2 MB"),
    ]:
        response = c.post(url, {"image": SimpleUploadedFile(name, data)})
        assert response.status_code == 422, name
        assert message in json.loads(response.content)["error"], name
    assert c.post(url, {}).status_code == 422
    assert Client().get("/kb/img/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert Client().get(reverse("kb:help-image", args=["x" * 32 + ".png"])).status_code == 404
    assert Client().get(reverse("kb:help-image", args=["0" * 32 + ".png"])).status_code == 404


def test_categories_page(client: Client, agent: User, rep: User) -> None:
    c = login(client, agent)
    response = c.post(reverse("kb:category-list"), {"name": "Billing", "position": 1})
    assert response.status_code == 302
    parent = Category.objects.get(name="Billing")
    c.post(reverse("kb:category-list"), {"name": "Invoices", "parent": parent.pk, "position": 0})
    html = c.get(reverse("kb:category-list")).content.decode()
    assert html.index("Billing") < html.index("Invoices")
    response = c.post(reverse("kb:category-list"), {"name": "Billing", "position": 0})
    assert response.status_code == 422
    assert "Another category has this slug." in response.content.decode()
    rep_client = Client()
    login(rep_client, rep)
    assert rep_client.get(reverse("kb:category-list")).status_code == 200
    refused = rep_client.post(reverse("kb:category-list"), {"name": "X", "position": 0})
    assert refused.status_code == 403


def test_internal_articles_for_staff_only(
    client: Client, writer: User, reviewer: User, rep: User
) -> None:
    internal = publish(
        make_article(writer, title="Refund policy internal", visibility=Visibility.INTERNAL),
        reviewer,
    )
    public_one = publish(make_article(writer, title="Refund requests"), reviewer)
    # The public: no page, no search result.
    anonymous = Client()
    assert anonymous.get(reverse("kb:help-article", args=[internal.slug])).status_code == 404
    html = anonymous.get(reverse("kb:help-search"), {"q": "refund"}).content.decode()
    assert f"/kb/a/{public_one.slug}/" in html
    assert internal.slug not in html
    assert "policy" not in html
    # Staff: the ticket panel's search and the global search find both.
    c = login(client, rep)
    html = c.get(reverse("kb:panel-search"), {"q": "refund"}).content.decode()
    assert "policy internal" in html
    assert "requests" in html
    assert "Insert text" in html
    assert f"/kb/a/{public_one.slug}/" in html  # the public one has a link to insert
    html = c.get(reverse("search"), {"q": "refund"}).content.decode()
    assert f"/kb/staff/{internal.pk}/" in html
    assert anonymous.get(reverse("kb:panel-search"), {"q": "refund"}).status_code == 302


@override_settings(LANGUAGE_CODE="en")
def test_analytics_page(
    client: Client, agent: User, writer: User, reviewer: User, rep: User
) -> None:
    article = publish(make_article(writer, title="Set up email"), reviewer)
    anonymous = Client()
    anonymous.get(reverse("kb:help-article", args=[article.slug]))
    anonymous.post(reverse("kb:help-article-vote", args=[article.slug]), {"helpful": "no"})
    anonymous.get(reverse("kb:help-search"), {"q": "email"})
    anonymous.get(reverse("kb:help-search"), {"q": "Zzyzx"})
    anonymous.get(reverse("kb:help-search"), {"q": "zzyzx"})
    counters.flush_views()  # the periodic task: views wait in Redis until it runs
    c = login(client, agent)
    response = c.get(reverse("kb:analytics"), {"days": "7"})
    assert response.status_code == 200
    ctx = response.context
    assert ctx["totals"]["views"] == 1
    assert ctx["totals"]["no"] == 1
    assert ctx["totals"]["searches"] == 3
    assert ctx["totals"]["empty_searches"] == 2
    assert ctx["empty_searches"][0] == {"term": "zzyzx", "count": 2}
    assert [a.title for a in ctx["helpfulness"]] == ["Set up email"]
    assert c.get(reverse("kb:analytics"), {"days": "x\u0000"}).status_code == 400
    assert c.get(reverse("kb:analytics"), {"days": "-5"}).status_code == 200
    rep_client = Client()
    login(rep_client, rep)
    assert rep_client.get(reverse("kb:analytics")).status_code == 403


def test_api_lists_articles_read_only(client: Client, rep: User, writer: User) -> None:
    make_article(writer, title="Internal thing", visibility=Visibility.INTERNAL)
    c = login(client, rep)
    response = c.get("/api/kb-articles/", {"visibility": "internal"})
    assert response.status_code == 200
    assert [a["title"] for a in response.json()["results"]] == ["Internal thing"]
    assert c.get("/api/kb-articles/", {"status": "bogus"}).status_code == 400
    assert c.post("/api/kb-articles/", {"title": "x"}).status_code in (403, 405)
