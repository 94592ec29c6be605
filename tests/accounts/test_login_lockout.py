"""Repeated wrong passwords lock sign-in per account and per address (django-axes), with a
message, an administrator's unlock, and an email notice sent through the outbox by a real
Celery worker to a real SMTP server."""

from __future__ import annotations

import base64
import time

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.accounts.test_accounts_views import smtp  # noqa: F401  (the real SMTP fixture)
from tests.conftest import login_verified

LOGIN = "/accounts/login/"
PASSWORD = "secret-pass-123"


def attempt(client: Client, email: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return client.get("/contacts/").status_code == 200


@pytest.mark.django_db
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client: Client, rep) -> None:
    statuses = [attempt(client, rep.email, f"wrong-{i}").status_code for i in range(30)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[5:]) == {429}
    response = attempt(client, rep.email, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-in attempts" in body
    assert 'id="lockout-message"' in body
    assert not signed_in(client)


@pytest.mark.django_db
def test_lockout_counts_the_account_whatever_the_case_or_address(client: Client, rep) -> None:
    for i in range(5):
        attempt(client, "REP@example.com " if i % 2 else rep.email, "wrong", f"10.0.1.{i}")
    assert attempt(client, rep.email, PASSWORD, "10.9.9.9").status_code == 429
    assert not signed_in(client)


@pytest.mark.django_db
def test_lockout_counts_the_address_whatever_the_account(client: Client, rep) -> None:
    for i in range(5):
        attempt(client, f"guess{i}@example.com", "wrong", "10.0.2.1")
    assert attempt(client, rep.email, PASSWORD, "10.0.2.1").status_code == 429
    # Another address may still sign the account in.
    assert attempt(client, rep.email, PASSWORD, "10.0.2.2").status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(client: Client, rep) -> None:
    for _i in range(4):
        attempt(client, rep.email, "wrong")
    assert attempt(client, rep.email, PASSWORD).status_code == 302
    client.logout()
    for _i in range(4):
        attempt(client, rep.email, "wrong")
    assert attempt(client, rep.email, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_administrator_unlocks_from_the_admin(client: Client, rep, admin_user) -> None:
    for _i in range(6):
        attempt(client, rep.email, "wrong")
    assert attempt(client, rep.email, PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username=rep.email).exists()

    admin = login_verified(Client(), admin_user)
    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [rep.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Sign-in unlocked" in response.content.decode()
    assert not AccessAttempt.objects.filter(username=rep.email).exists()
    # The address is still locked (it made the attempts); the account is free from another one.
    assert attempt(client, rep.email, PASSWORD, "10.0.3.3").status_code == 302


@pytest.mark.django_db
def test_axes_attempts_are_listed_in_the_admin(client: Client, rep, admin_user) -> None:
    for _i in range(5):
        attempt(client, rep.email, "wrong")
    admin = login_verified(Client(), admin_user)
    page = admin.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert rep.email in page


@pytest.mark.django_db
def test_the_api_does_not_take_passwords_at_all(rep) -> None:
    """Basic auth is gone from the API (tokens replace it), so it cannot be used to guess."""
    api = Client()

    def basic(password: str) -> int:
        value = base64.b64encode(f"{rep.email}:{password}".encode()).decode()
        return api.get("/api/contacts/", headers={"Authorization": f"Basic {value}"}).status_code

    assert {basic(f"wrong-{i}") for i in range(30)} == {401}
    assert basic(PASSWORD) == 401


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_owner_gets_one_email_notice_through_the_worker(
    client: Client,
    rep,
    smtp,  # noqa: F811
    live_worker,
) -> None:
    from crm.models import OutboxMessage

    for _i in range(8):  # the limit is 5; later attempts while locked send nothing more
        attempt(client, rep.email, "wrong", "10.0.4.4")
    deadline = time.monotonic() + 30
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == rep.email
    assert "locked" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "10.0.4.4" in body
    time.sleep(1)
    assert len(smtp.messages) == 1
    assert OutboxMessage.objects.filter(task_name__endswith="send_lockout_notice").count() == 1


@pytest.mark.django_db
def test_unknown_address_lockout_sends_nothing(client: Client, smtp) -> None:  # noqa: F811
    from crm.models import OutboxMessage

    for _i in range(6):
        attempt(client, "nobody@example.com", "wrong", "10.0.5.5")
    assert not OutboxMessage.objects.exists()
    assert smtp.messages == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "forwarded", "counted"),
    [
        (0, "1.1.1.1", "10.0.0.9"),  # no proxy: the header is the client's word, ignored
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the entry our proxy wrote, not the forged one
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (2, "1.1.1.1", "10.0.0.9"),  # too few entries: not through our proxies
    ],
)
def test_failures_count_the_client_address_behind_proxies(
    client: Client, rep, settings, proxies: int, forwarded: str, counted: str
) -> None:
    settings.CRM_PROXY_COUNT = proxies
    client.post(
        LOGIN,
        {"username": rep.email, "password": "wrong"},
        REMOTE_ADDR="10.0.0.9",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert AccessAttempt.objects.get().ip_address == counted
