"""Articles carry the CRM's shared tags (crm.tags): set in the editor by name, shown on the
staff list and page, filtered on the list (bad ids refused), left alone by a restore; the
list's filter bar is the shared component."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from kb import services
from kb.models import Article
from tests.conftest import login
from tests.contacts.factories import TagFactory
from tests.kb.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags(db: None) -> dict[str, object]:
    return {"vip": TagFactory(name="VIP", color="red"), "howto": TagFactory(name="How-to")}


def _form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Export deals",
        "body": "Open **Deals** and pick *Export*.",
        "tags": "export, deals",
        "tag_names": "VIP\uff0cHow-to",  # a full-width comma too
        "visibility": "public",
        "language": "en",
    }
    data.update(values)
    return data


def test_editor_sets_tags_by_name_and_keywords_stay_apart(
    client: Client, writer: User, tags: dict
) -> None:
    c = login(client, writer)
    assert c.post(reverse("kb:article-create"), _form()).status_code == 302
    article = Article.objects.get(title="Export deals")
    assert article.tag_ids == sorted([tags["vip"].pk, tags["howto"].pk])
    assert article.tags == ["deals", "export"]  # keywords, for search
    page = c.get(reverse("kb:article-detail", args=[article.pk])).content.decode()
    assert '<span class="badge text-bg-red me-1">VIP</span>' in page
    edit = c.get(reverse("kb:article-edit", args=[article.pk])).content.decode()
    assert 'value="How-to, VIP"' in edit
    response = c.post(
        reverse("kb:article-edit", args=[article.pk]), _form(slug=article.slug, tag_names="")
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.tag_ids == []


def test_a_role_that_may_not_add_tags_gets_a_message_for_a_new_name(
    client: Client, writer: User, tags: dict
) -> None:
    response = login(client, writer).post(
        reverse("kb:article-create"), _form(tag_names="VIP, Brand new")
    )
    assert response.status_code == 422
    assert "You may not create new tags: Brand new" in response.content.decode()
    assert not Article.objects.filter(title="Export deals").exists()


def test_restoring_a_version_keeps_the_tags(writer: User, tags: dict) -> None:
    article = make_article(writer, title="Tagged", tag_names=("VIP",))
    services.article_update(
        article=article,
        data=services.ArticleInput(title="Tagged again", slug=article.slug, tag_names=("How-to",)),
        actor=writer,
    )
    first = article.versions.get(number=1)
    restored = services.article_restore(article=article, version=first, actor=writer)
    restored.refresh_from_db()
    assert restored.title == "Tagged"
    assert restored.tag_ids == [tags["howto"].pk]


def test_staff_list_filters_by_tag_with_badges_and_refuses_unknown_ids(
    client: Client, writer: User, rep: User, tags: dict, django_assert_max_num_queries
) -> None:
    make_article(writer, title="VIP onboarding", tag_names=("VIP",))
    make_article(writer, title="How to import", tag_names=("How-to",))
    make_article(writer, title="Untagged notes")
    c = login(client, rep)
    url = reverse("kb:article-list")
    c.get(url, {"tag": tags["vip"].pk})
    with django_assert_max_num_queries(12):
        response = c.get(url, {"tag": tags["vip"].pk})
    html = response.content.decode()
    assert "VIP onboarding" in html
    assert "How to import" not in html
    assert "Untagged notes" not in html
    assert '<span class="badge text-bg-red me-1">VIP</span>' in html
    both = c.get(url + f"?tag={tags['vip'].pk}&tag={tags['howto'].pk}").content.decode()
    assert "VIP onboarding" in both
    assert "How to import" in both
    assert "Untagged notes" not in both
    for bad in ("987654321", "x", "\u202e1"):
        response = c.get(url, {"tag": bad})
        assert response.status_code == 400
        assert "Some filters were not understood" in response.content.decode()


def test_list_uses_the_shared_filter_bar(client: Client, rep: User, tags: dict) -> None:
    html = login(client, rep).get(reverse("kb:article-list"), {"tag": tags["vip"].pk})
    page = html.content.decode()
    assert 'id="kb-article-filters"' in page
    assert "More filters" in page
    assert '<details class="mt-2" open>' in page  # a filter behind it is set
    assert 'name="tag" id="id_tag"' in page


def test_api_reads_and_filters_tags(client: Client, writer: User, rep: User, tags: dict) -> None:
    vip = make_article(writer, title="VIP onboarding", tag_names=("VIP",))
    make_article(writer, title="Untagged notes")
    c = login(client, rep)
    rows = c.get("/api/kb-articles/", {"tag": tags["vip"].pk}).json()["results"]
    assert [(r["id"], r["tag_ids"]) for r in rows] == [(vip.pk, [tags["vip"].pk])]
    response = c.get("/api/kb-articles/", {"tag": "987654321"})
    assert response.status_code == 400
    assert "tag" in response.json()
