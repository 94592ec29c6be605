"""One invitation email: the iCalendar object (RFC 5546) and its delivery, claimed (queued ->
sending) before sending so it goes at most once."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from email.mime.base import MIMEBase
from typing import Any

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contacts.activities.meetings.models import (
    InvitationStatus,
    Meeting,
    MeetingInvitation,
)
from contacts.activities.meetings.services import CANCEL
from contacts.activities.notifications import may_see
from crm.errors import TransientError


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
