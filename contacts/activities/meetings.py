"""Meetings with calendar invitations (issue 26): schedule, update and cancel a meeting from a
contact or company page; attendees get iCalendar (RFC 5546) emails.

A meeting is an Interaction (channel "meeting", `occurred_at` = start, `duration`) with a
`Meeting` row (stable `uid`, `sequence`, place, the organiser's time zone) and its attendees:
contacts of the record with an email address, and colleagues who may see the record. It is on
the organiser's calendar (contacts/activities/agenda.py reads meeting interactions) and on the
record's timeline (the interaction source).

Invitations go out like email (contacts/activities/mail): each (attendee, sequence) is one
`MeetingInvitation` row (unique), written with its outbox row in the service's transaction;
the task claims it (queued -> sending) before sending, so it is sent at most once, and retries
transient SMTP failures. Scheduling sends METHOD:REQUEST at sequence 0; an update sends
SEQUENCE+1 REQUEST to every attendee (and CANCEL to one taken off); cancelling sends
METHOD:CANCEL at SEQUENCE+1. Times are written with the organiser's TZID (and its VTIMEZONE),
DTSTAMP in UTC. A colleague who may not see the record (checked again at sending) gets none.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field
from email.mime.base import MIMEBase
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

import icalendar
from celery import shared_task
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import access
from accounts.models import User
from contacts.activities import services as activity_services
from contacts.activities.forms import LocalDateTimeInput, now_minute
from contacts.activities.meeting_models import (
    AttendeeResponse,
    InvitationStatus,
    Meeting,
    MeetingAttendee,
    MeetingInvitation,
)
from contacts.activities.models import Channel, Direction, Interaction
from contacts.activities.notifications import may_see
from contacts.activities.viewers import record_viewers
from contacts.models import Company, Contact
from crm import outbox
from crm.errors import DomainError, TransientError
from crm.http import AuthedHttpRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SEND_TASK = "contacts.activities.meetings.invitation_send"
MAX_TITLE = 200
MAX_DURATION = dt.timedelta(hours=24)
MAX_ATTENDEES = 50
MAX_COLLEAGUES = 200  # colleagues offered on the form (one query: viewers.record_viewers)
MAX_RETRIES = 5
REQUEST, CANCEL = "REQUEST", "CANCEL"


# --- services ----------------------------------------------------------------------------------


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


# --- the invitation --------------------------------------------------------------------------


def _organiser(meeting: Meeting) -> User:
    return meeting.interaction.owner


def ics_text(*, meeting: Meeting, method: str, sequence: int) -> bytes:
    """The iCalendar object of one invitation: METHOD, the event with UID and SEQUENCE, its
    times with the organiser's TZID (and VTIMEZONE), DTSTAMP in UTC, organiser and attendees."""
    interaction = meeting.interaction
    try:
        tz = zoneinfo.ZoneInfo(meeting.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    start = interaction.occurred_at.astimezone(tz)
    end = start + (interaction.duration or dt.timedelta(hours=1))
    organiser = _organiser(meeting)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//CRM//Meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end.astimezone(tz))
    event.add("summary", interaction.subject)
    if interaction.body:
        event.add("description", interaction.body)
    place = meeting.location or meeting.video_url
    if place:
        event.add("location", place)
    if meeting.video_url:
        event.add("url", meeting.video_url)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    organiser_address = icalendar.vCalAddress(f"mailto:{organiser.email}")
    organiser_address.params["cn"] = organiser.get_full_name() or organiser.email
    event.add("organizer", organiser_address)
    for attendee in meeting.attendees.filter(removed_at__isnull=True).order_by("id"):
        address = icalendar.vCalAddress(f"mailto:{attendee.email}")
        if attendee.name:
            address.params["cn"] = attendee.name
        address.params["role"] = "REQ-PARTICIPANT"
        address.params["partstat"] = "NEEDS-ACTION"
        address.params["rsvp"] = "TRUE"
        event.add("attendee", address)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _body(meeting: Meeting, method: str) -> tuple[str, str]:
    interaction = meeting.interaction
    start = interaction.occurred_at
    end = start + (interaction.duration or dt.timedelta(hours=1))
    organiser = _organiser(meeting)
    values = {
        "title": interaction.subject,
        "start": f"{start.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "end": f"{end.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "organiser": organiser.get_full_name() or organiser.email,
        "place": meeting.location or meeting.video_url or "-",
    }
    if method == CANCEL:
        subject = _("Cancelled: %(title)s") % values
        body = _("%(organiser)s cancelled the meeting %(title)s (%(start)s - %(end)s).") % values
    elif meeting.sequence:
        subject = _("Updated invitation: %(title)s") % values
        body = _("%(organiser)s changed the meeting %(title)s: %(start)s - %(end)s, %(place)s.")
        body %= values
    else:
        subject = _("Invitation: %(title)s") % values
        body = _("%(organiser)s invites you to %(title)s: %(start)s - %(end)s, %(place)s.")
        body %= values
    if interaction.body and method != CANCEL:
        body += "\n\n" + interaction.body
    return subject, body


def _calendar_part(ics: bytes, method: str) -> MIMEBase:
    part = MIMEBase("text", "calendar", method=method, charset="utf-8")
    part.set_payload(ics.decode())
    from email import encoders

    encoders.encode_base64(part)
    return part


def invitation_deliver(*, invitation_id: int, last_try: bool = False) -> bool:
    """Send one invitation, at most once: claimed (queued -> sending) first; False when there
    is nothing to send. A colleague who may no longer see the record is skipped. A transient
    failure puts it back and raises TransientError (the last try marks it failed)."""
    claimed = MeetingInvitation.objects.filter(
        pk=invitation_id, status=InvitationStatus.QUEUED
    ).update(status=InvitationStatus.SENDING)
    if claimed != 1:
        return False
    invitation = MeetingInvitation.objects.select_related(
        "attendee__user",
        "attendee__meeting__interaction__owner",
        "attendee__meeting__interaction__contact",
        "attendee__meeting__interaction__company",
    ).get(pk=invitation_id)
    attendee = invitation.attendee
    meeting = attendee.meeting
    rows = MeetingInvitation.objects.filter(pk=invitation_id)
    if attendee.user is not None and not may_see(attendee.user, meeting.interaction):
        rows.update(status=InvitationStatus.SKIPPED, error="no access to the record")
        return False
    with translation_for(attendee.user):
        subject, body = _body(meeting, invitation.method)
    ics = ics_text(meeting=meeting, method=invitation.method, sequence=invitation.sequence)
    organiser = _organiser(meeting)
    email = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[attendee.email],
        reply_to=[organiser.email] if organiser.email else [],
    )
    email.attach(_calendar_part(ics, invitation.method))
    email.attach("invite.ics", ics, "application/ics")
    try:
        email.send()
    except Exception as exc:
        from contacts.activities.mail.services import _transient

        error = f"{type(exc).__name__}: {exc}"[:1000]
        if _transient(exc) and not last_try:
            rows.filter(status=InvitationStatus.SENDING).update(
                status=InvitationStatus.QUEUED, error=error
            )
            raise TransientError(error) from exc
        rows.update(status=InvitationStatus.FAILED, error=error)
        return False
    rows.update(status=InvitationStatus.SENT, sent_at=timezone.now(), error="")
    return True


def translation_for(user: User | None) -> Any:
    from django.utils import translation

    language = getattr(user, "language", "") if user is not None else ""
    return translation.override(language or settings.LANGUAGE_CODE)


@shared_task(
    bind=True,
    name=SEND_TASK,
    acks_late=True,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=MAX_RETRIES,
)
def invitation_send(self: Any, *, invitation_id: int) -> bool:
    """Send one meeting invitation at most once (a conditional claim); transient failures are
    retried with backoff."""
    return invitation_deliver(
        invitation_id=invitation_id, last_try=self.request.retries >= MAX_RETRIES
    )


# --- the form and the pages --------------------------------------------------------------------


class MeetingForm(forms.Form):
    """What the organiser types; the contacts and colleagues offered come from the record."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=MAX_TITLE)
    start = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    end = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Or duration (minutes)"), min_value=1, max_value=24 * 60, required=False
    )
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    video_url = forms.URLField(label=gettext_lazy("Video link"), max_length=500, required=False)
    contacts = forms.MultipleChoiceField(
        label=gettext_lazy("Contacts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    colleagues = forms.MultipleChoiceField(
        label=gettext_lazy("Colleagues"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, contacts: list[Contact], colleagues: list[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.contact_rows = {str(c.pk): c for c in contacts}
        self.colleague_rows = {str(u.pk): u for u in colleagues}
        self.fields["contacts"].choices = [  # type: ignore[attr-defined]
            (str(c.pk), f"{c} <{c.primary_email}>") for c in contacts
        ]
        self.fields["colleagues"].choices = [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.email) for u in colleagues
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, minutes = data.get("start"), data.get("end"), data.get("duration_minutes")
        if start and not end:
            if minutes:
                data["end"] = start + dt.timedelta(minutes=minutes)
            elif "end" not in self.errors:
                self.add_error("end", _("Give an end time or a duration."))
        return data

    def to_input(self) -> MeetingInput:
        data = self.cleaned_data
        return MeetingInput(
            title=data["title"],
            start=data["start"],
            end=data["end"],
            location=data.get("location", ""),
            video_url=data.get("video_url", ""),
            notes=data.get("notes", ""),
            contacts=[self.contact_rows[k] for k in data.get("contacts", [])],
            colleagues=[self.colleague_rows[k] for k in data.get("colleagues", [])],
        )


def _record(request: AuthedHttpRequest, kind: str, pk: int) -> Contact | Company:
    if kind == "contacts":
        return access.get_for_user_or_404(request.user, Contact, pk)
    return access.get_for_user_or_404(request.user, Company, pk)


def _apply(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _done(request: AuthedHttpRequest, meeting: Meeting) -> HttpResponse:
    url = reverse("activities:meeting", args=[meeting.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _submit(
    request: AuthedHttpRequest, form: MeetingForm, save: Callable[[MeetingInput], Meeting]
) -> HttpResponse | None:
    """Save a posted form through `save`; None (errors on the form) when it cannot."""
    if form.is_valid():
        try:
            meeting = save(form.to_input())
        except DomainError as exc:
            _apply(form, exc)
        else:
            return _done(request, meeting)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """Schedule a meeting about a contact or company and invite people."""
    record = _record(request, kind, pk)
    if not access.can_add(request.user, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    contacts = record_contacts(record=record, user=request.user)
    colleagues = record_colleagues(record=record, user=request.user)
    status = 200
    if request.method == "POST":
        form = MeetingForm(request.POST, contacts=contacts, colleagues=colleagues)
        saved = _submit(
            request,
            form,
            lambda data: meeting_schedule(record=record, data=data, actor=request.user),
        )
        if saved is not None:
            return saved
        status = 422
    else:
        from contacts.activities.meeting_start import parse_start

        start = parse_start(request.GET.get("start", "")) or now_minute() + dt.timedelta(days=1)
        form = MeetingForm(
            initial={
                "start": start,
                "duration_minutes": 30,
                "contacts": [str(c.pk) for c in contacts[:1]] if kind == "contacts" else [],
            },
            contacts=contacts,
            colleagues=colleagues,
        )
    context = {"form": form, "record": record, "action": request.get_full_path()}
    return render(request, "activities/meetings/meeting_form.html", context, status=status)


def _meeting(request: AuthedHttpRequest, pk: int) -> Meeting:
    """A meeting whose interaction the user sees (through its record); else 404."""
    from django.http import Http404

    meeting = (
        Meeting.objects.select_related(
            "interaction__owner", "interaction__contact", "interaction__company"
        )
        .filter(pk=pk)
        .first()
    )
    if meeting is None or not may_see(request.user, meeting.interaction):
        raise Http404
    return meeting


@login_required
@require_http_methods(["GET", "POST"])
def meeting_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A meeting: its details and invitations; its organiser (or whoever may change its
    interaction) edits it here, which sends the update."""
    meeting = _meeting(request, pk)
    interaction = meeting.interaction
    record: Contact | Company = interaction.contact or interaction.company  # type: ignore[assignment]
    may_change = meeting.cancelled_at is None and access.can(request.user, interaction, "change")
    if request.method == "POST" and not access.can(request.user, interaction, "change"):
        raise PermissionDenied(_("You may not change this meeting."))
    if request.method == "POST" and meeting.cancelled_at is not None:
        return HttpResponse(_("This meeting has been cancelled."), status=409)
    status = 200
    contacts = record_contacts(record=record, user=request.user) if may_change else []
    colleagues = record_colleagues(record=record, user=request.user) if may_change else []
    attendees = list(meeting.attendees.filter(removed_at__isnull=True).order_by("id"))
    if request.method == "POST":
        form = MeetingForm(request.POST, contacts=contacts, colleagues=colleagues)
        saved = _submit(
            request,
            form,
            lambda data: meeting_update(meeting=meeting, data=data, actor=request.user),
        )
        if saved is not None:
            return saved
        status = 422
    else:
        start = timezone.localtime(interaction.occurred_at)
        form = MeetingForm(
            initial={
                "title": interaction.subject,
                "start": start,
                "end": start + (interaction.duration or dt.timedelta(hours=1)),
                "location": meeting.location,
                "video_url": meeting.video_url,
                "notes": interaction.body,
                "contacts": [str(a.contact_id) for a in attendees if a.contact_id],
                "colleagues": [str(a.user_id) for a in attendees if a.user_id],
            },
            contacts=contacts,
            colleagues=colleagues,
        )
    invitations = MeetingInvitation.objects.filter(attendee__meeting=meeting).select_related(
        "attendee"
    )
    context = {
        "meeting": meeting,
        "interaction": interaction,
        "record": record,
        "attendees": attendees,
        "invitations": invitations.order_by("-sequence", "attendee__email")[:200],
        "form": form if may_change else None,
        "action": request.get_full_path(),
    }
    return render(request, "activities/meetings/meeting_page.html", context, status=status)


@login_required
@require_POST
def meeting_cancel_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Cancel a meeting (its attendees get a CANCEL)."""
    meeting = _meeting(request, pk)
    try:
        meeting_cancel(meeting=meeting, actor=request.user)
    except DomainError as exc:
        return HttpResponse(exc.message, status=409)
    return _done(request, meeting)


def register() -> None:
    """Called from contacts/activities/registrations.py: the record page's quick action."""
    from auditlog.registry import auditlog

    from contacts import panels

    auditlog.register(Meeting)
    panels.register_panel(
        panels.RecordPanel(
            "meetings",
            "activities/meetings/record_action.html",
            11,
            ("contacts.contact", "contacts.company"),
            "actions",
        )
    )
