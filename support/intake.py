"""Intake: tickets from the public request form, inbound email and chat/social webhooks.

Every path writes to PostgreSQL in the caller's transaction first (the ticket, the customer's
message, the identifiers it is known by) and queues outward work (the confirmation email)
through `crm.outbox` in the same transaction, so a submission is never lost when Redis or the
worker is down.

Threading: an email threads into a ticket by In-Reply-To/References naming a Message-ID support
sent or received (`MessageRef`), else by the ticket reference in the subject (`[T-000123]`). A
chat message threads by its conversation id. Auto-replies (Auto-Submitted, X-Autoreply,
Precedence bulk/junk/list/auto_reply, mailer-daemon) never open a ticket and are never answered.

Settings: `SUPPORT_EMAIL_ADDRESSES` (mail to these opens tickets; "address=Queue name" files it
in that queue; the first is the From of what support sends), `SUPPORT_DEFAULT_QUEUE` (queue name
for the form, mail and chat; empty: the first queue), `SUPPORT_CHAT_CHANNELS` (`{key: {"secret":
..., "kind": "chat"|"social"}}`).
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from contacts import services as contact_services
from contacts.models import Contact, ContactEmail
from crm import inbound, outbox
from crm.errors import DomainError, TransientError
from support import services
from support.models import (
    Channel,
    MessageKind,
    MessageRef,
    MessageRefKind,
    Queue,
    SenderIdentity,
    Status,
    SuggestionClick,
    Ticket,
    TicketAttachment,
    TicketMessage,
)

log = logging.getLogger(__name__)

CONFIRM_TASK = "support.tasks.ticket_confirmation_send"
REFERENCE = re.compile(r"\[#?T-?(\d{1,12})\]", re.IGNORECASE)
# Chinese mail programs write a full-width colon ("\uff1a") after 转发 and 发件人.
FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|转发|轉寄)\s*[:\uff1a]", re.IGNORECASE)
FORWARDED_FROM = re.compile(
    r"^\s*(?:>\s*)?(?:from|发件人|寄件者)\s*[:\uff1a]\s*(.+)$", re.IGNORECASE | re.MULTILINE
)
MAX_BODY_CHARS = 100_000
MAX_EMAIL_ATTACHMENT_BYTES = 10 * 1024 * 1024


# --- configuration ----------------------------------------------------------------------


def _address_routes() -> dict[str, str]:
    """SUPPORT_EMAIL_ADDRESSES entries: "help@example.com" (the default queue) or
    "billing@example.com=Billing" (mail to it opens tickets in the queue named Billing)."""
    routes: dict[str, str] = {}
    for entry in settings.SUPPORT_EMAIL_ADDRESSES:
        address, _sep, queue = entry.partition("=")
        if address.strip():
            routes[address.strip().lower()] = queue.strip()
    return routes


def support_addresses() -> set[str]:
    return set(_address_routes())


def support_from_address() -> str:
    addresses = list(_address_routes())
    return addresses[0] if addresses else settings.DEFAULT_FROM_EMAIL


def _queue_for(mail: inbound.InboundMail) -> Queue | None:
    """The queue of the support address the mail came to, else the default queue."""
    routes = _address_routes()
    for address in (mail.mailbox, *mail.recipients):
        if routes.get(address):
            queue = Queue.objects.select_related("lead").filter(name=routes[address]).first()
            if queue is not None:
                return queue
    return default_queue()


def default_queue() -> Queue | None:
    """The queue intake files tickets in: `SUPPORT_DEFAULT_QUEUE` by name, else the first."""
    queues = Queue.objects.select_related("lead").order_by("id")
    name = settings.SUPPORT_DEFAULT_QUEUE
    return (queues.filter(name=name).first() if name else None) or queues.first()


def message_id_for(ticket: Ticket, part: str) -> str:
    """A Message-ID for mail support sends about `ticket` (`part`: "confirm", a message id)."""
    domain = support_from_address().rpartition("@")[2].strip(" >") or "crm.invalid"
    return f"<ticket-{ticket.number}-{part}@{domain}>"


def _short(text: str, limit: int) -> str:
    return text.replace("\x00", "")[:limit]


# --- shared steps -------------------------------------------------------------------------


def _lock(key: str) -> None:
    """Serialise work on one outside id (a Message-ID, a chat message) until commit."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _idempotency_key(prefix: str, ref: str) -> str:
    return f"{prefix}:{hashlib.sha256(ref.encode()).hexdigest()[:40]}"


