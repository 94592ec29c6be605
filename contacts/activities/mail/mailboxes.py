"""Personal mailboxes: a user's own IMAP/SMTP account.

Syncing reads the inbox and the sent-mail folder from the last UID seen (the first sync reaches
back FIRST_SYNC_DAYS), looks at each new message's addresses only (a header fetch), and downloads
and stores just the messages exchanged with known contacts: each lands on those contacts'
timelines (`services.record_mail`, owned by the mailbox's user; outbound when the user sent it).
Other mail is neither downloaded nor kept, and nothing of a personal mailbox goes to the
unmatched-mail queue. The folder's messages are opened read-only (flags unchanged). A sync is
claimed on the row (`sync_started_at`), so two at once do not run; what was stored is
idempotent anyway (unique Message-ID per contact). What happened is kept on the row
(`last_sync_at`, `last_synced`, `last_error`) for the user's status page.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.activities.mail import oauth, services
from contacts.activities.mail.models import Mailbox, MailboxAuth, MailMessage, SmtpSecurity
from contacts.activities.models import Direction
from crm import crypto, inbound, mailin, outbox
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

SYNC_TASK = "contacts.activities.mail.tasks.mailbox_sync"
FIRST_SYNC_DAYS = 30
BATCH = 50
PER_SYNC = 500  # messages looked at per folder and sync; the next sync continues
CLAIM_FOR = dt.timedelta(minutes=15)  # a sync whose worker died is taken over after this


@dataclass
class MailboxInput:
    address: str
    imap_host: str
    imap_user: str
    imap_password: str = ""  # empty on an edit: keep the stored one
    imap_port: int = 993
    imap_ssl: bool = True
    sent_folder: str = "Sent"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = SmtpSecurity.STARTTLS
    smtp_user: str = ""
    smtp_password: str = ""


def mailbox_of(user: User) -> Mailbox | None:
    return Mailbox.objects.filter(owner=user).first()


@transaction.atomic
def mailbox_connect(*, data: MailboxInput, actor: User) -> Mailbox:
    """Connect (or change) the actor's own mailbox and queue a first sync. Passwords are stored
    encrypted; an empty password on a change keeps the stored one. Atomic."""
    box = Mailbox.objects.select_for_update().filter(owner=actor).first()
    if box is not None and box.auth == MailboxAuth.OAUTH2:
        box = _forget_oauth(box)  # back to passwords: the form must give them
    if (box is None or not box.imap_password) and not data.imap_password:
        raise DomainError(_("Give the IMAP password."), field="imap_password")
    if (
        data.smtp_host
        and data.smtp_user
        and not data.smtp_password
        and not (box and box.smtp_password)
    ):
        raise DomainError(_("Give the SMTP password."), field="smtp_password")
    box = box or Mailbox(owner=actor)
    box.address = data.address.strip().lower()
    box.imap_host, box.imap_port, box.imap_ssl = (
        data.imap_host.strip(),
        data.imap_port,
        data.imap_ssl,
    )
    box.imap_user = data.imap_user.strip()
    box.sent_folder = data.sent_folder.strip()
    box.smtp_host, box.smtp_port = data.smtp_host.strip(), data.smtp_port
    box.smtp_security, box.smtp_user = data.smtp_security, data.smtp_user.strip()
    if data.imap_password:
        box.imap_password = crypto.encrypt(data.imap_password)
    if data.smtp_password:
        box.smtp_password = crypto.encrypt(data.smtp_password)
    if not box.smtp_host:
        box.smtp_password = ""
    box.active = True
    box.last_error = ""
    box.save()
    outbox.enqueue(SYNC_TASK, {"mailbox_id": box.pk})
    return box


def _forget_oauth(box: Mailbox) -> Mailbox:
    box.auth, box.oauth_provider = MailboxAuth.PASSWORD, ""
    box.oauth_access_token = box.oauth_refresh_token = ""
    box.oauth_expires_at = None
    return box


def mailbox_tracking_set(*, actor: User, track_opens: bool, track_clicks: bool) -> Mailbox:
    """Turn open and click tracking on or off for email sent through the actor's own mailbox
    (tracking/: no pixel, links left alone; also stops recording events of mail sent before).
    The admin's global switch still has the last word when it is off."""
    box = mailbox_of(actor)
    if box is None:
        raise DomainError(_("Connect a mailbox first."))
    box.track_opens, box.track_clicks = track_opens, track_clicks
    box.save(update_fields=["track_opens", "track_clicks", "updated_at"])
    return box


@transaction.atomic
def mailbox_sync_request(*, actor: User) -> Mailbox:
    """Queue a sync of the actor's mailbox now (after commit)."""
    box = mailbox_of(actor)
    if box is None:
        raise DomainError(_("Connect a mailbox first."))
    outbox.enqueue(SYNC_TASK, {"mailbox_id": box.pk})
    return box


def mailbox_disconnect(*, actor: User) -> None:
    """Forget the actor's mailbox and its passwords; emails already on timelines stay."""
    Mailbox.objects.filter(owner=actor).delete()


# --- sync ------------------------------------------------------------------------------------


def _claim(mailbox_id: int) -> bool:
    now = timezone.now()
    return (
        Mailbox.objects.filter(pk=mailbox_id, active=True)
        .filter(Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - CLAIM_FOR))
        .update(sync_started_at=now)
        == 1
    )


