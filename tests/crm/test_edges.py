"""Edges shared by every module (crm/middleware.py, templates/4xx.html): NUL bytes sent to machine
endpoints get JSON, public visitors' error pages lead to the help centre, and provider inbound
mail webhooks take messages bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (only they do)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from django.test import Client
from django.urls import reverse

from crm.models import InboundMessage
from tests.conftest import login
from tests.crm.test_mailin import make_mail

NUL_MESSAGE = "contains a NUL character"


@pytest.mark.parametrize(
    "path",
    ["/api/contacts/", "/support/webhooks/chat/", "/inbound/raw/", "/inbound/mailgun/inbound/"],
)
def test_nul_to_a_machine_endpoint_is_a_json_400(db, client: Client, path: str) -> None:
    response = client.post(path, '{"text": "a\\u0000b"}', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert NUL_MESSAGE in response.json()["detail"]
    form = client.post(path, {"text": "a\x00b"})
    assert form.status_code == 400
    assert NUL_MESSAGE in form.json()["detail"]


def test_nul_from_a_json_client_is_json_and_from_a_page_is_html(db, client: Client) -> None:
    url = reverse("support_public:request")
    fetched = client.post(url, {"name": "\x00"}, headers={"Accept": "application/json"})
    assert NUL_MESSAGE in fetched.json()["detail"]
    page = client.post(url, {"name": "\x00"})
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert NUL_MESSAGE in page.content.decode()


def test_public_visitors_error_pages_lead_to_the_help_centre(db, client: Client, rep) -> None:
    help_centre = reverse("kb:help-home")
    missing = client.get("/kb/a/no-such-article/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert f'href="{help_centre}"' in html
    assert "Go to the help centre" in html
    assert "Back to the CRM" not in html
    bad = client.post(reverse("support_public:request"), {"name": "\x00"}).content.decode()
    assert "Back to the CRM" not in bad
    assert f'href="{help_centre}"' in bad
    assert client.get("/forms/no-such-form/").status_code == 404
    login(client, rep)
    signed_in = client.get("/kb/a/no-such-article/").content.decode()
    assert "Back to the CRM" in signed_in


# --- provider webhooks bigger than DATA_UPLOAD_MAX_MEMORY_SIZE ----------------------------------


def _mailgun(client: Client, raw: bytes, path: str = "/inbound/mailgun/inbound_mime/"):
    timestamp, token = str(int(time.time())), "tok-big"
    signature = hmac.new(b"mg-key", f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "body-mime": raw.decode("ascii"),
        "recipient": "crm@example.com",
        "sender": "stranger@example.org",
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }
    auth = "Basic " + base64.b64encode(b"hook:pass").decode()
    return client.post(path, data, headers={"Authorization": auth})


def test_an_inbound_webhook_takes_a_message_over_the_upload_limit(db, client, settings) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:pass", "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    settings.CRM_INBOUND_MAX_BYTES = 16 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 10 * 1024 * 1024  # not raised for this
    attachment = base64.encodebytes(b"\x89PNG" + b"\x00" * (9 * 1024 * 1024)).decode()
    raw = make_mail(message_id="<big-1@example.org>", body="Here it is\r\n" + attachment)
    assert len(raw) > 11 * 1024 * 1024
    response = _mailgun(client, raw)
    assert response.status_code == 200, response.content[:300]
    row = InboundMessage.objects.get()
    assert row.message_id == "<big-1@example.org>"
    assert row.size > 11 * 1024 * 1024

    # Above CRM_INBOUND_MAX_BYTES: a clear 413, nothing stored.
    settings.CRM_INBOUND_MAX_BYTES = 11 * 1024 * 1024
    refused = _mailgun(client, make_mail(message_id="<big-2@example.org>", body=attachment * 2))
    assert refused.status_code == 413
    assert "too large" in refused.json()["error"]
    assert InboundMessage.objects.count() == 1


def test_only_inbound_urls_take_big_bodies(db, client: Client, rep) -> None:
    login(client, rep)
    big = "x" * (11 * 1024 * 1024)
    # Django's own limit still holds elsewhere (a 400, not a parsed 11 MB field).
    response = client.post(reverse("contacts:contact-create"), {"given_name": big})
    assert response.status_code == 400