def _worker(ticket: Ticket) -> User:
    """Who intake acts for on an existing ticket: its assignee, else the queue lead."""
    return ticket.assignee or ticket.queue.lead


def _reopen(ticket: Ticket) -> None:
    """The customer answered: a pending or solved ticket is open again (ticket_set_status's
    rules: the SLA pause ends, solved is cleared)."""
    if ticket.status not in (Status.PENDING, Status.SOLVED):
        return
    try:
        services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=_worker(ticket))
    except (PermissionDenied, DomainError) as exc:  # a lead who left the queue: stays as is
        log.warning("intake: ticket %s not reopened: %s", ticket.reference, exc)


def _customer_message(ticket: Ticket, body: str) -> TicketMessage:
    text = _short(body, MAX_BODY_CHARS).strip() or _("(no text)")
    return TicketMessage.objects.create(ticket=ticket, kind=MessageKind.CUSTOMER, body=text)


def _attach(
    ticket: Ticket, message: TicketMessage | None, files: Sequence[tuple[str, str, bytes]]
) -> None:
    for name, content_type, content in files:
        clean = _short(name, 200) or "attachment"
        attachment = TicketAttachment(
            ticket=ticket,
            message=message,
            name=clean,
            size=len(content),
            content_type=_short(content_type, 100),
        )
        attachment.file.save(clean, ContentFile(content), save=False)
        attachment.save()


def _ref(ticket: Ticket, ref: str, kind: str, message: TicketMessage | None = None) -> None:
    MessageRef.objects.get_or_create(
        ref=ref[:255], defaults={"ticket": ticket, "kind": kind, "message": message}
    )


def _confirm(ticket: Ticket, *, language: str, in_reply_to: str = "") -> None:
    outbox.enqueue(
        CONFIRM_TASK, {"ticket_id": ticket.pk, "language": language, "in_reply_to": in_reply_to}
    )


def _new_ticket(
    *,
    queue: Queue,
    channel: str,
    subject: str,
    description: str,
    requester: Contact | None = None,
    email: str = "",
    name: str = "",
    idempotency_key: str = "",
) -> Ticket:
    data = services.TicketInput(
        subject=_short(subject, 200).strip() or _("(no subject)"),
        queue=queue,
        channel=channel,
        description=_short(description, MAX_BODY_CHARS),
        requester=requester,
        requester_email=email,
        requester_name=_short(name, 200),
        idempotency_key=idempotency_key,
    )
    return services.ticket_create(data=data, actor=None)


# --- the public request form ----------------------------------------------------------------


@dataclass
class WebRequest:
    """A request typed on the public form (already shape-checked by the form)."""

    name: str
    email: str
    subject: str
    description: str
    files: list[UploadedFile] = field(default_factory=list)
    language: str = ""
    visitor: uuid.UUID | None = None


def ticket_from_web(*, data: WebRequest) -> Ticket:
    """A public submission: the ticket (channel web form, requester matched by email or created),
    its attachments (private storage) and the confirmation email (outbox) in one transaction.
    Suggestions this visitor opened before submitting stop counting as deflections."""
    queue = default_queue()
    if queue is None:
        raise DomainError(_("Requests cannot be taken right now. Please email us instead."))
    with transaction.atomic():
        ticket = _new_ticket(
            queue=queue,
            channel=Channel.WEB,
            subject=data.subject,
            description=data.description,
            email=data.email,
            name=data.name,
        )
        for upload in data.files:
            attachment = TicketAttachment(
                ticket=ticket,
                name=_short(upload.name or "attachment", 200),
                size=upload.size or 0,
                content_type=_short(upload.content_type or "", 100),
            )
            attachment.file.save(attachment.name, upload, save=False)
            attachment.save()
        if data.visitor is not None:
            SuggestionClick.objects.filter(visitor=data.visitor, ticket__isnull=True).update(
                ticket=ticket
            )
        _confirm(ticket, language=data.language)
    return ticket


def suggestion_click_record(
    *, visitor: uuid.UUID, title: str, url: str, article_id: int | None, query: str, language: str
) -> SuggestionClick:
    """The visitor opened a suggestion; a deflection unless they submit a request afterwards."""
    return SuggestionClick.objects.create(
        visitor=visitor,
        article_id=article_id,
        title=_short(title, 200),
        url=_short(url, 500),
        query=_short(query, 200),
        language=_short(language, 10),
    )


