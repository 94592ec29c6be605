"""Receiving email: store first, then parse and dispatch (crm/inbound.py) in a task.

Three doors, one path. A provider's inbound webhook (django-anymail: `anymail.signals.inbound`,
after anymail checked the basic-auth secret and the provider's signature), a raw RFC 5322 POST
from any MTA (`inbound_raw`, a shared secret), and an IMAP poller (`imap_fetch`; the
`inbound_imap_poll` command and a beat task). Each calls `store()`, which writes the message's
bytes to PostgreSQL (a private file for big ones) with its Message-ID, once per mailbox, and
enqueues `inbound_process` through the outbox in the same transaction. The task parses the
message and offers it to the handlers; what none claims, what cannot be read and what is too big
to process stays stored as UNMATCHED or FAILED with the reason, for the "unmatched mail" queue.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import inbound, outbox
from crm.errors import TransientError
from crm.models import InboundMessage, InboundStatus

if TYPE_CHECKING:
    from imapclient import IMAPClient  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

PROCESS_TASK = "crm.tasks.inbound_process"
_MESSAGE_ID = re.compile(rb"<[^<>\s]+>")
_READ_CHUNK = 1024 * 1024


def inline_limit() -> int:
    """Messages up to this size keep their bytes in the row; bigger ones go to a private file."""
    return int(getattr(settings, "CRM_INBOUND_INLINE_BYTES", 1024 * 1024))


def store_limit() -> int:
    """The largest message accepted at all (the raw endpoint answers 413 above it)."""
    return int(getattr(settings, "CRM_INBOUND_MAX_BYTES", 64 * 1024 * 1024))


def process_limit() -> int:
    """Bigger messages are kept but not parsed: they wait in the queue with the reason."""
    return int(getattr(settings, "CRM_INBOUND_PROCESS_MAX_BYTES", 25 * 1024 * 1024))


def default_mailbox() -> str:
    return str(getattr(settings, "CRM_INBOUND_MAILBOX", "") or "").strip().lower()


def _clean(value: str, limit: int) -> str:
    return value.replace("\x00", "").replace("\r", " ").replace("\n", " ").strip()[:limit]


@dataclass(frozen=True)
class Envelope:
    message_id: str
    subject: str
    from_address: str


def envelope(raw: bytes) -> Envelope:
    """Message-ID, subject and sender from the header alone; never raises. A message without a
    Message-ID gets the same stable id `inbound.parse` gives it (from the content)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    subject = sender = ""
    message_id = ""
    try:
        header = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(head)
        ids = _MESSAGE_ID.findall(str(header.get("Message-ID", "")).encode("utf-8", "replace"))
        message_id = ids[0].decode("utf-8", "replace") if ids else ""
        subject = str(header.get("Subject", ""))
        pairs = email.utils.getaddresses([str(header.get("From", ""))])
        sender = pairs[0][1] if pairs else ""
    except Exception:  # a header the email package cannot decode: the task says why later
        log.info("inbound: unreadable header", exc_info=True)
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    return Envelope(
        message_id=_clean(message_id, 500),
        subject=_clean(subject, 998),
        from_address=_clean(sender.lower(), 320),
    )


def store(
    raw: bytes, *, source: str, mailbox: str = "", too_big: int | None = None
) -> tuple[InboundMessage, bool]:
    """Keep one received message (and enqueue its processing), or find the copy already kept.

    Idempotent per (mailbox, Message-ID): the same message fetched or posted twice is one row and
    is processed once; returns (row, created). `too_big`: the real size of a message of which
    only the header was downloaded; it is kept as FAILED with that reason. Atomic."""
    mailbox = (mailbox or default_mailbox()).strip().lower()[:254]
    env = envelope(raw)
    existing = InboundMessage.objects.filter(mailbox=mailbox, message_id=env.message_id).first()
    if existing is not None:
        return existing, False
    row = InboundMessage(
        source=source[:20],
        mailbox=mailbox,
        message_id=env.message_id,
        subject=env.subject,
        from_address=env.from_address,
        size=too_big or len(raw),
    )
    if too_big:
        row.status = InboundStatus.FAILED
        row.reason = _(
            "The message is %(size)s MB, over the %(limit)s MB limit: only its header was kept."
        ) % {"size": _mb(too_big), "limit": _mb(store_limit())}
        row.processed_at = timezone.now()
    if len(raw) > inline_limit():
        row.raw_file.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
    else:
        row.raw = raw
    try:
        with transaction.atomic():
            row.save()
            if not too_big:
                outbox.enqueue(PROCESS_TASK, {"inbound_id": row.pk})
    except IntegrityError:  # stored by a concurrent delivery of the same message
        if row.raw_file:
            row.raw_file.delete(save=False)
        return InboundMessage.objects.get(mailbox=mailbox, message_id=env.message_id), False
    return row, True


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def raw_bytes(row: InboundMessage) -> bytes:
    if row.raw is not None:
        return bytes(row.raw)
    if row.raw_file:
        with row.raw_file.open("rb") as handle:
            return bytes(handle.read())
    return b""


