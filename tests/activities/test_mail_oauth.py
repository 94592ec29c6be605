"""OAuth2 mailboxes (contacts/activities/mail/oauth.py) against real local peers: a token
endpoint (http.server in a thread) that hands out and refreshes tokens, and an SMTP server
(aiosmtpd) that accepts AUTH XOAUTH2 only with the token the endpoint issued last."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core.mail import EmailMessage
from django.utils import timezone

from contacts.activities.mail import mailboxes, oauth, services
from contacts.activities.mail.models import Mailbox, MailboxAuth, MailStatus, SmtpSecurity
from crm import crypto
from crm.errors import DomainError, TransientError
from tests.activities.mail_smtp import Inbox, free_port
from tests.contacts.factories import ContactFactory

pytestmark = [
    pytest.mark.django_db,
    # AUTH without TLS on the local test SMTP server.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]


class TokenEndpoint:
    """The provider's token endpoint: the authorization code "good-code" and refresh token
    "refresh-N" are valid; each answer issues access token "access-N" (and rotates the refresh
    token); `refuse` answers 400 invalid_grant, `fail` 503."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.issued = 0
        self.refresh = ""
        self.refuse = False
        self.fail = False

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(form)
        if self.fail:
            return 503, {"error": "temporarily_unavailable"}
        if form.get("client_id") != "crm-client" or form.get("client_secret") != "crm-secret":
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        good = (grant == "authorization_code" and form.get("code") == "good-code") or (
            grant == "refresh_token" and form.get("refresh_token") == self.refresh
        )
        if self.refuse or not good:
            return 400, {"error": "invalid_grant", "error_description": "Token revoked"}
        self.issued += 1
        self.refresh = f"refresh-{self.issued}"
        return 200, {
            "access_token": f"access-{self.issued}",
            "refresh_token": self.refresh,
            "expires_in": 3600,
            "token_type": "Bearer",
        }


@contextmanager
def running_token_endpoint() -> Iterator[tuple[TokenEndpoint, str]]:
    endpoint = TokenEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            status, payload = endpoint.answer(form)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint, f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


