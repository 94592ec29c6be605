"""The REST API goes through the same door as the pages."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from contacts.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(rep) -> APIClient:
    client = APIClient()
    client.force_authenticate(rep)
    return client


def test_list_is_scoped_and_paged(api, own_contact, team_contact, other_contact):
    body = api.get("/api/contacts/").json()
    names = {c["display_name"] for c in body["results"]}
    assert names == {"Olivia Owner", "Tom Teammate"}
    assert "next" in body


def test_other_team_contact_is_404(api, other_contact):
    assert api.get(f"/api/contacts/{other_contact.pk}/").status_code == 404
    response = api.patch(f"/api/contacts/{other_contact.pk}/", {"job_title": "x"}, format="json")
    assert response.status_code == 404


def test_search_and_filters_work_through_the_api(api, own_contact, team_contact):
    body = api.get("/api/contacts/", {"q": "olivia"}).json()
    assert [c["display_name"] for c in body["results"]] == ["Olivia Owner"]


def test_create_and_update_go_through_the_services(api, rep):
    response = api.post(
        "/api/contacts/",
        {"given_name": "Api", "family_name": "Made", "emails": [{"email": "API@Example.com"}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.primary_email == "api@example.com"
    assert contact.owner == rep
    response = api.patch(f"/api/contacts/{contact.pk}/", {"job_title": "CTO"}, format="json")
    assert response.status_code == 200
    assert Contact.objects.get(pk=contact.pk).job_title == "CTO"


def test_bad_input_is_400_with_messages(api):
    response = api.post("/api/contacts/", {"website": "nope"}, format="json")
    assert response.status_code == 400
    assert "website" in response.json()
    response = api.post("/api/contacts/", {}, format="json")
    assert response.status_code == 400
    assert "name or an email" in str(response.json())


def test_read_only_user_cannot_write(read_only, own_contact):
    client = APIClient()
    client.force_authenticate(read_only)
    assert client.get(f"/api/contacts/{own_contact.pk}/").status_code == 200
    response = client.patch(f"/api/contacts/{own_contact.pk}/", {"job_title": "x"}, format="json")
    assert response.status_code == 403
    assert client.post("/api/contacts/", {"given_name": "X"}, format="json").status_code == 403


def test_anonymous_is_refused(own_contact):
    # 401 with a Bearer challenge: the API authenticates by personal token (or session).
    response = APIClient().get("/api/contacts/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- issue 25: invalid filters and cursors ----------------------------------------------------


@pytest.mark.parametrize("url", ["/api/contacts/", "/api/companies/"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "George Green", "owner": "abc"}, "owner"),
        ({"owner": "99999999", "stage": "customer"}, "owner"),
        ({"stage": "nonsense"}, "stage"),
        ({"tag": "999999"}, "tag"),
        ({"created_from": "yesterday"}, "created_from"),
    ],
)
def test_invalid_filter_is_400_with_the_field_error_and_no_rows(
    api, own_contact, own_company, url, params, field
):
    response = api.get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert body.get(field)
    assert "results" not in body


def test_valid_filters_apply_through_the_api(api, rep, own_contact, team_contact):
    body = api.get("/api/contacts/", {"owner": "me"}).json()
    assert [c["display_name"] for c in body["results"]] == ["Olivia Owner"]
    body = api.get("/api/contacts/", {"owner": str(rep.pk), "q": "tom"}).json()
    assert body["results"] == []


@pytest.mark.parametrize("url", ["/api/contacts/", "/api/companies/"])
@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0lMDA=", "bm90LWEtY3Vyc29y", "%%%"])
def test_invalid_api_cursor_is_400_with_a_message(api, own_contact, own_company, url, cursor):
    response = api.get(url, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()
    assert "not valid" in str(response.json())


def test_api_cursor_pages_still_walk(api, rep):
    from tests.contacts.factories import ContactFactory

    for i in range(5):
        ContactFactory(owner=rep, given_name=f"P{i}", family_name="Paged")
    seen, url = [], "/api/contacts/?page_size=2"
    while url:
        body = api.get(url).json()
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 5
