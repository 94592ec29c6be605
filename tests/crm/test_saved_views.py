"""Saved views (crm.saved_views): saved from the filter bar of any kit list, the user's own plus
those their team shares, renamed and deleted by their user only; offered on the list from the
cache (no extra query on a warm page)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from crm.errors import DomainError
from crm.models import SavedView
from crm.saved_views import clean_query, saved_view_create, saved_views_for

pytestmark = pytest.mark.django_db

LISTS = [("contacts", "contacts:contact-list"), ("companies", "contacts:company-list")]


def _save(client: Client, list_name: str, url: str, **data: str) -> str:
    response = client.post(
        reverse("saved-view-create", args=[list_name]),
        {"next": f"{url}?{data.get('query', '')}", **data},
    )
    assert response.status_code == 303
    return response["Location"]


@pytest.mark.parametrize(("list_name", "url_name"), LISTS)
def test_save_open_rename_and_delete_a_view_from_the_list(list_name, url_name, client, rep):
    url = reverse(url_name)
    client.force_login(rep)
    location = _save(
        client, list_name, url, name="My customers", query="stage=customer&cursor=abc&sort=-name"
    )
    assert location == f"{url}?stage=customer&cursor=abc&sort=-name"
    view = SavedView.objects.get(user=rep, list_name=list_name)
    assert view.query == "stage=customer&sort=-name"  # no cursor: a view is filters and sort

    html = client.get(url).content.decode()
    assert f'href="{url}?stage=customer&amp;sort=-name"' in html
    assert "My customers" in html

    client.post(reverse("saved-view-rename", args=[view.pk]), {"name": "Customers", "shared": "on"})
    view.refresh_from_db()
    assert (view.name, view.shared) == ("Customers", True)
    client.post(reverse("saved-view-delete", args=[view.pk]), {"next": url})
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert "Customers</a>" not in client.get(url).content.decode()


def test_teammates_see_shared_views_only_and_cannot_change_them(
    client, rep, rep_teammate, rep_other_team
):
    shared = saved_view_create(
        user=rep, list_name="contacts", name="Team", query="q=a", shared=True
    )
    saved_view_create(user=rep, list_name="contacts", name="Private", query="q=b")
    assert [v.name for v in saved_views_for(rep, "contacts")] == ["Private", "Team"]
    assert [(v.name, v.mine) for v in saved_views_for(rep_teammate, "contacts")] == [
        ("Team", False)
    ]
    assert saved_views_for(rep_other_team, "contacts") == []
    assert saved_views_for(rep, "companies") == []

    client.force_login(rep_teammate)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert "Team" in html
    assert "Private" not in html
    assert client.post(reverse("saved-view-delete", args=[shared.pk])).status_code == 404
    response = client.post(reverse("saved-view-rename", args=[shared.pk]), {"name": "Mine"})
    assert response.status_code == 404
    shared.refresh_from_db()
    assert shared.name == "Team"


def test_names_are_unique_per_user_and_list_whatever_their_case(rep, rep_teammate):
    saved_view_create(user=rep, list_name="contacts", name="VIP", query="")
    with pytest.raises(DomainError):
        saved_view_create(user=rep, list_name="contacts", name=" vip ", query="")
    saved_view_create(user=rep, list_name="companies", name="VIP", query="")
    saved_view_create(user=rep_teammate, list_name="contacts", name="VIP", query="")
    with pytest.raises(DomainError):
        saved_view_create(user=rep, list_name="contacts", name="   ", query="")
    with pytest.raises(DomainError):
        saved_view_create(user=rep, list_name="no-such-list", name="X", query="")


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "query": "q=a"},
        {"name": "X" * 500, "query": "q=a"},
        {"name": "Dup", "query": "q=a"},
    ],
    ids=["empty", "huge", "duplicate"],
)
def test_bad_input_comes_back_to_the_list_with_a_message(data, client, rep):
    saved_view_create(user=rep, list_name="contacts", name="Dup", query="")
    client.force_login(rep)
    url = reverse("contacts:contact-list")
    response = client.post(
        reverse("saved-view-create", args=["contacts"]), {**data, "next": url}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1] == (url, 303)
    assert SavedView.objects.filter(user=rep).count() == 1
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    nul = {"name": "Bad\x00name", "query": "q=a", "next": url}
    assert client.post(reverse("saved-view-create", args=["contacts"]), nul).status_code == 400
    assert SavedView.objects.filter(user=rep).count() == 1


def test_next_may_only_be_a_local_path(client, rep):
    client.force_login(rep)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(
            reverse("saved-view-create", args=["contacts"]), {"name": target, "next": target}
        )
        assert response["Location"] == "/"


def test_a_hostile_saved_query_is_just_an_invalid_filter(client, rep):
    view = saved_view_create(
        user=rep, list_name="contacts", name="Odd", query="stage=nonsense&tag=abc&owner=%00"
    )
    client.force_login(rep)
    response = client.get(f"{reverse('contacts:contact-list')}?{view.query}")
    assert response.status_code == 400
    assert "were not understood" in response.content.decode()


def test_clean_query_drops_page_and_format_only():
    assert clean_query("?q=a&cursor=x&format=csv&page_size=5&count=1&sort=name&tag=1&tag=2") == (
        "q=a&sort=name&tag=1&tag=2"
    )
    assert clean_query("q=a&owner=%00&x%00=1") == "q=a"


@pytest.mark.django_db(transaction=True)
def test_a_warm_list_page_reads_saved_views_from_the_cache(rep: User):
    saved_view_create(user=rep, list_name="contacts", name="Mine", query="q=a")
    client = Client()
    client.force_login(rep)
    url = reverse("contacts:contact-list")
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert "Mine" in client.get(url).content.decode()
    assert not [q for q in ctx.captured_queries if "crm_savedview" in q["sql"]]
    saved_view_create(user=rep, list_name="contacts", name="Second", query="q=b")
    assert "Second" in client.get(url).content.decode()  # a change moves the cache's version