# --- inbound email --------------------------------------------------------------------------


def is_auto_reply(mail: inbound.InboundMail) -> bool:
    """Automatic mail (crm.inbound.is_automatic), or mail with no sender to answer."""
    return not mail.from_address or inbound.is_automatic(mail)


def _thread(mail: inbound.InboundMail) -> Ticket | None:
    """The ticket `mail` answers: a stored Message-ID it references (newest first), else the
    reference in its subject."""
    if mail.references:
        found = (
            MessageRef.objects.filter(
                ref__in=[r[:255] for r in mail.references],
                kind__in=[MessageRefKind.EMAIL_IN, MessageRefKind.EMAIL_OUT],
            )
            .select_related("ticket__queue__lead", "ticket__assignee", "ticket__requester")
            .order_by("-created_at", "-id")
            .first()
        )
        if found is not None:
            return found.ticket
    match = REFERENCE.search(mail.subject)
    if match:
        return (
            Ticket.objects.select_related("queue__lead", "assignee", "requester")
            .filter(number=int(match.group(1)))
            .first()
        )
    return None


def _forwarded_sender(mail: inbound.InboundMail) -> tuple[str, str] | None:
    """For a mail an agent forwarded to support: the original sender (name, address) from the
    forwarded header block in the text, when there is one."""
    if not FORWARD_SUBJECT.match(mail.subject):
        return None
    if not User.objects.filter(email__iexact=mail.from_address, is_active=True).exists():
        return None
    match = FORWARDED_FROM.search(mail.text)
    if not match:
        return None
    name, address = email.utils.parseaddr(match.group(1).strip())
    return (name, address.lower()) if "@" in address else None


def _with_sender(mail: inbound.InboundMail, ticket: Ticket) -> str:
    """The mail's text, headed by its sender when that is not the requester (a colleague in
    copy, a forward), so the agent sees who wrote."""
    if mail.from_address == (ticket.requester.primary_email or "").lower():
        return mail.text
    sender = email.utils.formataddr((mail.from_name, mail.from_address))
    return _("From %(sender)s:") % {"sender": sender} + "\n\n" + mail.text


def _mail_files(mail: inbound.InboundMail) -> list[tuple[str, str, bytes]]:
    return [(a.filename, a.content_type, a.content) for a in mail.attachments]


def ticket_from_mail(mail: inbound.InboundMail) -> bool:
    """The inbound-mail handler (order 10). True when support took the message: it threaded
    into a ticket, opened one (mail to a support address; confirmation queued), or was an
    auto-reply or support's own mail coming back (dropped: no ticket, no answer). False for
    mail that is none of support's business, and for mail whose sender cannot be a requester
    (no usable From address): it stays stored, unmatched, for a person to look at. Idempotent on
    the Message-ID (an advisory lock and the unique `MessageRef`); atomic."""
    try:
        return _ticket_from_mail(mail)
    except DomainError as exc:
        log.warning("intake: %s left unmatched: %s", mail.message_id, exc.message)
        return False


def _ticket_from_mail(mail: inbound.InboundMail) -> bool:
    addresses = support_addresses()
    to_support = bool(addresses & {*mail.recipients, mail.mailbox})
    with transaction.atomic():
        _lock(mail.message_id)
        if MessageRef.objects.filter(ref=mail.message_id[:255]).exists():
            return True  # seen before: stored once
        if "@" not in mail.from_address:
            return False  # nobody to answer: left unmatched for a person
        ticket = _thread(mail)
        if mail.from_address in addresses:
            return to_support or ticket is not None  # our own mail came back: a loop
        if is_auto_reply(mail):
            if ticket is not None or to_support:
                log.info(
                    "intake: auto-reply %s from %s dropped", mail.message_id, mail.from_address
                )
                return True
            return False
        if ticket is not None and ticket.status != Status.CLOSED:
            message = _customer_message(ticket, _with_sender(mail, ticket))
            _attach(ticket, message, _mail_files(mail))
            _ref(ticket, mail.message_id, MessageRefKind.EMAIL_IN, message)
            _reopen(ticket)
            return True
        if ticket is None and not to_support:
            return False
        queue = ticket.queue if ticket is not None else _queue_for(mail)
        if queue is None:
            log.error("intake: no support queue; %s left to other handlers", mail.message_id)
            return False
        name, address = _forwarded_sender(mail) or (mail.from_name, mail.from_address)
        description = mail.text
        if ticket is not None:  # a reply to a closed ticket opens a follow-up
            description = _("Follow-up to %(reference)s.") % {"reference": ticket.reference}
            description += "\n\n" + mail.text
        created = _new_ticket(
            queue=queue,
            channel=Channel.EMAIL,
            subject=" ".join(REFERENCE.sub("", mail.subject).split()),
            description=description,
            email=address,
            name=name,
            idempotency_key=_idempotency_key("mail", mail.message_id),
        )
        _attach(created, None, _mail_files(mail))
        _ref(created, mail.message_id, MessageRefKind.EMAIL_IN)
        _confirm(created, language=settings.LANGUAGE_CODE, in_reply_to=mail.message_id)
    return True


