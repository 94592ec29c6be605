"""Meetings' writes: schedule, update and cancel (each atomic, invitations queued in the same
transaction), and the people a record's meeting may invite."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import User
from contacts.activities import services as activity_services
from contacts.activities.meetings.models import (
    AttendeeResponse,
    Meeting,
    MeetingAttendee,
    MeetingInvitation,
)
from contacts.activities.models import Channel, Direction, Interaction
from contacts.activities.viewers import record_viewers
from contacts.models import Company, Contact
from crm import outbox
from crm.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Sequence

# The name from before meetings became a package: queued outbox rows carry it.
SEND_TASK = "contacts.activities.meetings.invitation_send"
MAX_TITLE = 200
MAX_DURATION = dt.timedelta(hours=24)
MAX_ATTENDEES = 50
MAX_COLLEAGUES = 200  # colleagues offered on the form (one query: viewers.record_viewers)
MAX_RETRIES = 5
REQUEST, CANCEL = "REQUEST", "CANCEL"


@dataclass
class MeetingInput:
    """A meeting as typed on the form (shape-checked); the rules are checked here."""

    title: str
    start: dt.datetime
    end: dt.datetime
    location: str = ""
    video_url: str = ""
    notes: str = ""
    contacts: Sequence[Contact] = field(default_factory=list)
    colleagues: Sequence[User] = field(default_factory=list)


def _clean(text: str, *, label: str, name: str, limit: int) -> str:
    if "\x00" in text:
        raise DomainError(_("%(field)s contains a NUL character.") % {"field": label}, field=name)
    text = text.strip()
    if len(text) > limit:
        raise DomainError(
            _("%(field)s is too long (%(limit)s characters at most).")
            % {"field": label, "limit": limit},
            field=name,
        )
    return text


def _check(data: MeetingInput) -> MeetingInput:
    title = _clean(data.title, label=_("The title"), name="title", limit=MAX_TITLE)
    if not title:
        raise DomainError(_("Give the meeting a title."), field="title")
    location = _clean(data.location, label=_("The location"), name="location", limit=200)
    video = _clean(data.video_url, label=_("The video link"), name="video_url", limit=500)
    notes = _clean(data.notes, label=_("The notes"), name="notes", limit=10_000)
    if timezone.is_naive(data.start) or timezone.is_naive(data.end):
        raise DomainError(_("Give the time with its time zone."), field="start")
    if data.end <= data.start:
        raise DomainError(_("The meeting must end after it starts."), field="end")
    if data.end - data.start > MAX_DURATION:
        raise DomainError(_("A meeting lasts 24 hours at most."), field="end")
    if len(data.contacts) + len(data.colleagues) > MAX_ATTENDEES:
        raise DomainError(
            _("Invite %(count)s people at most.") % {"count": MAX_ATTENDEES}, field="contacts"
        )
    return MeetingInput(
        title, data.start, data.end, location, video, notes, data.contacts, data.colleagues
    )


def record_contacts(*, record: Contact | Company, user: User) -> list[Contact]:
    """The contacts that may be invited to a meeting about `record`: the contact itself, or the
    company's people the user sees; only those with an email address. One query."""
    if isinstance(record, Contact):
        return [record] if record.primary_email else []
    people = access.scoped(user, Contact).filter(
        company=record, archived_at__isnull=True, primary_email__gt=""
    )
    return list(people.order_by("family_name", "given_name", "id")[:MAX_ATTENDEES])


def record_colleagues(*, record: Contact | Company, user: User) -> list[User]:
    """Active colleagues (not the user, with an email address) who may see `record` and its
    interactions: who may be invited. One query (`viewers.record_viewers`), at most
    MAX_COLLEAGUES."""
    users = record_viewers(record, also=Interaction).exclude(pk=user.pk).exclude(email="")
    return list(users.order_by("first_name", "last_name", "id")[:MAX_COLLEAGUES])


def _record_of(interaction: Interaction) -> Contact | Company:
    return interaction.contact or interaction.company  # type: ignore[return-value]


def _wanted(meeting: Meeting, data: MeetingInput, actor: User) -> dict[str, dict[str, Any]]:
    """Attendees by address: contacts of the meeting's record that the actor sees (the contact
    itself, or the company's people) and colleagues who may see the record. Anyone else (a
    forged id, a contact of another team, a colleague without access) is refused: nothing is
    saved. Two queries whatever the number of attendees."""
    record = _record_of(meeting.interaction)
    chosen = {c.pk for c in data.contacts}
    if isinstance(record, Contact):
        allowed = {record.pk} & chosen
    else:
        allowed = set(
            access.scoped(actor, Contact)
            .filter(pk__in=chosen, company=record, archived_at__isnull=True)
            .values_list("pk", flat=True)
        )
    wanted: dict[str, dict[str, Any]] = {}
    for contact in data.contacts:
        if contact.pk not in allowed or not contact.primary_email:
            raise DomainError(_("Invite only the record's contacts."), field="contacts")
        wanted[contact.primary_email.lower()] = {"contact": contact, "name": str(contact)}
    people = {u.pk for u in data.colleagues}
    may = set(
        record_viewers(record, also=Interaction).filter(pk__in=people).values_list("pk", flat=True)
    )
    for user in data.colleagues:
        if user.pk not in may or not user.email:
            raise DomainError(
                _("Invite only colleagues who may see %(record)s.") % {"record": record},
                field="colleagues",
            )
        wanted[user.email.lower()] = {"user": user, "name": user.get_full_name()}
    return wanted