def process(*, inbound_id: int) -> str | None:
    """Parse one stored message and offer it to the handlers (crm/inbound.py); record who took
    it, or why nobody did. Runs once per message: the row is locked and only a RECEIVED row is
    processed, so a second delivery of the task does nothing (returns None). A handler's
    exception marks the row FAILED with it (nothing is lost: the bytes stay); database trouble
    is a TransientError, retried."""
    try:
        with transaction.atomic():
            row = (
                InboundMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=inbound_id, status=InboundStatus.RECEIVED)
                .first()
            )
            if row is None:
                return None
            InboundMessage.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            status, reason, claimed_by = _dispatch(row)
            InboundMessage.objects.filter(pk=row.pk).update(
                status=status, reason=reason, claimed_by=claimed_by, processed_at=timezone.now()
            )
            return str(status)
    except DatabaseError as exc:
        raise TransientError(str(exc)) from exc


def _dispatch(row: InboundMessage) -> tuple[str, str, str]:
    if row.size > process_limit():
        reason = _(
            "The message is %(size)s MB, over the %(limit)s MB that are processed: it is kept "
            "as received."
        ) % {"size": _mb(row.size), "limit": _mb(process_limit())}
        return InboundStatus.UNMATCHED, reason, ""
    raw = raw_bytes(row)
    try:
        mail = inbound.parse(raw, mailbox=row.mailbox)
    except Exception as exc:  # parse() promises not to raise; if it does, keep the message
        log.warning("inbound %s: unreadable", row.pk, exc_info=True)
        return (
            InboundStatus.FAILED,
            _("The message could not be read: %(error)s")
            % {"error": f"{type(exc).__name__}: {exc}"[:500]},
            "",
        )
    if not mail.from_address:
        return InboundStatus.UNMATCHED, _("The message has no readable sender (From)."), ""
    try:
        with transaction.atomic():
            key = inbound.dispatch(mail)
    except DatabaseError:
        raise
    except TransientError:
        raise
    except Exception as exc:
        log.exception("inbound %s: a handler failed", row.pk)
        return (
            InboundStatus.FAILED,
            _("Processing failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"[:500]},
            "",
        )
    if key is None:
        return (
            InboundStatus.UNMATCHED,
            _("No record matches the sender %(sender)s.") % {"sender": mail.from_address},
            "",
        )
    return InboundStatus.DISPATCHED, "", key


def mark_claimed(*, inbound_id: int, handler: str) -> int:
    """A user attached a queued message by hand (the unmatched-mail page): it is dispatched."""
    return InboundMessage.objects.filter(
        pk=inbound_id, status__in=[InboundStatus.UNMATCHED, InboundStatus.FAILED]
    ).update(status=InboundStatus.DISPATCHED, claimed_by=handler, processed_at=timezone.now())


# --- anymail's inbound webhooks ---------------------------------------------------------------


try:
    from anymail.signals import inbound as anymail_inbound  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - anymail is a dependency
    anymail_inbound = None


