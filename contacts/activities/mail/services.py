"""Email on the timeline: inbound mail matched to contacts, outbound mail sent once.

Inbound (`inbound_handle`, registered as the last inbound handler): the sender's and the
recipients' addresses are looked up among contacts' email addresses (ContactEmail; the CRM's own
addresses and users' are left out); a reply from an unknown address that answers a message
already on the timeline (References / In-Reply-To) joins that message's contacts. Each matched
contact (up to MAX_CONTACTS) gets one inbound email interaction, owned by the contact's owner,
with the message's headers, thread and attachments. Idempotent on the Message-ID: a message
handled twice is stored once per contact (a unique constraint).

Outbound (`mail_compose` then `mail_deliver`): the interaction and its queued email row are
written with the task that sends it (crm.outbox), in one transaction; the task claims the row
(queued -> sending, a conditional update), sends through Django's email backend (anymail in
production) and stores the provider's message id. A refused connection releases the claim and
raises TransientError (retried); a worker that dies after sending leaves the row "sending" and
never sends again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import formataddr, make_msgid, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import User
from contacts.activities import services as activity_services
from contacts.activities import targets
from contacts.activities.mail.html import sanitise, text_to_html
from contacts.activities.mail.models import (
    MailAttachment,
    Mailbox,
    MailMessage,
    MailStatus,
    MailTemplate,
)
from contacts.activities.models import Channel, Direction, Interaction, NotificationKind
from contacts.activities.notifications import notify
from contacts.models import Contact, ContactEmail
from crm import crypto, inbound, mailin, outbox
from crm.errors import DomainError, TransientError
from crm.models import InboundMessage, InboundStatus

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

HANDLER_KEY = "activities"
SEND_TASK = "contacts.activities.mail.tasks.mail_send"
MAX_CONTACTS = 10  # a message to a whole mailing list does not fan out further
MAX_BODY = 200_000
MAX_SUBJECT = 200


def max_attachment_bytes() -> int:
    """Total size of the files attached to one outgoing email."""
    return int(getattr(settings, "CRM_MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


# --- inbound ---------------------------------------------------------------------------------


def _own_addresses(mail: inbound.InboundMail) -> set[str]:
    """Addresses that are the CRM or its users: never matched to a customer."""
    own = {mail.mailbox, mailin.default_mailbox(), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}
    candidates = {mail.from_address, *mail.recipients}
    own |= {
        e.lower()
        for e in User.objects.filter(email__in=[c for c in candidates if c]).values_list(
            "email", flat=True
        )
    }
    return {a.lower() for a in own if a}


def matching_contacts(addresses: Sequence[str]) -> list[Contact]:
    """Active contacts with one of `addresses`, those of earlier addresses first (the sender's
    before the recipients'), oldest contact first within one address. One query."""
    wanted = [a for a in dict.fromkeys(addresses) if a]
    if not wanted:
        return []
    rows = (
        ContactEmail.objects.filter(email__in=wanted, contact__archived_at__isnull=True)
        .select_related("contact__owner", "contact__company")
        .order_by("contact_id")
    )
    by_address: dict[str, list[Contact]] = {}
    for row in rows:
        by_address.setdefault(row.email.lower(), []).append(row.contact)
    found: dict[int, Contact] = {}
    for address in wanted:
        for contact in by_address.get(address, []):
            found.setdefault(contact.pk, contact)
    return list(found.values())[:MAX_CONTACTS]


def _earlier(references: Iterable[str]) -> MailMessage | None:
    """The newest message on file that this one answers or references."""
    refs = [r for r in references if r]
    if not refs:
        return None
    return (
        MailMessage.objects.filter(message_id__in=refs)
        .select_related("contact__owner", "contact__company")
        .order_by("-created_at")
        .first()
    )


def inbound_handle(mail: inbound.InboundMail) -> bool:
    """The inbound handler (order 100, the last): log the message on every matching contact's
    timeline. False when no contact matches the sender, the recipients or the thread (the
    message then waits in the unmatched-mail queue). Idempotent on the Message-ID."""
    own = _own_addresses(mail)
    addresses = [a for a in (mail.from_address, *mail.recipients) if a not in own]
    contacts = matching_contacts(addresses)
    earlier = _earlier(mail.references)
    if not contacts and earlier is not None and earlier.contact is not None:
        contacts = [earlier.contact]  # a colleague of the customer answering in the thread
    if not contacts:
        return False
    direction = Direction.OUTBOUND if mail.from_address in own else Direction.INBOUND
    for contact in contacts:
        record_mail(mail=mail, contact=contact, owner=contact.owner, direction=direction)
    return True


def _thread_id(mail: inbound.InboundMail) -> str:
    earlier = _earlier(mail.references)
    return earlier.thread_id if earlier is not None else mail.message_id


def record_mail(
    *,
    mail: inbound.InboundMail,
    contact: Contact,
    owner: User,
    direction: str = Direction.INBOUND,
    inbound_row: InboundMessage | None = None,
) -> MailMessage:
    """Store a received message on one contact's timeline (an email interaction, its headers and
    attachments), or return the copy already there. Atomic."""
    existing = MailMessage.objects.filter(message_id=mail.message_id[:500], contact=contact).first()
    if existing is not None:
        return existing
    now = timezone.now()
    occurred = mail.sent_at if mail.sent_at and mail.sent_at <= now else now
    try:
        with transaction.atomic():
            interaction = Interaction.objects.create(
                channel=Channel.EMAIL,
                direction=direction,
                subject=mail.subject[:MAX_SUBJECT],
                body=mail.text[:MAX_BODY],
                occurred_at=occurred,
                contact=contact,
                company=contact.company,
                logged_by=owner,
                owner=owner,
                team=contact.team,
            )
            message = mail_store(
                interaction=interaction, mail=mail, contact=contact, inbound_row=inbound_row
            )
            activity_services._raise_last_contacted(interaction)
            if direction == Direction.INBOUND:
                _tell_owner(interaction, mail)
    except IntegrityError:  # the same message, stored meanwhile by another delivery
        return MailMessage.objects.get(message_id=mail.message_id[:500], contact=contact)
    return message


def mail_store(
    *,
    interaction: Interaction,
    mail: inbound.InboundMail,
    contact: Contact | None,
    inbound_row: InboundMessage | None = None,
) -> MailMessage:
    """The received message's row (headers, sanitised HTML) for `interaction`, and its
    attachments in private storage. In the caller's transaction; `contact` None for an email
    on another record (a lead's, through the interaction's generic target)."""
    message = MailMessage.objects.create(
        interaction=interaction,
        contact=contact,
        message_id=mail.message_id[:500],
        thread_id=_thread_id(mail)[:500],
        in_reply_to=mail.in_reply_to[:500],
        references=list(mail.references)[-50:],
        from_address=mail.from_address[:320],
        from_name=mail.from_name[:200],
        to=list(mail.to)[:100],
        cc=list(mail.cc)[:100],
        html=sanitise(mail.html),
        status=MailStatus.RECEIVED,
        sent_at=mail.sent_at,
        inbound=inbound_row,
    )
    for item in mail.attachments:
        attachment = MailAttachment(
            mail=message,
            filename=item.filename.replace("\x00", "")[:255] or "attachment",
            content_type=item.content_type[:100],
            size=len(item.content),
        )
        attachment.file.save(item.filename or "attachment", ContentFile(item.content))
    return message


def _tell_owner(interaction: Interaction, mail: inbound.InboundMail) -> None:
    """The contact's owner hears of a received email (topic "mail": in the app by default)."""
    notify(
        recipient=interaction.owner,
        kind=NotificationKind.MAIL,
        target=interaction,
        actor=None,
        text=format_lazy(
            gettext_lazy("Email from {sender}: {subject}"),
            sender=mail.from_name or mail.from_address,
            subject=mail.subject[:MAX_SUBJECT] or gettext_lazy("(no subject)"),
        ),
    )


# --- the unmatched-mail queue -----------------------------------------------------------------


def _require_triage(actor: User) -> None:
    if not access.has_model_perm(actor, MailMessage, "triage"):
        raise PermissionDenied(_("You may not sort unmatched mail."))


@transaction.atomic
def unmatched_attach(*, inbound_row: InboundMessage, contact: Contact, actor: User) -> MailMessage:
    """Log a queued (unmatched or failed) message on a contact the actor may see, owned by the
    actor, and take it out of the queue. Atomic. A message too big to process is logged by its
    headers and text, without its attachments (the original stays stored)."""
    _require_triage(actor)
    if not access.can(actor, contact, "view"):
        raise DomainError(_("No such record, or you do not have access to it."), field="contact")
    if not access.can_add(actor, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    row = InboundMessage.objects.select_for_update().get(pk=inbound_row.pk)
    if row.status not in (InboundStatus.UNMATCHED, InboundStatus.FAILED):
        raise DomainError(_("This message has already been sorted."))
    raw = mailin.raw_bytes(row)
    mail = inbound.parse(raw, mailbox=row.mailbox)
    if row.size > mailin.process_limit():
        mail = _without_attachments(mail)
    message = record_mail(mail=mail, contact=contact, owner=actor, inbound_row=row)
    mailin.mark_claimed(inbound_id=row.pk, handler=HANDLER_KEY)
    return message


def _without_attachments(mail: inbound.InboundMail) -> inbound.InboundMail:
    from dataclasses import replace

    return replace(mail, attachments=())


@transaction.atomic
def unmatched_create_contact(*, inbound_row: InboundMessage, actor: User) -> MailMessage:
    """Create a contact from a queued message's sender (name and address; owned by the actor)
    and log the message on it. Atomic."""
    from contacts import services as contact_services

    _require_triage(actor)
    if not inbound_row.from_address or "@" not in inbound_row.from_address:
        raise DomainError(_("The message has no sender address to create a contact from."))
    name = parseaddr(_from_header(inbound_row))[0] or inbound_row.from_address.split("@")[0]
    given, _sep, family = name.strip().partition(" ")
    contact = contact_services.contact_create(
        data=contact_services.ContactInput(
            values={"given_name": given[:100], "family_name": family[:100], "owner": actor},
            emails=[contact_services.EmailInput(inbound_row.from_address)],
        ),
        actor=actor,
    )
    return unmatched_attach(inbound_row=inbound_row, contact=contact, actor=actor)


def _from_header(row: InboundMessage) -> str:
    head = mailin.raw_bytes(row)[:65536]
    try:
        return str(inbound.parse(head).from_name) + f" <{row.from_address}>"
    except Exception:
        return row.from_address


# --- templates and merge fields -----------------------------------------------------------------

MERGE_FIELD = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
MERGE_FIELDS = ("first_name", "last_name", "full_name", "company", "email", "sender_name")


def merge_values(
    *, contact: Contact | None, to: str, sender: User, record: Model | None = None
) -> dict[str, str]:
    """The merge fields' values: the contact's, or a registered record's (`targets.mail_fields`:
    a lead's names and company)."""
    if contact is None:
        fields = (targets.mail_fields(record) if record is not None else None) or {}
        names = ("first_name", "last_name", "full_name", "company")
        return {
            **{name: fields.get(name, "") for name in names},
            "email": to,
            "sender_name": sender.get_full_name() or sender.email,
        }
    return {
        "first_name": contact.given_name,
        "last_name": contact.family_name,
        "full_name": str(contact),
        "company": contact.company.name if contact.company_id and contact.company else "",
        "email": to,
        "sender_name": sender.get_full_name() or sender.email,
    }


def merge_check(text: str) -> None:
    """Raise DomainError naming a merge field that does not exist."""
    unknown = sorted({m for m in MERGE_FIELD.findall(text) if m not in MERGE_FIELDS})
    if unknown:
        raise DomainError(
            _("Unknown merge field: %(fields)s. Use %(known)s.")
            % {
                "fields": ", ".join(f"{{{{ {f} }}}}" for f in unknown),
                "known": ", ".join(f"{{{{ {f} }}}}" for f in MERGE_FIELDS),
            }
        )


def merge(text: str, values: dict[str, str]) -> str:
    """Replace `{{ field }}` by the value: plain substitution, nothing else is evaluated (the
    text is not a Django template, so a template cannot reach any other attribute)."""
    return MERGE_FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def template_render(
    *,
    template: MailTemplate,
    contact: Contact | None,
    to: str,
    sender: User,
    record: Model | None = None,
) -> tuple[str, str]:
    values = merge_values(contact=contact, to=to, sender=sender, record=record)
    return merge(template.subject, values), merge(template.body, values)


# --- outbound --------------------------------------------------------------------------------


@dataclass
class OutgoingMail:
    to: str
    subject: str
    body: str
    attachments: Sequence[UploadedFile | File[bytes]] = field(default_factory=list)
    reply_to: MailMessage | None = None
    formatted: bool = False  # also send an HTML alternative (paragraphs, links)


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "crm.localhost"


@transaction.atomic
def mail_compose(
    *,
    contact: Contact | None = None,
    data: OutgoingMail,
    actor: User,
    record: Model | None = None,
) -> MailMessage:
    """Queue an email to one of a contact's addresses, or to a registered record's
    (`targets.mail_fields`: a lead's, `record`): an outbound email interaction (on the timeline
    at once, status "queued"; a record's is linked to it alone, with its target's rules), its
    Message-ID, its attachments, and the task that sends it after commit. Atomic; the actor must
    see the contact (record) and may log interactions. Merge fields in the subject and body are
    filled in here."""
    fields = targets.mail_fields(record) if record is not None else None
    seen = contact if record is None else record
    if (
        seen is None
        or (record is not None and fields is None)
        or not access.can(actor, seen, "view")
    ):
        raise PermissionDenied(_("No such record, or you do not have access to it."))
    to = data.to.strip().lower()
    if fields is not None:
        if not fields.get("email") or to != fields["email"].strip().lower():
            raise DomainError(_("Write to the record's email address."), field="to")
    elif contact is None or to not in {
        e.lower() for e in contact.emails.values_list("email", flat=True)
    }:
        raise DomainError(_("Choose one of the contact's email addresses."), field="to")
    subject = data.subject.replace("\x00", "").replace("\n", " ").strip()
    body = data.body.replace("\x00", "").replace("\r\n", "\n").strip()
    if not subject:
        raise DomainError(_("Write a subject."), field="subject")
    if not body:
        raise DomainError(_("Write a message."), field="body")
    if len(subject) > MAX_SUBJECT:
        raise DomainError(_("The subject is too long."), field="subject")
    merge_check(subject + body)
    total = sum(int(f.size or 0) for f in data.attachments)
    if total > max_attachment_bytes():
        raise DomainError(
            _("Attachments may total %(mb)s MB at most.")
            % {"mb": max_attachment_bytes() // (1024 * 1024)},
            field="attachments",
        )
    values = merge_values(contact=contact, to=to, sender=actor, record=record)
    subject, body = merge(subject, values), merge(body, values)
    interaction = activity_services.interaction_log(
        data=activity_services.InteractionInput(
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            occurred_at=timezone.now(),
            contact=contact,
            target=record,
            subject=subject[:MAX_SUBJECT],
            body=body,
        ),
        actor=actor,
    )
    box = Mailbox.objects.filter(owner=actor, active=True).exclude(smtp_host="").first()
    from_address = box.address if box else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    message_id = make_msgid(domain=from_address.rpartition("@")[2] or _domain())
    reply = data.reply_to
    message = MailMessage.objects.create(
        interaction=interaction,
        contact=contact,
        message_id=message_id,
        thread_id=reply.thread_id if reply else message_id,
        in_reply_to=reply.message_id if reply else "",
        references=[*reply.references, reply.message_id][-50:] if reply else [],
        from_address=from_address,
        from_name=actor.get_full_name(),
        to=[to],
        html=text_to_html(body) if data.formatted else "",
        status=MailStatus.QUEUED,
        mailbox=box,
        tracked=bool(data.formatted) and tracking_enabled(box),
    )
    for upload in data.attachments:
        name = str(upload.name or "attachment").replace("\x00", "")[:255]
        attachment = MailAttachment(
            mail=message,
            filename=name,
            content_type=str(getattr(upload, "content_type", "") or "")[:100],
            size=int(upload.size or 0),
        )
        attachment.file.save(name, upload)
    outbox.enqueue(SEND_TASK, {"mail_id": message.pk})
    return message


def tracking_switches(box: Mailbox | None = None) -> tuple[bool, bool]:
    """(opens, clicks): what email written now, or sent now, may track: the admin's global
    switch and, for mail through a personal mailbox, that mailbox's own switch."""
    from contacts.activities.tracking.models import TrackingSettings

    switch = TrackingSettings.current()
    opens, clicks = switch.track_opens, switch.track_clicks
    if box is not None:
        opens, clicks = opens and box.track_opens, clicks and box.track_clicks
    return opens, clicks


def tracking_enabled(box: Mailbox | None = None) -> bool:
    """Whether an email written now gets an open pixel or tracked links."""
    return any(tracking_switches(box))


def _html_as_sent(message: MailMessage) -> str:
    """The stored HTML part, with the open pixel and tracked links when the email is tracked
    (the switches read again: one turned off since, that part goes out plain)."""
    if not message.tracked:
        return message.html
    from contacts.activities.tracking import services as tracking

    opens, clicks = tracking_switches(message.mailbox)  # select_related by the sender
    return tracking.tracked_html(message.html, mail_id=message.pk, opens=opens, clicks=clicks)


def _transient(exc: Exception) -> bool:
    if isinstance(exc, OSError):  # smtplib.SMTPException is one: network or server refusal
        return True
    try:
        from anymail.exceptions import (  # type: ignore[import-untyped]
            AnymailAPIError,
            AnymailRecipientsRefused,
        )
    except ImportError:  # pragma: no cover
        return False
    status = getattr(exc, "status_code", None)
    return (
        isinstance(exc, AnymailAPIError)
        and not isinstance(exc, AnymailRecipientsRefused)
        and (status is None or status >= 500 or status == 429)
    )


def mail_deliver(*, mail_id: int, last_try: bool = False) -> bool:
    """Send one queued email. At most once: the row is claimed (queued -> sending) before the
    send; False when there is nothing to send (already claimed or sent). A transient failure
    puts it back to queued and raises TransientError (on the last try it is marked failed); a
    permanent one marks it failed with the reason."""
    claimed = MailMessage.objects.filter(pk=mail_id, status=MailStatus.QUEUED).update(
        status=MailStatus.SENDING, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return False
    message = MailMessage.objects.select_related("interaction", "mailbox").get(pk=mail_id)
    headers = {"Message-ID": message.message_id}
    box = message.mailbox if message.mailbox and message.mailbox.smtp_host else None
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = " ".join(message.references)
    reply_to = [mailin.default_mailbox()] if mailin.default_mailbox() and not box else []
    connection = None
    from_email = settings.DEFAULT_FROM_EMAIL
    if box is not None:  # the user's own account: replies come back to their synced inbox
        from contacts.activities.mail.mailboxes import smtp_connection

        try:
            connection = smtp_connection(box)
        except crypto.InvalidToken:
            error = _("The mailbox's SMTP password cannot be decrypted; enter it again.")
            MailMessage.objects.filter(pk=mail_id).update(status=MailStatus.FAILED, error=error)
            return False
        from_email = formataddr((message.from_name, box.address))
    email = EmailMultiAlternatives(
        subject=message.interaction.subject,
        body=message.interaction.body,
        from_email=from_email,
        to=list(message.to),
        reply_to=reply_to,
        headers=headers,
        connection=connection,
    )
    if message.html:
        email.attach_alternative(_html_as_sent(message), "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type or None)
    try:
        email.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if _transient(exc) and not last_try:
            MailMessage.objects.filter(pk=mail_id, status=MailStatus.SENDING).update(
                status=MailStatus.QUEUED, error=error
            )
            raise TransientError(error) from exc
        MailMessage.objects.filter(pk=mail_id).update(status=MailStatus.FAILED, error=error)
        return False
    status = getattr(email, "anymail_status", None)
    provider_id = str(getattr(status, "message_id", "") or "") or message.message_id
    MailMessage.objects.filter(pk=mail_id).update(
        status=MailStatus.SENT,
        sent_at=timezone.now(),
        provider_message_id=provider_id[:255],
        error="",
    )
    return True
