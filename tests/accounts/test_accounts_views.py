"""Signing in, profile and preferences, password change, and password reset by real SMTP."""

from __future__ import annotations

import re
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Django's SMTP backend sends to it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    yield inbox
    controller.stop()


def test_login_by_email_is_case_insensitive(client: Client, rep) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": "REP@Example.com", "password": "secret-pass-123"}
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": "rep@example.com", "password": "wrong"}
    )
    assert response.status_code == 200


def test_bad_login_shows_a_message(client: Client, rep) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": "nobody@example.com", "password": "nope"}
    )
    assert "correct email address and password" in response.content.decode()


def test_profile_saves_language_and_time_zone(client: Client, rep) -> None:
    client.force_login(rep)
    response = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Ray",
            "last_name": "P",
            "phone": "",
            "language": "zh-hans",
            "time_zone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.language, rep.time_zone) == ("zh-hans", "Asia/Shanghai")
    assert "个人资料" in client.get(reverse("accounts:profile")).content.decode()
    response = client.post(reverse("accounts:profile"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422


def test_password_change(client: Client, rep) -> None:
    client.force_login(rep)
    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "secret-pass-123",
            "new_password1": "An0ther-Secret!",
            "new_password2": "An0ther-Secret!",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("An0ther-Secret!")


def test_password_reset_mail_arrives_and_the_link_works(client: Client, rep, smtp) -> None:
    response = client.post(reverse("accounts:password-reset"), {"email": rep.email})
    assert response.status_code == 302
    deadline = time.monotonic() + 5
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == rep.email
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", body).group(1)
    page = client.get(link, follow=True)
    assert "Choose a new password" in page.content.decode()
    response = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link,
        {"new_password1": "Brand-New-Pass-9", "new_password2": "Brand-New-Pass-9"},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("Brand-New-Pass-9")


def test_unknown_address_gets_the_same_answer_and_no_mail(client: Client, smtp) -> None:
    response = client.post(reverse("accounts:password-reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    time.sleep(0.2)
    assert smtp.messages == []


def test_logout_needs_post(client: Client, rep) -> None:
    client.force_login(rep)
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("contacts:contact-list")).status_code == 302