def register() -> None:
    """Called from SupportConfig.ready()."""
    inbound.register_handler(
        inbound.InboundHandler(key="support", handle=ticket_from_mail, order=10)
    )


# --- chat and social ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatMessage:
    """One message from a chat or social channel's webhook (shape-checked by the view)."""

    channel: str  # the channel's key in SUPPORT_CHAT_CHANNELS
    kind: str  # Channel.CHAT or Channel.SOCIAL
    message_id: str
    conversation_id: str
    text: str
    sender_name: str = ""
    sender_email: str = ""
    sender_handle: str = ""


def _known_sender(channel: str, handle: str) -> Contact | None:
    """The contact a channel's handle became before (following merges), if still active."""
    identity = (
        SenderIdentity.objects.filter(channel=channel, handle=handle)
        .select_related("contact")
        .first()
    )
    contact = identity.contact if identity is not None else None
    for _step in range(5):  # a merged contact's survivor (a short chain at most)
        if contact is None or contact.merged_into_id is None:
            break
        contact = Contact.objects.filter(pk=contact.merged_into_id).first()
    if contact is None or contact.archived_at is not None:
        return None
    return contact


def _chat_requester(chat: ChatMessage, queue: Queue) -> Contact:
    """The sender's contact: the one their (channel, handle) became before, else by email, else
    a new contact named by the handle; the handle is then tied to it (`SenderIdentity`), so a
    sender known only by a handle is one contact across conversations."""
    handle = chat.sender_handle.strip().lower()[:100]
    channel = chat.channel[:50]
    if handle:
        _lock(f"support-sender:{channel}:{handle}")  # one contact per handle, even in a race
        known = _known_sender(channel, handle)
        if known is not None:
            return known
    contact = _chat_contact(chat, queue)
    if handle:
        SenderIdentity.objects.update_or_create(
            channel=channel, handle=handle, defaults={"contact": contact}
        )
    return contact


def _chat_contact(chat: ChatMessage, queue: Queue) -> Contact:
    """By email, else a new contact named by the sender's name or handle."""
    if chat.sender_email:
        found = (
            ContactEmail.objects.filter(  # stored lowercase: the index (services._requester)
                email=chat.sender_email.strip().lower(), contact__archived_at__isnull=True
            )
            .select_related("contact")
            .order_by("-is_primary", "id")
            .first()
        )
        if found is not None:
            return found.contact
    name = chat.sender_name.strip() or chat.sender_handle.strip() or _("Chat visitor")
    given, _sep, family = name.partition(" ")
    values: dict[str, object] = {
        "given_name": given[:100],
        "family_name": family[:100],
        "owner": queue.lead,
    }
    if chat.kind == Channel.SOCIAL and chat.sender_handle:
        values["x_handle"] = chat.sender_handle[:100]
    emails = [contact_services.EmailInput(email=chat.sender_email, is_primary=True)]
    return contact_services.contact_create(
        data=contact_services.ContactInput(
            values=values, emails=emails if chat.sender_email else []
        ),
        actor=queue.lead,
    )