def mailbox_sync(*, mailbox_id: int, now: dt.datetime | None = None) -> int | None:
    """Sync one mailbox (see the module docstring); the number of emails put on timelines, or
    None when it is not to run (gone, paused, or another sync holds it). Connection and login
    errors are recorded on the mailbox for its user, not raised: the next sync tries again."""
    if not _claim(mailbox_id):
        return None
    box = Mailbox.objects.select_related("owner").get(pk=mailbox_id)
    stored = 0
    error = ""
    try:
        if box.auth == MailboxAuth.OAUTH2:
            client = oauth.imap_login(box)
        else:
            client = mailin.imap_connect(
                host=box.imap_host,
                port=box.imap_port,
                username=box.imap_user,
                password=crypto.decrypt(box.imap_password),
                ssl=box.imap_ssl,
            )
        try:
            folders = ["INBOX", *([box.sent_folder] if box.sent_folder else [])]
            for folder in folders:
                stored += _sync_folder(client, box, folder, now or timezone.now())
        finally:
            try:
                client.logout()
            except Exception:  # the server went away; what was stored stays
                log.info("mailbox %s: logout failed", box.pk, exc_info=True)
    except crypto.InvalidToken:
        error = _(
            "The stored password cannot be decrypted (the encryption key changed). Enter it again."
        )
    except oauth.TokenRefused as exc:
        error = _(
            "The mail provider refused the CRM's access (%(reason)s). Connect the mailbox again."
        ) % {"reason": exc}
    except Exception as exc:  # imaplib, socket and TLS errors alike: shown to the user
        error = f"{type(exc).__name__}: {exc}"[:1000]
    Mailbox.objects.filter(pk=box.pk).update(
        sync_started_at=None,
        sync_state=box.sync_state,
        last_sync_at=timezone.now(),
        last_error=error,
        last_synced=stored,
        total_synced=F("total_synced") + stored,
    )
    return stored


def _sync_folder(client: Any, box: Mailbox, folder: str, now: dt.datetime) -> int:
    try:
        info = client.select_folder(folder, readonly=True)
    except Exception:
        if folder == "INBOX":
            raise
        return 0  # no such sent folder on this server
    validity = int(info.get(b"UIDVALIDITY", 0) or 0)
    state = dict(box.sync_state.get(folder) or {})
    if state.get("uidvalidity") != validity:
        state = {"uidvalidity": validity, "last_uid": 0}
    last_uid = int(state.get("last_uid", 0))
    if last_uid:
        uids = [u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid]
    else:
        since = (now - dt.timedelta(days=FIRST_SYNC_DAYS)).date()
        uids = client.search(["SINCE", since])
    uids = sorted(uids)[:PER_SYNC]
    stored = 0
    for start in range(0, len(uids), BATCH):
        chunk = uids[start : start + BATCH]
        heads = client.fetch(chunk, ["BODY.PEEK[HEADER.FIELDS (FROM TO CC)]"])
        wanted = [uid for uid in chunk if _has_contact(box, heads.get(uid, {}))]
        bodies = client.fetch(wanted, ["BODY.PEEK[]"]) if wanted else {}
        for uid in wanted:
            raw = bytes(bodies.get(uid, {}).get(b"BODY[]") or b"")
            if raw:
                stored += _store(box, raw)
        state["last_uid"] = max(chunk)
        box.sync_state = {**box.sync_state, folder: state}
    return stored


def _header_addresses(fields: dict[bytes, Any]) -> list[str]:
    raw = b""
    for key, value in fields.items():
        if key.startswith(b"BODY[HEADER.FIELDS"):
            raw = bytes(value or b"")
    text = raw.decode("utf-8", "replace")
    values = [
        line.split(":", 1)[1] for line in text.replace("\r\n ", " ").splitlines() if ":" in line
    ]
    return [a.lower() for _, a in email.utils.getaddresses(values) if "@" in a]


def _has_contact(box: Mailbox, fields: dict[bytes, Any]) -> bool:
    addresses = [a for a in _header_addresses(fields) if a != box.address]
    return bool(services.matching_contacts(addresses))


def _store(box: Mailbox, raw: bytes) -> int:
    mail = inbound.parse(raw, mailbox=box.address)
    outbound = mail.from_address == box.address
    addresses = list(mail.recipients) if outbound else [mail.from_address, *mail.recipients]
    contacts = services.matching_contacts([a for a in addresses if a != box.address])
    stored = 0
    for contact in contacts:
        before = MailMessage.objects.filter(
            message_id=mail.message_id[:500], contact=contact
        ).exists()
        message = services.record_mail(
            mail=mail,
            contact=contact,
            owner=box.owner,
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        )
        if not before:
            MailMessage.objects.filter(pk=message.pk).update(mailbox=box)
            stored += 1
    return stored


def sync_due() -> int:
    """Beat: queue a sync of every active mailbox. Safe late or twice (each sync is claimed)."""
    ids = list(Mailbox.objects.filter(active=True).values_list("pk", flat=True))
    with transaction.atomic():
        for pk in ids:
            outbox.enqueue(SYNC_TASK, {"mailbox_id": pk})
    return len(ids)


# --- sending through the user's SMTP ----------------------------------------------------------


def smtp_connection(box: Mailbox) -> BaseEmailBackend:
    """A Django SMTP connection to the user's server (for `services.mail_deliver`); an OAuth2
    mailbox signs in with XOAUTH2."""
    if box.auth == MailboxAuth.OAUTH2:
        return oauth.XOAuth2EmailBackend(
            mailbox=box,
            host=box.smtp_host,
            port=box.smtp_port,
            use_tls=box.smtp_security == SmtpSecurity.STARTTLS,
            use_ssl=box.smtp_security == SmtpSecurity.SSL,
            timeout=20,
        )
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=box.smtp_host,
        port=box.smtp_port,
        username=box.smtp_user or None,
        password=crypto.decrypt(box.smtp_password) if box.smtp_password else None,
        use_tls=box.smtp_security == SmtpSecurity.STARTTLS,
        use_ssl=box.smtp_security == SmtpSecurity.SSL,
        timeout=20,
    )
