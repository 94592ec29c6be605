"""Personal API tokens: created on the user's page and shown once, stored as a hash, scoped,
revocable, and throttled per user and per token, all through the real API."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from accounts.tokens import hash_token, token_create

pytestmark = pytest.mark.django_db


def bearer(token: str, keyword: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{keyword} {token}"}


def test_token_is_created_on_the_users_page_and_shown_once(rep_client: Client, rep) -> None:
    url = reverse("accounts:api-tokens")
    response = rep_client.post(url, {"name": "Nightly sync", "scope": "read"})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("crm_")
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=rep)
    assert token.key_hash == hash_token(secret)
    # Only the hash is stored: the secret is in no column of the row.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    assert all(secret not in str(value) for value in row)
    page = rep_client.get(url).content.decode()
    assert "Nightly sync" in page
    assert secret not in page
    # And it works.
    assert Client().get("/api/contacts/", headers=bearer(secret)).status_code == 200


def test_token_form_needs_a_name(rep_client: Client) -> None:
    response = rep_client.post(reverse("accounts:api-tokens"), {"name": " ", "scope": "write"})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_token_and_bearer_keywords_authenticate_as_the_user(rep, own_contact, other_contact):
    _token, secret = token_create(user=rep, name="t", scope="read")
    for keyword in ("Bearer", "Token"):
        response = Client().get("/api/contacts/", headers=bearer(secret, keyword))
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert own_contact.pk in ids
        assert other_contact.pk not in ids  # the permission door still applies


def test_read_token_cannot_write_and_write_token_can(rep, own_contact) -> None:
    _read, read_secret = token_create(user=rep, name="r", scope="read")
    _write, write_secret = token_create(user=rep, name="w", scope="write")
    url = f"/api/contacts/{own_contact.pk}/"
    body = json.dumps({"job_title": "Buyer"})
    response = Client().patch(
        url, body, content_type="application/json", headers=bearer(read_secret)
    )
    assert response.status_code == 403
    assert "may only read" in response.json()["detail"]
    own_contact.refresh_from_db()
    assert own_contact.job_title != "Buyer"
    response = Client().patch(
        url, body, content_type="application/json", headers=bearer(write_secret)
    )
    assert response.status_code == 200, response.content
    own_contact.refresh_from_db()
    assert own_contact.job_title == "Buyer"


def test_revoked_wrong_and_inactive_tokens_are_refused(rep_client: Client, rep) -> None:
    token, secret = token_create(user=rep, name="t", scope="read")
    assert Client().get("/api/contacts/", headers=bearer(secret)).status_code == 200
    response = rep_client.post(reverse("accounts:api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    response = Client().get("/api/contacts/", headers=bearer(secret))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/api/contacts/", headers=bearer(secret + "x")).status_code == 401
    _other, active = token_create(user=rep, name="u", scope="read")
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert Client().get("/api/contacts/", headers=bearer(active)).status_code == 401


def test_user_cannot_revoke_another_users_token(rep_client: Client, rep_other_team) -> None:
    token, _secret = token_create(user=rep_other_team, name="theirs", scope="read")
    response = rep_client.post(reverse("accounts:api-token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_basic_auth_with_the_password_is_not_accepted(rep) -> None:
    import base64

    credentials = base64.b64encode(b"rep@example.com:secret-pass-123").decode()
    response = Client().get("/api/contacts/", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 401


@pytest.fixture
def tight_rates(settings, rep):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "5/min", "token": "3/min"},
    }
    # Throttle history lives in the shared cache; ids repeat from one test database to the next.
    cache.delete_many([f"throttle_user_{rep.pk}", "throttle_anon_127.0.0.1"])
    yield
    cache.delete_many([f"throttle_user_{rep.pk}"])


def test_throttled_per_token_then_per_user(tight_rates, rep) -> None:
    first, first_secret = token_create(user=rep, name="a", scope="read")
    second, second_secret = token_create(user=rep, name="b", scope="read")
    cache.delete_many([f"throttle_token_{first.pk}", f"throttle_token_{second.pk}"])
    codes = [
        Client().get("/api/contacts/", headers=bearer(first_secret)).status_code for _i in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # the token's 3 a minute
    # The user's throttle counted all four calls (DRF records each throttle that allowed one).
    codes = [
        Client().get("/api/contacts/", headers=bearer(second_secret)).status_code for _i in range(2)
    ]
    assert codes == [200, 429]  # the user's 5 a minute, across both tokens
    response = Client().get("/api/contacts/", headers=bearer(second_secret))
    assert response.status_code == 429
    assert "Retry-After" in response.headers