def ticket_from_chat(*, chat: ChatMessage) -> tuple[Ticket, bool]:
    """File a chat or social message: into the conversation's ticket while it is not closed
    (a pending or solved one reopens), else a new ticket. (ticket, created). Idempotent on the
    message id: a repeated delivery changes nothing and returns the same ticket. Atomic."""
    message_ref = f"chat:{chat.channel}:{chat.message_id}"
    thread_ref = f"chat:{chat.channel}:conversation:{chat.conversation_id}"
    with transaction.atomic():
        _lock(thread_ref)
        seen = MessageRef.objects.filter(ref=message_ref[:255]).select_related("ticket").first()
        if seen is not None:
            return seen.ticket, False
        thread = (
            MessageRef.objects.filter(ref=thread_ref[:255])
            .select_related("ticket__queue__lead", "ticket__assignee")
            .first()
        )
        if thread is not None and thread.ticket.status != Status.CLOSED:
            ticket = thread.ticket
            message = _customer_message(ticket, chat.text)
            _ref(ticket, message_ref, MessageRefKind.CHAT, message)
            _reopen(ticket)
            return ticket, False
        queue = thread.ticket.queue if thread is not None else default_queue()
        if queue is None:
            raise DomainError(_("No support queue is set up."))
        text = chat.text.strip()
        ticket = _new_ticket(
            queue=queue,
            channel=chat.kind,
            subject=text.splitlines()[0][:120] if text else _("Chat conversation"),
            description=text,
            requester=_chat_requester(chat, queue),
        )
        _ref(ticket, message_ref, MessageRefKind.CHAT)
        if thread is None:
            _ref(ticket, thread_ref, MessageRefKind.CONVERSATION)
        else:
            MessageRef.objects.filter(pk=thread.pk).update(ticket=ticket)
    return ticket, True


# --- outbound mail --------------------------------------------------------------------------


def _thread_headers(ticket: Ticket, *, in_reply_to: str = "") -> dict[str, str]:
    """In-Reply-To/References so the customer's mail program threads support's mail."""
    last_in = in_reply_to or (
        MessageRef.objects.filter(ticket=ticket, kind=MessageRefKind.EMAIL_IN)
        .order_by("-created_at", "-id")
        .values_list("ref", flat=True)
        .first()
    )
    return {"In-Reply-To": last_in, "References": last_in} if last_in else {}


def reply_email(ticket: Ticket, message: TicketMessage, address: str) -> EmailMessage:
    """The email of an agent's public reply: from the support address, the reference in the
    subject, a Message-ID stored on the ticket (the customer's answer threads by it)."""
    message_id = message_id_for(ticket, str(message.pk))
    _ref(ticket, message_id, MessageRefKind.EMAIL_OUT, message)
    email = EmailMessage(
        subject=f"[{ticket.reference}] {ticket.subject}",
        body=message.body,
        from_email=support_from_address(),
        to=[address],
        headers={"Message-ID": message_id, **_thread_headers(ticket)},
    )
    budget = MAX_EMAIL_ATTACHMENT_BYTES
    for attachment in TicketAttachment.objects.filter(message=message).order_by("id"):
        if attachment.size > budget:
            continue  # too big to mail; the agent sees it on the ticket
        budget -= attachment.size
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type or None)
    return email


def ticket_confirmation_deliver(*, ticket_id: int, language: str, in_reply_to: str = "") -> bool:
    """Email the requester that their request was received, with the ticket number. At most
    once: the confirmation's Message-ID row is the claim (released when the send fails, then
    TransientError for a retry). Marked Auto-Submitted so autoresponders do not answer it.
    False when there is nothing to send (already sent, no address, an automatic sender)."""
    ticket = Ticket.objects.select_related("requester").filter(pk=ticket_id).first()
    if ticket is None:
        return False
    address = ticket.requester.primary_email
    if not address or inbound.is_automatic_sender(address):
        return False
    message_id = message_id_for(ticket, "confirm")
    try:
        with transaction.atomic():
            claim = MessageRef.objects.create(
                ticket=ticket, ref=message_id, kind=MessageRefKind.EMAIL_OUT
            )
    except IntegrityError:
        return False
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = _("[%(reference)s] We received your request: %(subject)s") % {
            "reference": ticket.reference,
            "subject": ticket.subject,
        }
        body = render_to_string("support/public/confirmation_email.txt", {"ticket": ticket})
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=support_from_address(),
        to=[address],
        headers={
            "Message-ID": message_id,
            "Auto-Submitted": "auto-replied",
            **_thread_headers(ticket, in_reply_to=in_reply_to),
        },
    )
    try:
        email.send()
    except OSError as exc:
        MessageRef.objects.filter(pk=claim.pk).delete()
        raise TransientError(str(exc)) from exc
    return True


def deflections(*, since: object = None) -> int:
    """How many opened suggestions were not followed by a request (for reports)."""
    qs = SuggestionClick.objects.filter(ticket__isnull=True)
    if since is not None:
        qs = qs.filter(Q(created_at__gte=since))
    return qs.count()
