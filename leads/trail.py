"""A lead's trail: what happened with it before it was converted, and where it goes after.

The trail is the activities linked to the lead through their generic target (calls, meetings,
notes, emails with their attachments, tasks), the comments on it, who follows it, its tags and
its consent. Before conversion the lead's page shows it (`lead_trail`); `trail_move` (called by
`services.lead_convert`, inside its transaction) links it all to the contact and company the
lead became, so their pages show it too, while the activities keep their link to the lead:

- interactions and tasks get the contact (and company) where they had none; an email's row gets
  the contact too (the mail pages and attachment downloads read it through the interaction);
  files uploaded by hand (`leads/files.py`) get the contact and company, whose timelines and
  viewers then have them;
- comments move to the contact (one generic target each), followers of the lead follow it;
- the lead's tags join the contact's (a linked contact's only if the actor may change it);
  the consent, source and campaign stay on the lead, which the contact's and company's
  timelines show as a "Converted from lead" entry.

`mail_on_lead` keeps a message sent to the leads address, with its attachments, as an email
interaction on the lead (before, the attachments were dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.utils import timezone

from accounts import access
from contacts import timeline
from contacts.activities.collab_models import Comment, Follow
from contacts.activities.mail import services as mail_services
from contacts.activities.mail.models import MailAttachment, MailMessage
from contacts.activities.models import Channel, Direction, Interaction, Task
from contacts.models import Company, Contact
from crm import inbound
from crm.tags import tags_set
from leads.models import Lead, LeadFile, LeadStatus

if TYPE_CHECKING:
    from accounts.models import User

MAX_SUBJECT = 200
MAX_BODY = 200_000
TRAIL_LIMIT = 20  # rows of each kind shown on the lead's page (newest first)


def _lead_type() -> ContentType:
    return ContentType.objects.get_for_model(Lead)


def _on_lead(lead: Lead) -> dict[str, object]:
    return {"target_type": _lead_type(), "target_id": lead.pk}


# --- mail to the leads address ------------------------------------------------------------


def mail_on_lead(*, lead: Lead, mail: inbound.InboundMail) -> Interaction:
    """Keep `mail` on the lead's trail: an inbound email interaction owned by the lead's owner
    (and team), its headers and its attachments in private storage. Idempotent on the
    Message-ID per lead; call inside the capture's transaction."""
    message_id = mail.message_id[:500]
    existing = (
        MailMessage.objects.filter(message_id=message_id, interaction__target_id=lead.pk)
        .filter(interaction__target_type=_lead_type())
        .select_related("interaction")
        .first()
    )
    if existing is not None:
        return existing.interaction
    now = timezone.now()
    interaction = Interaction.objects.create(
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        subject=" ".join(mail.subject.split())[:MAX_SUBJECT],
        body=mail.text[:MAX_BODY],
        occurred_at=mail.sent_at if mail.sent_at and mail.sent_at <= now else now,
        logged_by=lead.owner,
        owner=lead.owner,
        team_id=lead.team_id,
        **_on_lead(lead),
    )
    mail_services.mail_store(interaction=interaction, mail=mail, contact=None)
    return interaction


# --- conversion --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    interactions: int
    tasks: int
    emails: int
    comments: int
    followers: int
    files: int = 0


def trail_move(*, lead: Lead, contact: Contact, company: Company | None, actor: User) -> Moved:
    """Link the lead's whole trail to the contact (and company) it became (see the module).
    Runs in the caller's transaction (`lead_convert`): a failure undoes it with the rest.
    A bounded number of statements, whatever the length of the trail."""
    lead_type = _lead_type()
    on_lead = {"target_type": lead_type, "target_id": lead.pk}
    counts = {}
    for model in (Interaction, Task):
        rows = model.objects.filter(**on_lead)
        counts[model] = rows.filter(contact__isnull=True).update(contact=contact)
        if company is not None:
            rows.filter(company__isnull=True).update(company=company)
    # An email keeps its contact on its own row too; one the contact has already (the same
    # message stored on both) stays with the lead only.
    emails = MailMessage.objects.filter(
        interaction__target_type=lead_type, interaction__target_id=lead.pk, contact__isnull=True
    ).exclude(message_id__in=MailMessage.objects.filter(contact=contact).values("message_id"))
    moved_emails = emails.update(contact=contact)
    # Files uploaded by hand stay the lead's and become the contact's (and company's) too.
    moved_files = LeadFile.objects.filter(lead=lead, contact__isnull=True).update(
        contact=contact, company=company
    )
    contact_type = ContentType.objects.get_for_model(Contact)
    comments = Comment.objects.filter(**on_lead).update(
        target_type=contact_type, target_id=contact.pk
    )
    followers = set(Follow.objects.filter(**on_lead).values_list("user_id", flat=True))
    already = set(
        Follow.objects.filter(
            target_type=contact_type, target_id=contact.pk, user_id__in=followers
        ).values_list("user_id", flat=True)
    )
    Follow.objects.bulk_create(
        [
            Follow(user_id=user_id, target_type=contact_type, target_id=contact.pk)
            for user_id in sorted(followers - already)
        ]
    )
    tag_ids = set(lead.tag_ids or ())
    if tag_ids - set(contact.tag_ids or ()) and access.can(actor, contact, "change"):
        joined = sorted(tag_ids | set(contact.tag_ids or ()))
        tags_set(obj=contact, tags=joined, actor=actor, check=False)
    return Moved(
        interactions=counts[Interaction],
        tasks=counts[Task],
        emails=moved_emails,
        comments=comments,
        followers=len(followers - already),
        files=moved_files,
    )


# --- reading it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trail:
    interactions: list[Interaction]
    tasks: list[Task]
    comments: list[Comment]


def lead_trail(*, user: User, lead: Lead, limit: int = TRAIL_LIMIT) -> Trail:
    """The lead's newest interactions (emails with their attachments), tasks and comments, for
    a user who fetched the lead through `accounts.access` (so sees it, and with it its trail,
    as a contact's page shows all its calls); each kind only with its view permission. Four
    queries at most."""
    on_lead = _on_lead(lead)
    interactions: list[Interaction] = []
    tasks: list[Task] = []
    if access.has_model_perm(user, Interaction, "view"):
        attachments = Prefetch("mail__attachments", queryset=MailAttachment.objects.order_by("id"))
        interactions = list(
            Interaction.objects.filter(**on_lead, archived_at__isnull=True)
            .select_related("logged_by", "mail")
            .prefetch_related(attachments)
            .order_by("-occurred_at", "-id")[:limit]
        )
    if access.has_model_perm(user, Task, "view"):
        tasks = list(
            Task.objects.filter(**on_lead)
            .select_related("owner", "contact", "company")
            .order_by("-created_at", "-id")[:limit]
        )
    comments = list(
        Comment.objects.filter(**on_lead)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    return Trail(interactions=interactions, tasks=tasks, comments=comments)


def lead_timeline_entries(
    user: User, subject: Contact | Company, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """The contact's or company's timeline: the leads it was converted from that `user` may
    see, at their conversion, newest first (one query)."""
    qs = access.scoped(user, Lead).filter(status=LeadStatus.CONVERTED)
    if isinstance(subject, Contact):
        qs = qs.filter(converted_contact=subject)
    else:
        qs = qs.filter(converted_company=subject)
    qs = qs.select_related("web_form", "referring_contact")
    rows = timeline.keyset_before(qs, before, time_field="converted_at")[:limit]
    return [
        timeline.TimelineEntry("lead", lead.converted_at or lead.created_at, lead.pk, lead)
        for lead in rows
    ]
