"""Input containing NUL is refused once, at the edge (crm.middleware.RejectNulMiddleware), before
any view runs: 400 with a message, the product's 400 page or JSON on the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tokens import token_create
from contacts.models import Contact, Tag

pytestmark = pytest.mark.django_db

MESSAGE = "contains a NUL character"


def assert_page_400(response) -> None:
    assert response.status_code == 400
    body = response.content.decode()
    assert MESSAGE in body
    assert 'id="bad-request-message"' in body  # the product's page, not Django's


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=a%00b",
        "/contacts/companies/lookup/?q=a%00b",
        "/contacts/?q=a%00b",
        "/contacts/?owner=1&q%00=x",  # in a parameter's name
        "/contacts/companies/?q=%00",
    ],
)
def test_nul_in_query_string_is_a_400_page(rep_client: Client, url: str) -> None:
    assert_page_400(rep_client.get(url))


def test_nul_in_query_string_is_a_400_for_anonymous_too(client: Client) -> None:
    assert_page_400(client.get("/accounts/login/?next=/a%00b"))


def test_tag_with_nul_through_the_edit_form_is_refused(rep_client: Client, own_contact) -> None:
    url = reverse("contacts:contact-edit", args=[own_contact.pk])
    response = rep_client.post(
        url,
        {"given_name": "Olivia", "family_name": "Owner", "tags": "a\x00b"},
    )
    assert_page_400(response)
    assert not Tag.objects.filter(name__contains="a").exists()


def test_nul_in_a_multipart_field_is_refused(rep_client: Client, own_contact) -> None:
    url = reverse("contacts:contact-edit", args=[own_contact.pk])
    response = rep_client.post(url, {"given_name": "Oli\x00via", "family_name": "Owner"})
    assert_page_400(response)
    own_contact.refresh_from_db()
    assert own_contact.given_name == "Olivia"


def test_nul_in_an_htmx_post_is_a_400(rep_client: Client, own_contact) -> None:
    url = reverse("contacts:contact-edit", args=[own_contact.pk])
    response = rep_client.post(
        url,
        "given_name=a%00b&family_name=x",
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert MESSAGE in body
    assert body.startswith('<p id="bad-request-message"')  # the message alone, to swap in
    assert "<html" not in body


@pytest.fixture
def write_token(rep) -> str:
    return token_create(user=rep, name="script", scope="write")[1]


def test_tag_with_nul_through_the_api_is_a_json_400(
    client: Client, own_contact: Contact, write_token: str
) -> None:
    response = client.patch(
        f"/api/contacts/{own_contact.pk}/",
        json.dumps({"tags": ["a\u0000b"]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {write_token}"},
    )
    assert response.status_code == 400
    assert MESSAGE in response.json()["detail"]
    assert not own_contact.tags.exists()


def test_nul_in_a_json_key_or_nested_value_is_refused(client: Client, write_token: str) -> None:
    for body in ({"emails": [{"email": "x@y.z", "label\u0000": 1}]}, {"a": {"b": ["\u0000"]}}):
        response = client.post(
            "/api/contacts/",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {write_token}"},
        )
        assert response.status_code == 400
        assert MESSAGE in response.json()["detail"]


def test_nul_in_an_api_query_string_is_a_json_400(client: Client, write_token: str) -> None:
    response = client.get(
        "/api/contacts/?q=a%00b", headers={"Authorization": f"Bearer {write_token}"}
    )
    assert response.status_code == 400
    assert MESSAGE in response.json()["detail"]


def test_ordinary_input_still_passes(rep_client: Client, own_contact, write_token: str) -> None:
    assert rep_client.get("/search/?q=olivia").status_code == 200
    response = rep_client.get("/api/contacts/", {"q": "Olivia"})
    assert response.status_code == 200
    response = Client().get("/api/contacts/", headers={"Authorization": f"Bearer {write_token}"})
    assert response.status_code == 200
    # A backslash-zero written out is text, not a NUL.
    assert rep_client.get("/search/", {"q": "a\\0b"}).status_code == 200