def _webhook_secured() -> bool:
    return bool(getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"))


if anymail_inbound is not None:

    @receiver(anymail_inbound, dispatch_uid="crm.mailin.anymail_inbound")
    def anymail_inbound_received(sender: Any, event: Any, esp_name: str, **_: Any) -> None:
        """An ESP's inbound webhook passed anymail's checks (basic auth, the provider's
        signature): keep the message. Refused (403) while no webhook secret is configured,
        since anymail would then accept anyone's post."""
        from django.core.exceptions import PermissionDenied

        if not _webhook_secured():
            raise PermissionDenied("ANYMAIL WEBHOOK_SECRET is not set")
        message = event.message
        raw = message.as_bytes() if message is not None else b""
        recipient = str(getattr(message, "envelope_recipient", "") or "")
        store(raw, source=f"webhook:{esp_name.lower()}", mailbox=recipient or default_mailbox())


# --- raw MIME from any MTA ----------------------------------------------------------------------


def _secret_ok(request: HttpRequest) -> bool:
    secret = str(getattr(settings, "CRM_INBOUND_SECRET", "") or "")
    if not secret:
        return False
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    given = given or request.headers.get("X-CRM-Inbound-Secret", "")
    return hmac.compare_digest(given.encode(), secret.encode())


@csrf_exempt
@require_POST
def inbound_raw(request: HttpRequest) -> HttpResponse:
    """POST one RFC 5322 message as the body (`Content-Type: message/rfc822`), with
    `Authorization: Bearer <CRM_INBOUND_SECRET>`; `?mailbox=` names the address it came to.
    202 with the stored row's id (also for a duplicate); 403 without the secret; 413 when too
    big; 400 when empty."""
    if not _secret_ok(request):
        return JsonResponse({"error": _("Wrong or missing inbound secret.")}, status=403)
    limit = store_limit()
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        return JsonResponse({"error": _("The message is too large.")}, status=413)
    chunks: list[bytes] = []
    size = 0
    while chunk := request.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return JsonResponse({"error": _("The message is too large.")}, status=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return JsonResponse({"error": _("The message is empty.")}, status=400)
    mailbox = request.GET.get("mailbox", "").replace("\x00", "")
    row, created = store(raw, source="raw", mailbox=mailbox)
    return JsonResponse({"id": row.pk, "created": created, "status": row.status}, status=202)


# --- IMAP -------------------------------------------------------------------------------------


@dataclass
class FetchResult:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    last_uid: int = 0


def imap_connect(
    *, host: str, port: int, username: str, password: str, ssl: bool = True, timeout: float = 30
) -> IMAPClient:
    from imapclient import IMAPClient

    client = IMAPClient(host, port=port, ssl=ssl, timeout=timeout)
    client.login(username, password)
    return client


def imap_fetch(
    client: IMAPClient,
    *,
    mailbox: str,
    folder: str = "INBOX",
    source: str = "imap",
    since_uid: int = 0,
    mark_seen: bool = True,
    batch: int = 20,
    limit: int = 500,
) -> FetchResult:
    """Store the folder's messages: the unseen ones (`mark_seen`, the CRM's own mailbox: they
    are flagged \\Seen once stored) or those after `since_uid` (a person's mailbox, left as the
    person keeps it). A message is flagged only after it is stored, so a poll that dies half-way
    fetches it again next time and `store` keeps it once. Messages over the size limit are kept
    by their header alone, as FAILED with the reason."""
    from imapclient import SEEN

    client.select_folder(folder, readonly=not mark_seen)
    criteria: list[Any] = ["UNSEEN"] if mark_seen else ["UID", f"{since_uid + 1}:*"]
    uids = sorted(uid for uid in client.search(criteria) if uid > since_uid)[:limit]
    result = FetchResult(last_uid=since_uid)
    max_bytes = store_limit()
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        sizes = client.fetch(chunk, ["RFC822.SIZE"])
        small = [
            uid for uid in chunk if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= max_bytes
        ]
        big = [uid for uid in chunk if uid not in small]
        fetched = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        heads = client.fetch(big, ["BODY.PEEK[HEADER]"]) if big else {}
        for uid in chunk:
            if uid in fetched:
                raw = bytes(fetched[uid].get(b"BODY[]") or b"")
                too_big = None
            else:
                raw = bytes(heads.get(uid, {}).get(b"BODY[HEADER]") or b"")
                too_big = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            result.seen += 1
            _, created = store(raw, source=source, mailbox=mailbox, too_big=too_big)
            result.stored += int(created)
            result.duplicates += int(not created)
            result.last_uid = max(result.last_uid, uid)
        if mark_seen:
            client.add_flags(chunk, [SEEN])
    return result


def imap_poll_configured() -> FetchResult | None:
    """Poll the CRM's own IMAP mailbox (CRM_INBOUND_IMAP_*); None when none is configured."""
    host = str(getattr(settings, "CRM_INBOUND_IMAP_HOST", "") or "")
    if not host:
        return None
    client = imap_connect(
        host=host,
        port=int(getattr(settings, "CRM_INBOUND_IMAP_PORT", 993)),
        username=str(getattr(settings, "CRM_INBOUND_IMAP_USER", "")),
        password=str(getattr(settings, "CRM_INBOUND_IMAP_PASSWORD", "")),
        ssl=bool(getattr(settings, "CRM_INBOUND_IMAP_SSL", True)),
    )
    try:
        return imap_fetch(
            client,
            mailbox=default_mailbox() or str(getattr(settings, "CRM_INBOUND_IMAP_USER", "")),
            folder=str(getattr(settings, "CRM_INBOUND_IMAP_FOLDER", "INBOX")),
        )
    finally:
        try:
            client.logout()
        except Exception:  # the server went away; the poll's work is already stored
            log.info("imap: logout failed", exc_info=True)


def imap_poll() -> int:
    """The beat task's body: fetch the CRM mailbox's new mail. Connection trouble is logged;
    the next beat tries again."""
    try:
        result = imap_poll_configured()
    except Exception as exc:  # imaplib's errors are not OSErrors; any failure waits for next beat
        log.warning("imap: poll failed: %s", exc)
        return 0
    return result.stored if result else 0
