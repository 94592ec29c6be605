"""OAuth2 for personal mailboxes: IMAP and SMTP sign in with SASL XOAUTH2 and an access token
instead of a password.

The CRM is a client of each provider in `settings.CRM_MAIL_OAUTH_PROVIDERS` (client id and
secret from the environment, the provider's authorize and token endpoints, scope, servers).
`mailbox_oauth_connect` exchanges the authorization code the provider sent back for tokens and
stores them encrypted (crm/crypto.py, like the passwords); `access_token` returns a valid
access token, refreshing it through the token endpoint (grant_type=refresh_token) when it
expires within REFRESH_MARGIN. Refreshes of one mailbox are serialised by a row lock, so two
workers do not both spend a refresh token that the provider rotates.

Errors: the token endpoint refusing (HTTP 4xx, e.g. `invalid_grant` after the user revoked the
CRM) raises `TokenRefused`, permanent: the user connects again; the endpoint unreachable or
failing (network, 5xx) raises `TokenUnavailable`, an OSError, so senders treat it as transient
and retry like an SMTP outage.
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.activities.mail.models import Mailbox, MailboxAuth, SmtpSecurity
from crm import crypto, outbox
from crm.errors import DomainError

if TYPE_CHECKING:
    from imapclient import IMAPClient  # type: ignore[import-untyped]

    from accounts.models import User

REFRESH_MARGIN = dt.timedelta(seconds=60)
TIMEOUT = 20


class TokenRefused(Exception):
    """The provider refused the grant (revoked, expired refresh token): connect again."""


class TokenUnavailable(OSError):
    """The token endpoint could not be reached or failed: try again later."""


def providers() -> dict[str, dict[str, str]]:
    """The providers configured with a client id."""
    return {
        name: conf
        for name, conf in settings.CRM_MAIL_OAUTH_PROVIDERS.items()
        if conf.get("client_id")
    }


def provider(name: str) -> dict[str, str]:
    conf = providers().get(name)
    if conf is None:
        raise DomainError(_("This mail provider is not set up for signing in."))
    return conf


def authorize_url(*, name: str, redirect_uri: str, state: str, login_hint: str = "") -> str:
    """Where to send the user to let the CRM read and send their mail."""
    conf = provider(name)
    query = {
        "response_type": "code",
        "client_id": conf["client_id"],
        "redirect_uri": redirect_uri,
        "scope": conf["scope"],
        "state": state,
        "access_type": "offline",  # Google: a refresh token
        "prompt": "consent",
    }
    if login_hint:
        query["login_hint"] = login_hint
    return f"{conf['authorize_url']}?{urllib.parse.urlencode(query)}"


def token_request(conf: dict[str, str], fields: dict[str, str]) -> dict[str, Any]:
    """POST to the provider's token endpoint (client id and secret in the body, RFC 6749
    2.3.1); its JSON answer. TokenRefused on a 4xx, TokenUnavailable otherwise."""
    body = urllib.parse.urlencode(
        {**fields, "client_id": conf["client_id"], "client_secret": conf["client_secret"]}
    ).encode()
    request = urllib.request.Request(  # noqa: S310  (the configured https endpoint)
        conf["token_url"],
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            payload = json.loads(response.read(1_000_000) or b"{}")
    except urllib.error.HTTPError as exc:
        detail = _error_of(exc)
        if 400 <= exc.code < 500:
            raise TokenRefused(detail) from exc
        raise TokenUnavailable(detail) from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts, TLS, a non-JSON answer
        raise TokenUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(payload, dict) or not payload.get("access_token"):
        raise TokenUnavailable(_("The token endpoint sent no access token."))
    return payload


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read(10_000) or b"{}")
    except (OSError, ValueError):
        data = {}
    if isinstance(data, dict) and data.get("error"):
        return f"{exc.code} {data['error']}: {data.get('error_description', '')}".strip()
    return f"HTTP {exc.code}"


def _store_tokens(box: Mailbox, payload: dict[str, Any], now: dt.datetime) -> None:
    box.oauth_access_token = crypto.encrypt(str(payload["access_token"]))
    if payload.get("refresh_token"):  # providers may rotate it; else the old one stays good
        box.oauth_refresh_token = crypto.encrypt(str(payload["refresh_token"]))
    try:
        seconds = int(payload.get("expires_in") or 3600)
    except (TypeError, ValueError):
        seconds = 3600
    box.oauth_expires_at = now + dt.timedelta(seconds=max(seconds, 0))


@transaction.atomic
def mailbox_oauth_connect(
    *, actor: User, name: str, code: str, redirect_uri: str, address: str, sent_folder: str = ""
) -> Mailbox:
    """Connect the actor's mailbox with OAuth2: exchange the authorization code for tokens and
    store them encrypted (the passwords are cleared), servers from the provider's settings, and
    queue a first sync. Atomic; TokenRefused (a bad or used code) becomes a DomainError."""
    from contacts.activities.mail.mailboxes import SYNC_TASK

    conf = provider(name)
    try:
        payload = token_request(
            conf,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        )
    except TokenRefused as exc:
        raise DomainError(
            _("The provider refused the sign-in (%(reason)s). Try again.") % {"reason": exc}
        ) from exc
    if not payload.get("refresh_token"):
        raise DomainError(_("The provider gave no refresh token; allow offline access."))
    box = Mailbox.objects.select_for_update().filter(owner=actor).first() or Mailbox(owner=actor)
    address = address.strip().lower()
    box.address = address
    box.auth, box.oauth_provider = MailboxAuth.OAUTH2, name
    box.imap_host, box.imap_port, box.imap_ssl = conf["imap_host"], 993, True
    box.imap_user = box.smtp_user = address
    box.imap_password = box.smtp_password = ""
    box.smtp_host, box.smtp_port = conf["smtp_host"], 587
    box.smtp_security = SmtpSecurity.STARTTLS
    if sent_folder:
        box.sent_folder = sent_folder
    _store_tokens(box, payload, timezone.now())
    box.active, box.last_error = True, ""
    box.save()
    outbox.enqueue(SYNC_TASK, {"mailbox_id": box.pk})
    return box


def access_token(box: Mailbox, *, now: dt.datetime | None = None) -> str:
    """A valid access token of an OAuth2 mailbox, refreshed (and stored) when it expires within
    REFRESH_MARGIN. The refresh holds the mailbox's row lock, so concurrent callers refresh once
    and the others read the new token. Raises TokenRefused, TokenUnavailable, and
    crypto.InvalidToken when the encryption key changed."""
    now = now or timezone.now()
    if box.oauth_expires_at and box.oauth_expires_at - REFRESH_MARGIN > now:
        return crypto.decrypt(box.oauth_access_token)
    with transaction.atomic():
        fresh = Mailbox.objects.select_for_update().get(pk=box.pk)
        if fresh.oauth_expires_at and fresh.oauth_expires_at - REFRESH_MARGIN > now:
            token = crypto.decrypt(fresh.oauth_access_token)  # another worker refreshed it
        else:
            payload = token_request(
                provider(fresh.oauth_provider),
                {
                    "grant_type": "refresh_token",
                    "refresh_token": crypto.decrypt(fresh.oauth_refresh_token),
                },
            )
            _store_tokens(fresh, payload, now)
            fresh.save(
                update_fields=[
                    "oauth_access_token",
                    "oauth_refresh_token",
                    "oauth_expires_at",
                    "updated_at",
                ]
            )
            token = str(payload["access_token"])
    box.oauth_access_token = fresh.oauth_access_token
    box.oauth_refresh_token = fresh.oauth_refresh_token
    box.oauth_expires_at = fresh.oauth_expires_at
    return token


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response (before base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def imap_login(box: Mailbox, *, timeout: float = 30) -> IMAPClient:
    """An IMAP connection to an OAuth2 mailbox, authenticated with XOAUTH2."""
    from imapclient import IMAPClient

    token = access_token(box)
    client = IMAPClient(box.imap_host, port=box.imap_port, ssl=box.imap_ssl, timeout=timeout)
    try:
        client.oauth2_login(box.imap_user, token)
    except Exception:
        client.shutdown()
        raise
    return client


class XOAuth2EmailBackend(EmailBackend):
    """Django's SMTP backend signing in with AUTH XOAUTH2 (the token fetched at each open)."""

    def __init__(self, *, mailbox: Mailbox, **kwargs: Any) -> None:
        super().__init__(username=None, password=None, **kwargs)
        self.mailbox = mailbox

    def open(self) -> bool | None:
        opened = super().open()
        if not opened or self.connection is None:
            return opened
        try:
            token = access_token(self.mailbox)
            response = xoauth2(self.mailbox.smtp_user or self.mailbox.address, token)
            self.connection.ehlo_or_helo_if_needed()
            # The first call sends the initial response; a second (the server's error
            # challenge) answers empty so the server ends the exchange with its error code.
            answers = iter([response])
            self.connection.auth("XOAUTH2", lambda challenge=None: next(answers, ""))
        except (OSError, smtplib.SMTPException, TokenRefused, crypto.InvalidToken):
            self.close()
            raise
        return opened
