"""The leads API goes through the same door and services as the pages."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leads.models import Lead, LeadSource
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(rep) -> APIClient:
    client = APIClient()
    client.force_authenticate(rep)
    return client


def test_list_is_scoped_and_filtered(api, rep, rep_other_team):
    mine = make_lead(rep, given_name="Mine", source=LeadSource.EVENT)
    make_lead(rep, given_name="Other source")
    theirs = make_lead(rep_other_team, given_name="Theirs")
    body = api.get("/api/leads/", {"source": "event"}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert api.get(f"/api/leads/{theirs.pk}/").status_code == 404
    assert api.get("/api/leads/", {"status": "bogus"}).status_code == 400


def test_retried_post_with_the_same_idempotency_key_creates_one_lead(api, rep):
    payload = {"given_name": "Ada", "email": "Ada@Example.com"}
    first = api.post("/api/leads/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    again = api.post("/api/leads/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.owner) == ("ada@example.com", LeadSource.API, rep)
    other = api.post("/api/leads/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201
    assert other.json()["needs_review"] is True  # same email: a flagged duplicate, kept


def test_another_user_reusing_a_key_gets_their_own_lead(api, rep_teammate):
    api.post("/api/leads/", {"given_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    other = APIClient()
    other.force_authenticate(rep_teammate)
    response = other.post(
        "/api/leads/", {"given_name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert response.status_code == 201
    assert Lead.objects.count() == 2


def test_bad_input_is_400_with_the_message(api):
    response = api.post("/api/leads/", {"given_name": ""}, format="json")
    assert response.status_code == 400
    assert "given_name" in response.json()
    response = api.post(
        "/api/leads/", {"given_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="x" * 65
    )
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_read_only_cannot_post(read_only):
    client = APIClient()
    client.force_authenticate(read_only)
    assert client.post("/api/leads/", {"given_name": "A"}, format="json").status_code == 403


def test_patch_goes_through_the_service(api, rep):
    lead = make_lead(rep)
    response = api.patch(f"/api/leads/{lead.pk}/", {"phone": "+86 138 0000 1111"}, format="json")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert lead.phone_digits == "8613800001111"