def _sync_attendees(meeting: Meeting, data: MeetingInput, actor: User) -> list[MeetingAttendee]:
    """Add the wanted attendees, take off the others; returns those taken off now."""
    wanted = _wanted(meeting, data, actor)
    current = {a.email: a for a in meeting.attendees.all()}
    removed = []
    for email, attendee in current.items():
        if email not in wanted and attendee.removed_at is None:
            attendee.removed_at = timezone.now()
            attendee.save(update_fields=["removed_at"])
            removed.append(attendee)
    for email, values in wanted.items():
        existing = current.get(email)
        if existing is None:
            MeetingAttendee.objects.create(meeting=meeting, email=email, **values)
        elif existing.removed_at is not None:
            existing.removed_at = None
            existing.save(update_fields=["removed_at"])
    return removed


def _queue(meeting: Meeting, method: str, attendees: Sequence[MeetingAttendee]) -> None:
    for attendee in attendees:
        invitation = MeetingInvitation.objects.create(
            attendee=attendee, sequence=meeting.sequence, method=method
        )
        outbox.enqueue(SEND_TASK, {"invitation_id": invitation.pk})


def _active(meeting: Meeting) -> list[MeetingAttendee]:
    return list(meeting.attendees.filter(removed_at__isnull=True).order_by("id"))


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "crm.localhost"


@transaction.atomic
def meeting_schedule(*, record: Contact | Company, data: MeetingInput, actor: User) -> Meeting:
    """Plan a meeting about a contact or company the actor sees (they may log interactions):
    its interaction, its attendees and their REQUEST invitations (sent after commit, each once).
    Atomic. The organiser's time zone is the actor's."""
    if not access.can(actor, record, "view"):
        raise PermissionDenied(_("No such record, or you do not have access to it."))
    if not access.can_add(actor, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    if getattr(record, "archived_at", None) is not None:
        raise DomainError(_("%(record)s is archived. Restore it first.") % {"record": record})
    data = _check(data)
    contact = record if isinstance(record, Contact) else None
    company = record if isinstance(record, Company) else (contact.company if contact else None)
    if company is not None and not access.can(actor, company, "view"):
        company = None
    interaction = Interaction.objects.create(
        channel=Channel.MEETING,
        direction=Direction.OUTBOUND,
        subject=data.title,
        body=data.notes,
        occurred_at=data.start,
        duration=data.end - data.start,
        contact=contact,
        company=company,
        logged_by=actor,
        owner=actor,
        team=actor.team,
    )
    meeting = Meeting.objects.create(
        interaction=interaction,
        uid=f"{uuid.uuid4()}@{_domain()}",
        location=data.location,
        video_url=data.video_url,
        time_zone=getattr(actor, "time_zone", "") or "UTC",
    )
    _sync_attendees(meeting, data, actor)
    _queue(meeting, REQUEST, _active(meeting))
    return meeting


def _locked(meeting: Meeting, actor: User) -> Meeting:
    locked = Meeting.objects.select_for_update().select_related("interaction").get(pk=meeting.pk)
    activity_services._require_change(actor, locked.interaction)
    if locked.cancelled_at is not None:
        raise DomainError(_("This meeting has been cancelled."))
    return locked


@transaction.atomic
def meeting_update(*, meeting: Meeting, data: MeetingInput, actor: User) -> Meeting:
    """Change a meeting's time, place, title or attendees: SEQUENCE+1, a REQUEST to every
    attendee and a CANCEL to those taken off. Atomic; the actor may change its interaction."""
    meeting = _locked(meeting, actor)
    data = _check(data)
    interaction = meeting.interaction
    moved = interaction.occurred_at != data.start or interaction.duration != data.end - data.start
    interaction.subject = data.title
    interaction.body = data.notes
    interaction.occurred_at = data.start
    interaction.duration = data.end - data.start
    interaction.save(update_fields=["subject", "body", "occurred_at", "duration", "updated_at"])
    meeting.location = data.location
    meeting.video_url = data.video_url
    meeting.sequence = F("sequence") + 1
    meeting.save(update_fields=["location", "video_url", "sequence"])
    meeting.refresh_from_db(fields=["sequence"])
    removed = _sync_attendees(meeting, data, actor)
    if moved:  # an answer was to the old time: ask again
        meeting.attendees.exclude(response=AttendeeResponse.NEEDS_ACTION).update(
            response=AttendeeResponse.NEEDS_ACTION, responded_at=None
        )
    _queue(meeting, REQUEST, _active(meeting))
    _queue(meeting, CANCEL, removed)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, actor: User) -> Meeting:
    """Call a meeting off: SEQUENCE+1 and a CANCEL to every attendee; its interaction is
    archived (off the calendar and the timeline, its history kept). Atomic."""
    meeting = _locked(meeting, actor)
    meeting.sequence = F("sequence") + 1
    meeting.cancelled_at = timezone.now()
    meeting.save(update_fields=["sequence", "cancelled_at"])
    meeting.refresh_from_db(fields=["sequence"])
    _queue(meeting, CANCEL, _active(meeting))
    activity_services.interaction_archive(interaction=meeting.interaction, actor=actor)
    return meeting