class XOAuth2Inbox(Inbox):
    """Collects messages; AUTH XOAUTH2 succeeds only with the endpoint's latest access token."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.logins: list[str] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        if len(args) > 1:
            raw = base64.b64decode(args[1])
        else:
            raw = await server.challenge_auth("", encode_to_b64=False)
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        self.logins.append(f"{user} {bearer}")
        if bearer == f"Bearer access-{self.endpoint.issued}" and user == "rep@rep-mail.test":
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


@contextmanager
def running_xoauth2_smtp(endpoint: TokenEndpoint) -> Iterator[tuple[XOAuth2Inbox, int]]:
    port = free_port()
    inbox = XOAuth2Inbox(endpoint)
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, auth_require_tls=False, auth_required=True
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def provider(settings):
    with running_token_endpoint() as (endpoint, url):
        settings.CRM_MAIL_OAUTH_PROVIDERS = {
            "testmail": {
                "client_id": "crm-client",
                "client_secret": "crm-secret",
                "authorize_url": "https://login.testmail.example/authorize",
                "token_url": url,
                "scope": "mail",
                "imap_host": "127.0.0.1",
                "smtp_host": "127.0.0.1",
            },
            "unset": {"client_id": "", "client_secret": ""},
        }
        yield endpoint


def _connect(rep) -> Mailbox:
    return oauth.mailbox_oauth_connect(
        actor=rep,
        name="testmail",
        code="good-code",
        redirect_uri="https://crm.example/activities/mail/mailbox/oauth/callback/",
        address="Rep@Rep-Mail.test",
    )


def test_connecting_exchanges_the_code_and_stores_the_tokens_encrypted(rep, provider):
    box = _connect(rep)
    assert box.auth == MailboxAuth.OAUTH2
    assert provider.requests[0]["grant_type"] == "authorization_code"
    assert provider.requests[0]["redirect_uri"].endswith("/oauth/callback/")
    stored = Mailbox.objects.get(pk=box.pk)
    assert "access-1" not in stored.oauth_access_token  # encrypted at rest
    assert "refresh-1" not in stored.oauth_refresh_token
    assert crypto.decrypt(stored.oauth_access_token) == "access-1"
    assert crypto.decrypt(stored.oauth_refresh_token) == "refresh-1"
    assert stored.imap_password == stored.smtp_password == ""
    assert stored.address == stored.imap_user == stored.smtp_user == "rep@rep-mail.test"


def test_a_refused_code_or_an_unset_provider_is_a_clear_error(rep, provider):
    with pytest.raises(DomainError, match="refused"):
        oauth.mailbox_oauth_connect(
            actor=rep, name="testmail", code="stolen", redirect_uri="x", address="r@x.test"
        )
    with pytest.raises(DomainError, match="not set up"):
        oauth.mailbox_oauth_connect(
            actor=rep, name="unset", code="good-code", redirect_uri="x", address="r@x.test"
        )
    assert not Mailbox.objects.exists()
    assert "client_id=crm-client" in oauth.authorize_url(
        name="testmail", redirect_uri="https://crm/cb", state="s1"
    )


def test_an_expiring_token_is_refreshed_once_and_a_valid_one_is_reused(rep, provider):
    box = _connect(rep)
    assert oauth.access_token(box) == "access-1"
    assert len(provider.requests) == 1  # still valid: no request
    later = timezone.now() + dt.timedelta(seconds=3600 - 30)  # within the refresh margin
    assert oauth.access_token(box, now=later) == "access-2"
    assert provider.requests[-1] == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "crm-client",
        "client_secret": "crm-secret",
    }
    stored = Mailbox.objects.get(pk=box.pk)
    assert crypto.decrypt(stored.oauth_refresh_token) == "refresh-2"  # the rotated one kept
    # Another copy of the row (another worker) sees the new token without refreshing again.
    stale = Mailbox.objects.get(pk=box.pk)
    stale.oauth_expires_at = later - dt.timedelta(hours=2)
    assert oauth.access_token(stale, now=later) == "access-2"
    assert len(provider.requests) == 2


def test_a_revoked_grant_is_permanent_and_an_outage_transient(rep, provider):
    box = _connect(rep)
    later = timezone.now() + dt.timedelta(hours=2)
    provider.fail = True
    with pytest.raises(oauth.TokenUnavailable):
        oauth.access_token(box, now=later)
    assert issubclass(oauth.TokenUnavailable, OSError)  # senders retry it
    provider.fail, provider.refuse = False, True
    with pytest.raises(oauth.TokenRefused, match="invalid_grant"):
        oauth.access_token(box, now=later)


def test_smtp_signs_in_with_xoauth2_after_refreshing(rep, provider):
    box = _connect(rep)
    with running_xoauth2_smtp(provider) as (inbox, port):
        Mailbox.objects.filter(pk=box.pk).update(
            smtp_port=port,
            smtp_security=SmtpSecurity.NONE,
            oauth_expires_at=timezone.now() - dt.timedelta(minutes=1),  # expired
        )
        box.refresh_from_db()
        connection = mailboxes.smtp_connection(box)
        sent = EmailMessage(
            "Hello", "Body", "rep@rep-mail.test", ["mia@customer.test"], connection=connection
        ).send()
    assert sent == 1
    assert inbox.logins == ["rep@rep-mail.test Bearer access-2"]
    assert len(inbox.messages) == 1


def test_smtp_with_a_stale_token_is_refused_by_the_server(rep, provider):
    box = _connect(rep)
    provider.issued = 9  # the server now wants access-9; the stored access-1 is not expired
    with running_xoauth2_smtp(provider) as (inbox, port):
        Mailbox.objects.filter(pk=box.pk).update(smtp_port=port, smtp_security=SmtpSecurity.NONE)
        box.refresh_from_db()
        import smtplib

        with pytest.raises(smtplib.SMTPAuthenticationError):
            EmailMessage(
                "Hello",
                "Body",
                "rep@rep-mail.test",
                ["m@c.test"],
                connection=mailboxes.smtp_connection(box),
            ).send()
    assert inbox.messages == []


def test_email_written_in_the_crm_goes_out_through_the_oauth_mailbox(
    rep, provider, settings, tmp_path: Path
):
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    box = _connect(rep)
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    with running_xoauth2_smtp(provider) as (inbox, port):
        Mailbox.objects.filter(pk=box.pk).update(smtp_port=port, smtp_security=SmtpSecurity.NONE)
        mail = services.mail_compose(
            contact=contact,
            data=services.OutgoingMail(to="mia@customer.test", subject="Quote", body="Here."),
            actor=rep,
        )
        assert mail.mailbox_id == box.pk
        assert services.mail_deliver(mail_id=mail.pk) is True
        # The token endpoint down at the next send: transient, the mail waits for a retry.
        provider.fail = True
        Mailbox.objects.filter(pk=box.pk).update(oauth_expires_at=timezone.now())
        again = services.mail_compose(
            contact=contact,
            data=services.OutgoingMail(to="mia@customer.test", subject="Again", body="."),
            actor=rep,
        )
        with pytest.raises(TransientError):
            services.mail_deliver(mail_id=again.pk)
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["From"].endswith("<rep@rep-mail.test>")
    again.refresh_from_db()
    assert again.status == MailStatus.QUEUED


# --- the pages --------------------------------------------------------------------------------


def test_sign_in_flow_connects_the_mailbox(client, rep, provider, settings):
    from urllib.parse import parse_qs, urlsplit

    from django.urls import reverse

    from tests.conftest import login

    settings.CRM_BASE_URL = "https://crm.example"
    login(client, rep)
    page = client.get(reverse("activities:mailbox")).content.decode()
    assert "Sign in with Testmail" in page
    assert "Sign in with Unset" not in page  # no client id: not offered
    start = client.post(
        reverse("activities:mailbox-oauth-start", args=["testmail"]),
        {"address": "rep@rep-mail.test"},
    )
    assert start.status_code == 302
    sent = urlsplit(start["Location"])
    query = parse_qs(sent.query)
    assert sent.netloc == "login.testmail.example"
    assert query["redirect_uri"] == ["https://crm.example/activities/mail/mailbox/oauth-callback/"]
    assert query["login_hint"] == ["rep@rep-mail.test"]
    callback = reverse("activities:mailbox-oauth-callback")
    forged = client.get(callback, {"state": "forged", "code": "good-code"})
    assert forged.status_code == 400
    assert not Mailbox.objects.exists()
    # The forged answer used up the pending sign-in: start again, then the real answer.
    start = client.post(
        reverse("activities:mailbox-oauth-start", args=["testmail"]),
        {"address": "rep@rep-mail.test"},
    )
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    done = client.get(callback, {"state": state, "code": "good-code"}, follow=True)
    assert done.status_code == 200
    assert "Mailbox connected" in done.content.decode()
    box = Mailbox.objects.get(owner=rep)
    assert box.auth == MailboxAuth.OAUTH2
    assert "Testmail account (OAuth2)" in done.content.decode()
    assert provider.requests[-1]["redirect_uri"] == query["redirect_uri"][0]


def test_bad_sign_in_input_gets_a_message_not_a_500(client, rep, provider):
    from django.urls import reverse

    from tests.conftest import login

    login(client, rep)
    bad = client.post(
        reverse("activities:mailbox-oauth-start", args=["testmail"]),
        {"address": "not an address"},
        follow=True,
    )
    assert "Give the email address" in bad.content.decode()
    nul = client.post(
        reverse("activities:mailbox-oauth-start", args=["testmail"]), {"address": "a@b.c\x00"}
    )
    assert nul.status_code == 400
    unknown = client.post(
        reverse("activities:mailbox-oauth-start", args=["nowhere"]),
        {"address": "rep@rep-mail.test"},
        follow=True,
    )
    assert "not set up" in unknown.content.decode()
    callback = reverse("activities:mailbox-oauth-callback")
    assert client.get(callback, {"state": "x"}).status_code == 400
    client.post(
        reverse("activities:mailbox-oauth-start", args=["testmail"]),
        {"address": "rep@rep-mail.test"},
    )  # a sign-in under way: its state is compared with one that is not ASCII
    assert client.get(callback, {"state": "état", "code": "c"}).status_code == 400
    reloaded = client.get(callback, follow=True)
    assert "No sign-in with a mail provider is under way." in reloaded.content.decode()


def test_saving_passwords_again_forgets_the_tokens(rep, provider):
    box = _connect(rep)
    with pytest.raises(DomainError):  # the OAuth box has no password to keep
        mailboxes.mailbox_connect(
            data=mailboxes.MailboxInput(
                address="rep@rep-mail.test", imap_host="127.0.0.1", imap_user="rep"
            ),
            actor=rep,
        )
    mailboxes.mailbox_connect(
        data=mailboxes.MailboxInput(
            address="rep@rep-mail.test", imap_host="127.0.0.1", imap_user="rep", imap_password="p"
        ),
        actor=rep,
    )
    box.refresh_from_db()
    assert box.auth == MailboxAuth.PASSWORD
    assert box.oauth_access_token == box.oauth_refresh_token == ""
