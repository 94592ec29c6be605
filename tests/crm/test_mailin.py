"""Receiving email (crm/mailin.py): stored first, once per mailbox and Message-ID, whatever the
message looks like; then parsed and dispatched, or kept as unmatched/failed with the reason.
Doors: the raw-MIME endpoint (shared secret), anymail's Mailgun inbound webhook (basic auth and
signature) and IMAP against a real IMAP server (pymap) started by the test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from crm import mailin
from crm.models import InboundMessage, InboundStatus, OutboxMessage
from tests.crm import imap_server as imap

SECRET = "s3cret-inbound"


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"


def make_mail(
    *,
    sender: str = "stranger@example.org",
    subject: str = "Hello",
    body: str = "Hi there",
    message_id: str | None = None,
    attachment: bytes | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Stranger <{sender}>"
    message["To"] = "crm@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    message["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="octet-stream", filename="big.bin"
        )
    return message.as_bytes()


# --- store: once, whatever it is ------------------------------------------------------------


def test_same_message_delivered_twice_is_stored_and_queued_once(db):
    raw = make_mail(message_id="<dup-1@example.org>")
    first, created = mailin.store(raw, source="raw")
    again, created_again = mailin.store(raw, source="imap")
    assert created
    assert not created_again
    assert again.pk == first.pk
    assert InboundMessage.objects.count() == 1
    assert OutboxMessage.objects.filter(task_name=mailin.PROCESS_TASK).count() == 1
    assert mailin.process(inbound_id=first.pk) == InboundStatus.UNMATCHED
    assert mailin.process(inbound_id=first.pk) is None  # a second delivery of the task


def test_same_message_at_two_mailboxes_is_two_rows(db):
    raw = make_mail(message_id="<two-boxes@example.org>")
    mailin.store(raw, source="raw", mailbox="sales@example.com")
    mailin.store(raw, source="raw", mailbox="Support@Example.com")
    assert sorted(InboundMessage.objects.values_list("mailbox", flat=True)) == [
        "sales@example.com",
        "support@example.com",
    ]


def test_unknown_sender_is_unmatched_with_the_reason(db):
    row, _ = mailin.store(make_mail(sender="nobody@unknown.test"), source="raw")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundStatus.UNMATCHED
    assert "nobody@unknown.test" in row.reason
    assert row.processed_at is not None
    assert row.claimed_by == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\xff\xfe garbage that is not an email at all \x00",
        b'From: <<<>>>\r\nSubject: =?bogus?Q?x?=\r\nContent-Type: multipart/mixed; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
        b"",
    ],
    ids=["binary", "broken-multipart", "empty"],
)
def test_malformed_message_is_kept_with_a_reason(db, raw):
    row, created = mailin.store(raw, source="raw")
    assert created
    assert row.message_id.endswith("@no-message-id>")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    assert row.status in (InboundStatus.UNMATCHED, InboundStatus.FAILED)
    assert row.reason
    assert mailin.raw_bytes(row) == raw  # nothing lost


def test_30_mb_message_is_kept_in_a_private_file_and_queued_with_the_reason(db, settings):
    # A 30 MB file attached (issue 26): ~41 MB of message in base64, under the 64 MB store
    # limit and over the 25 MB processed, so it is kept whole and queued with the reason.
    payload = bytes(range(256)) * (30 * 1024 * 1024 // 256)
    raw = make_mail(sender="big@example.org", attachment=payload)
    assert 40 * 1024 * 1024 < len(raw) < mailin.store_limit()
    row, created = mailin.store(raw, source="raw")
    assert created
    assert row.raw is None
    stored = Path(settings.PRIVATE_ROOT) / row.raw_file.name
    assert stored.is_file()
    assert stored.stat().st_mode & 0o077 == 0  # owner-only
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundStatus.UNMATCHED
    assert "MB that are processed: it is kept as received." in row.reason
    assert row.size == len(raw)
    assert mailin.raw_bytes(row) == raw  # nothing lost


def test_gb2312_subject_is_read(db):
    subject = "=?gb2312?b?" + base64.b64encode("报价单确认".encode("gb2312")).decode() + "?="
    raw = (
        b"From: =?gb2312?b?" + base64.b64encode("张伟".encode("gb2312")) + b"?= <zw@example.cn>\r\n"
        b"To: crm@example.com\r\nSubject: " + subject.encode() + b"\r\n"
        b"Message-ID: <gb-1@example.cn>\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n"
        + "您好,请确认。".encode("gb2312")
        + b"\r\n"
    )
    row, _ = mailin.store(raw, source="raw")
    assert row.subject == "报价单确认"
    assert row.from_address == "zw@example.cn"


def test_nul_bytes_in_headers_do_not_reach_the_database(db):
    raw = b"From: a\x00b@example.org\r\nSubject: x\x00y\r\nMessage-ID: <n\x00ul@x>\r\n\r\nbody"
    row, _ = mailin.store(raw, source="raw")
    assert "\x00" not in row.subject + row.message_id + row.from_address


# --- the raw endpoint -----------------------------------------------------------------------


def _post_raw(client: Client, raw: bytes, secret: str | None = SECRET, **query: str):
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    url = reverse("inbound-raw")
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(url, raw, content_type="message/rfc822", headers=headers)


def test_raw_endpoint_refuses_without_the_secret(db, client, settings):
    settings.CRM_INBOUND_SECRET = ""
    assert _post_raw(client, make_mail()).status_code == 403  # not configured: refused
    settings.CRM_INBOUND_SECRET = SECRET
    assert _post_raw(client, make_mail(), secret=None).status_code == 403
    assert _post_raw(client, make_mail(), secret="wrong").status_code == 403
    assert not InboundMessage.objects.exists()


def test_raw_endpoint_stores_once_and_refuses_empty_and_huge(db, client, settings):
    settings.CRM_INBOUND_SECRET = SECRET
    raw = make_mail(message_id="<raw-1@example.org>")
    response = _post_raw(client, raw, mailbox="sales@example.com")
    assert response.status_code == 202
    assert response.json()["created"] is True
    again = _post_raw(client, raw, mailbox="sales@example.com")
    assert again.status_code == 202
    assert again.json() == {**response.json(), "created": False}
    assert InboundMessage.objects.get().mailbox == "sales@example.com"
    assert _post_raw(client, b"  \r\n").status_code == 400
    settings.CRM_INBOUND_MAX_BYTES = 1000
    big = _post_raw(client, make_mail(body="x" * 5000))
    assert big.status_code == 413
    assert "too large" in big.json()["error"]
    assert client.get(reverse("inbound-raw")).status_code == 405


# --- anymail's inbound webhook (Mailgun) ------------------------------------------------------


def _mailgun_post(client: Client, raw: bytes, *, auth: str | None, key: str = "mg-key", sign=True):
    timestamp, token = str(int(time.time())), "tok-123"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "body-mime": raw.decode("ascii"),
        "recipient": "crm@example.com",
        "sender": "stranger@example.org",
        "timestamp": timestamp,
        "token": token,
        "signature": signature if sign else "0" * 64,
    }
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post("/inbound/mailgun/inbound_mime/", data, headers=headers)


def test_mailgun_webhook_checks_basic_auth_and_signature(db, client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:pass", "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    raw = make_mail(message_id="<mg-1@example.org>")
    assert _mailgun_post(client, raw, auth=None).status_code == 400
    assert _mailgun_post(client, raw, auth="hook:wrong").status_code == 400
    assert _mailgun_post(client, raw, auth="hook:pass", sign=False).status_code == 400
    assert not InboundMessage.objects.exists()
    assert _mailgun_post(client, raw, auth="hook:pass").status_code == 200
    row = InboundMessage.objects.get()
    assert (row.source, row.mailbox, row.message_id) == (
        "webhook:mailgun",
        "crm@example.com",
        "<mg-1@example.org>",
    )
    assert _mailgun_post(client, raw, auth="hook:pass").status_code == 200  # redelivery
    assert InboundMessage.objects.count() == 1


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_webhook_without_a_configured_secret_is_refused(db, client, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key"}
    # anymail only warns that basic auth is off (AnymailInsecureWebhookWarning); we refuse.
    response = _mailgun_post(client, make_mail(), auth=None)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


# --- IMAP against a real server ---------------------------------------------------------------


@pytest.fixture
def imap_server(settings) -> Iterator[tuple[str, int]]:
    with imap.running_pymap() as port:
        settings.CRM_INBOUND_IMAP_HOST = "127.0.0.1"
        settings.CRM_INBOUND_IMAP_PORT = port
        settings.CRM_INBOUND_IMAP_USER = imap.USER
        settings.CRM_INBOUND_IMAP_PASSWORD = imap.PASSWORD
        settings.CRM_INBOUND_IMAP_SSL = False
        yield "127.0.0.1", port


def _append(port: int, *messages: bytes) -> None:
    imap.append(port, "INBOX", *messages)


def test_imap_poll_stores_new_mail_once(db, imap_server, settings, capsys):
    _, port = imap_server
    one = make_mail(message_id="<imap-1@example.org>", subject="First")
    two = make_mail(message_id="<imap-2@example.org>", subject="Second")
    settings.CRM_INBOUND_MAX_BYTES = 50_000
    huge = make_mail(message_id="<imap-big@example.org>", subject="Huge", body="y" * 80_000)
    _append(port, one, two, huge)

    call_command("inbound_imap_poll")
    assert "3 message(s) seen, 3 stored" in capsys.readouterr().out
    rows = {r.message_id: r for r in InboundMessage.objects.all()}
    assert set(rows) == {"<imap-1@example.org>", "<imap-2@example.org>", "<imap-big@example.org>"}
    assert mailin.raw_bytes(rows["<imap-1@example.org>"]).replace(b"\r\n", b"\n") == one.replace(
        b"\r\n", b"\n"
    )
    big = rows["<imap-big@example.org>"]
    assert big.status == InboundStatus.FAILED
    assert "only its header was kept" in big.reason
    assert big.subject == "Huge"

    # Seen messages are not fetched again; the same message delivered again is stored once.
    _append(port, one)
    result = mailin.imap_poll_configured()
    assert result is not None
    assert (result.seen, result.stored, result.duplicates) == (1, 0, 1)
    assert InboundMessage.objects.count() == 3
    assert mailin.imap_poll_configured().seen == 0  # type: ignore[union-attr]


def test_imap_poll_without_a_server_says_so(db, settings):
    settings.CRM_INBOUND_IMAP_HOST = ""
    assert mailin.imap_poll() == 0
    settings.CRM_INBOUND_IMAP_HOST = "127.0.0.1"
    settings.CRM_INBOUND_IMAP_PORT = imap.free_port()
    settings.CRM_INBOUND_IMAP_SSL = False
    assert mailin.imap_poll() == 0  # refused connection: logged, the next beat tries again
    with pytest.raises(Exception, match="IMAP poll failed"):
        call_command("inbound_imap_poll")
