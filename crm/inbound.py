"""Inbound email: one path for every app that receives mail.

Mail arrives by a provider's webhook or by polling a mailbox (IMAP); the receiving side stores the
raw message in PostgreSQL first, then a task parses it (`parse`) and offers it to the registered
handlers in `order` (`dispatch`). The first handler that returns True has claimed it: support
threads a reply into its ticket or opens one, activities logs it on a contact's timeline, leads
creates a lead from the leads address. A handler that does not recognise a message returns False
and the next one is asked.

    inbound.register_handler(inbound.InboundHandler(
        key="support", order=10, handle=support_services.ticket_from_mail,
    ))

Handlers must be idempotent on `mail.message_id`: a message may be dispatched again after a
worker died half-way.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage

from django.utils import timezone

from crm.registry import Registry

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# Senders that are machines (bounces, no-reply addresses): never answered, never a new record.
AUTO_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply")
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMail:
    """A parsed message. Addresses are lower-cased; `references` holds In-Reply-To's and
    References' message ids, oldest first; `text` is the plain body (or the HTML's text)."""

    message_id: str
    subject: str
    from_address: str
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    text: str = ""
    html: str = ""
    calendar: str = ""  # the first text/calendar body part (an iTIP REPLY, REQUEST, …)
    attachments: tuple[InboundAttachment, ...] = ()
    sent_at: datetime | None = None
    mailbox: str = ""  # the address or mailbox it was received at
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc


@dataclass(frozen=True)
class InboundHandler:
    key: str
    handle: Callable[[InboundMail], bool]
    order: int = 100


handlers: Registry[InboundHandler] = Registry(
    "inbound mail handlers", key=lambda h: h.key, order=lambda h: h.order
)


def register_handler(handler: InboundHandler) -> InboundHandler:
    return handlers.register(handler)


def dispatch(mail: InboundMail) -> str | None:
    """Offer `mail` to each handler in order; the key of the one that claimed it, or None."""
    for handler in handlers:
        if handler.handle(mail):
            return handler.key
    return None


def _addresses(values: list[str]) -> tuple[str, ...]:
    pairs = email.utils.getaddresses(values)
    return tuple(address.strip().lower() for _, address in pairs if "@" in address)


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(value or ""))


def _header_values(message: EmailMessage, name: str) -> list[str]:
    """Every value of header `name`, decoded; a value the email package cannot parse (e.g.
    `From: weird@`, which raises inside it) is returned as its raw text instead."""
    try:
        return [str(v) for v in message.get_all(name, [])]
    except Exception:  # the email package's header parser raises IndexError, HeaderParseError...
        return [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]


def _header(message: EmailMessage, name: str) -> str:
    values = _header_values(message, name)
    return values[0] if values else ""


def parse(raw: bytes, *, mailbox: str = "") -> InboundMail:
    """Parse an RFC 5322 message. Never raises on malformed input: what cannot be read is
    left empty (a missing Message-ID gets a stable one from the content)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    from_pairs = email.utils.getaddresses([_header(message, "From")])
    from_name, from_address = from_pairs[0] if from_pairs else ("", "")
    text = html = calendar = ""
    attachments: list[InboundAttachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        if disposition == "attachment" or (disposition == "inline" and part.get_filename()):
            payload = part.get_payload(decode=True) or b""
            if isinstance(payload, bytes) and len(payload) <= MAX_ATTACHMENT_BYTES:
                attachments.append(
                    InboundAttachment(part.get_filename() or "attachment", content_type, payload)
                )
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError, AssertionError):
            payload = part.get_payload(decode=True) or b""
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if not isinstance(content, str):
            continue
        if content_type == "text/plain" and not text:
            text = content
        elif content_type == "text/html" and not html:
            html = content
        elif content_type == "text/calendar" and not calendar:
            calendar = content
    if not text and html:
        from django.utils.html import strip_tags

        text = strip_tags(html)
    message_ids = _ids(_header(message, "Message-ID"))
    if message_ids:
        message_id = message_ids[0]
    else:
        import hashlib

        message_id = f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"
    in_reply_to = _ids(_header(message, "In-Reply-To"))
    references = _ids(_header(message, "References"))
    for ref in in_reply_to:
        if ref not in references:
            references = (*references, ref)
    sent_at = None
    try:
        sent_at = email.utils.parsedate_to_datetime(_header(message, "Date"))
        if sent_at is not None and timezone.is_naive(sent_at):
            sent_at = timezone.make_aware(sent_at, UTC)
    except (TypeError, ValueError, IndexError):
        sent_at = None
    return InboundMail(
        message_id=message_id,
        subject=_header(message, "Subject").replace("\x00", "")[:998],
        from_address=from_address.strip().lower(),
        from_name=from_name.replace("\x00", ""),
        to=_addresses(_header_values(message, "To")),
        cc=_addresses(_header_values(message, "Cc")),
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=references,
        text=text.replace("\x00", ""),
        html=html.replace("\x00", ""),
        calendar=calendar.replace("\x00", ""),
        attachments=tuple(attachments),
        sent_at=sent_at,
        mailbox=mailbox.lower(),
        headers={
            k: _header(message, k)
            for k in message.keys()  # noqa: SIM118 (an email Message, not a dict)
            if k.lower().startswith(("x-", "auto-", "precedence"))
        },
    )


def is_automatic_sender(address: str) -> bool:
    return address.partition("@")[0].lower() in AUTO_SENDERS


def is_automatic(mail: InboundMail) -> bool:
    """Out-of-office notices, bounces, list and bulk mail (RFC 3834 and common practice): no
    handler opens a record for them or answers them."""
    headers = {k.lower(): v.strip().lower() for k, v in mail.headers.items()}
    if headers.get("auto-submitted", "no") not in ("", "no"):
        return True
    if headers.keys() & {"x-autoreply", "x-autorespond"}:
        return True
    return headers.get("precedence", "") in BULK_PRECEDENCE or is_automatic_sender(
        mail.from_address
    )
