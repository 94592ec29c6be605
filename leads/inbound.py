"""Leads by email: mail to a leads address becomes a lead (crm.inbound handler, order 20).

Support's handler (order 10) is asked first and activities' (100) last. Mail to one of the
addresses in `LEADS_EMAIL_ADDRESSES` ("leads@example.com", or "leads@example.com=owner@example.com"
to name the user who owns the leads no assignment rule takes) is captured with
`services.lead_create`: source email, the sender's name and address, the subject and body as the
notes, matched against leads and contacts like every capture (the admin's duplicate policy for
the email source says whether a match is flagged), and the assignment rules run after commit
through the outbox; the message itself, with its attachments, is kept on the lead as an email
interaction (`trail.mail_on_lead`). The Message-ID is the capture key, so a message dispatched
twice (a worker that died half-way, a provider's retry) makes one lead and one email.
Auto-replies, bounces and our own mail coming back are claimed and dropped; mail without a usable
sender is left unmatched for a person. An answer to an email written to an open lead from its page
(its In-Reply-To or References name that email) is kept on that lead, whatever address it came
to; a converted lead's answers go to its contact through activities' handler.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import transaction

from accounts.models import User
from crm import inbound
from crm.errors import DomainError
from leads import scoring, services, trail
from leads.models import Lead, LeadSource, LeadStatus

log = logging.getLogger(__name__)

HANDLER_KEY = "leads"
MAX_NOTES_CHARS = 20_000


def address_routes() -> dict[str, str]:
    """LEADS_EMAIL_ADDRESSES as {address: owner's email, or "" for the default owner}."""
    routes: dict[str, str] = {}
    for entry in getattr(settings, "LEADS_EMAIL_ADDRESSES", []):
        address, _sep, owner = entry.partition("=")
        if "@" in address:
            routes[address.strip().lower()] = owner.strip().lower()
    return routes


def _owner(email: str) -> User | None:
    """The address's owner, else the first active superuser (the assignment rules may then give
    the lead to someone else)."""
    users = User.objects.filter(is_active=True)
    if email:
        named = users.filter(email__iexact=email).first()
        if named is not None:
            return named
        log.warning("leads: LEADS_EMAIL_ADDRESSES names no active user %s", email)
    return users.filter(is_superuser=True).order_by("pk").first()


def capture_key(message_id: str) -> str:
    return "mail:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]


def _values(mail: inbound.InboundMail, address: str) -> dict[str, object]:
    name = " ".join(mail.from_name.split())
    if "@" in name:  # "mia@example.net <mia@example.net>": no name given
        name = ""
    given, _sep, family = name.partition(" ")
    subject = " ".join(mail.subject.split())
    notes = "\n\n".join(part for part in (subject, mail.text.strip()) if part)
    return {
        "given_name": given[:100],
        "family_name": family[:100],
        "email": mail.from_address,
        "source": LeadSource.EMAIL,
        "source_detail": address[:200],
        "notes": notes[:MAX_NOTES_CHARS],
    }


def lead_from_mail(mail: inbound.InboundMail) -> bool:
    """The inbound-mail handler (order 20). True when leads took the message: a lead was
    captured (or had been, for this Message-ID), or it was an auto-reply or our own mail to a
    leads address (dropped). False for mail not sent to a leads address, and for mail that
    cannot be a lead (no usable sender, no owner configured): it stays stored, unmatched.
    Idempotent on the Message-ID (the lead's capture key); atomic (one `lead_create`)."""
    answered = _answered_lead(mail)
    if answered is not None:
        with transaction.atomic():
            trail.mail_on_lead(lead=answered, mail=mail)  # once per Message-ID
            scoring.lead_rescore(lead_id=answered.pk)
        return True
    routes = address_routes()
    address = next((a for a in (mail.mailbox, *mail.recipients) if a in routes), "")
    if not address:
        return False
    sender = mail.from_address
    if "@" not in sender or sender.count("@") != 1:
        return False
    if sender in routes or inbound.is_automatic(mail):
        log.info("leads: automatic mail %s from %s dropped", mail.message_id, sender)
        return True
    owner = _owner(routes[address])
    if owner is None:
        log.error("leads: no owner for mail to %s; %s left unmatched", address, mail.message_id)
        return False
    data = services.LeadInput(
        values=_values(mail, address),
        owner=owner,
        capture_key=capture_key(mail.message_id),
        assign=True,
    )
    try:
        with transaction.atomic():
            lead = services.lead_create(data=data, actor=None)
            # The message itself, with its attachments, on the lead's trail; it is an inbound
            # email, so engagement rules (interactions, replies) count it at once.
            trail.mail_on_lead(lead=lead, mail=mail)
            scoring.lead_rescore(lead_id=lead.pk)
    except DomainError as error:
        log.warning("leads: %s left unmatched: %s", mail.message_id, error.message)
        return False
    return True


def _answered_lead(mail: inbound.InboundMail) -> Lead | None:
    """The open lead whose email (written from its page) `mail` answers, or None. One query."""
    from django.contrib.contenttypes.models import ContentType

    from contacts.activities.mail.models import MailMessage

    refs = [r[:500] for r in (mail.in_reply_to, *mail.references) if r]
    if not refs:
        return None
    target_ids = MailMessage.objects.filter(
        message_id__in=refs,
        interaction__target_type=ContentType.objects.get_for_model(Lead),
    ).values("interaction__target_id")
    return (
        Lead.objects.filter(pk__in=target_ids, archived_at__isnull=True)
        .exclude(status=LeadStatus.CONVERTED)
        .order_by("-pk")
        .first()
    )


def register() -> None:
    """Called from `leads.registrations.register()`."""
    inbound.register_handler(
        inbound.InboundHandler(key=HANDLER_KEY, handle=lead_from_mail, order=20)
    )
