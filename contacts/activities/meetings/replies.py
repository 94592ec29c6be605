"""Attendees' answers to meeting invitations (RFC 5546 iTIP METHOD:REPLY) arriving by email.

A calendar client answering an invitation sends a message with a `text/calendar;
method=REPLY` part (or an .ics attachment): the event's UID, the answering ATTENDEE with its
PARTSTAT (ACCEPTED, DECLINED, TENTATIVE) and a DTSTAMP. `reply_handle` is an inbound-mail
handler (`crm.inbound`, order 5: before support, so an answer to an invitation never opens a
ticket): it finds the meeting by UID and the attendee by address, and stores the answer on
`MeetingAttendee.response` (shown on the meeting page). Rules:

- Only an attendee of that meeting answers for themselves: the ATTENDEE address must be one of
  the meeting's attendees and the message's sender (From) that same address; anything else
  (an unknown UID, a stranger, someone answering for another) is not claimed and goes on to the
  other handlers, ending in the unmatched-mail queue like any unknown mail.
- An older answer arriving late does not overwrite a newer one (DTSTAMP, else the arrival).
- Idempotent: the same message handled twice changes nothing the second time. When the answer
  changes, the organiser gets a notification (topic "follow").
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import icalendar
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from contacts.activities.collab_models import NotificationKind
from contacts.activities.meetings.models import AttendeeResponse, Meeting, MeetingAttendee
from contacts.activities.notifications import notify
from crm import inbound

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)
HANDLER_KEY = "meeting-replies"
MAX_CALENDAR_BYTES = 256 * 1024  # a REPLY is a few hundred bytes; a huge one is not read
ANSWERS = {
    AttendeeResponse.ACCEPTED.value,
    AttendeeResponse.DECLINED.value,
    AttendeeResponse.TENTATIVE.value,
}
VERBS = {
    AttendeeResponse.ACCEPTED.value: gettext_lazy("{person} accepted {title}"),
    AttendeeResponse.DECLINED.value: gettext_lazy("{person} declined {title}"),
    AttendeeResponse.TENTATIVE.value: gettext_lazy("{person} might come to {title}"),
}


def _calendars(mail: inbound.InboundMail) -> Iterator[str | bytes]:
    if mail.calendar:
        yield mail.calendar
    for item in mail.attachments:
        if item.content_type == "text/calendar" or item.filename.lower().endswith(".ics"):
            yield item.content


def _replies(mail: inbound.InboundMail) -> Iterator[tuple[str, str, str, dt.datetime | None]]:
    """(uid, attendee address, PARTSTAT, DTSTAMP) of each answer in the message's REPLYs."""
    for text in _calendars(mail):
        if len(text) > MAX_CALENDAR_BYTES:
            continue
        try:
            calendar = icalendar.Calendar.from_ical(text)
        except Exception as exc:  # icalendar raises ValueError and others on malformed input
            logger.info("%s: unreadable calendar part: %s", mail.message_id, exc)
            continue
        if str(calendar.get("method", "")).upper() != "REPLY":
            continue
        for event in calendar.walk("VEVENT"):
            uid = str(event.get("uid", ""))[:255]
            stamp = None
            try:
                decoded = event.decoded("dtstamp") if "dtstamp" in event else None
            except Exception:
                decoded = None
            if isinstance(decoded, dt.datetime) and decoded.tzinfo is not None:
                stamp = decoded
            attendees = event.get("attendee", [])
            if not isinstance(attendees, list):
                attendees = [attendees]
            for attendee in attendees:
                address = str(attendee).strip()
                if address.lower().startswith("mailto:"):
                    address = address[7:]
                params = getattr(attendee, "params", {})
                partstat = str(params.get("PARTSTAT", "")).upper()
                yield uid, address.strip().lower(), partstat, stamp


def reply_handle(mail: inbound.InboundMail) -> bool:
    """The inbound handler: store the answers in a REPLY from a meeting's attendee. False (not
    claimed) when the message holds no answer from its sender to one of our meetings."""
    claimed = False
    for uid, address, partstat, stamp in _replies(mail):
        if not uid or partstat not in ANSWERS or address != mail.from_address:
            continue
        claimed = _answer(uid, address, partstat, stamp or mail.sent_at) or claimed
    return claimed


@transaction.atomic
def _answer(uid: str, address: str, partstat: str, stamp: dt.datetime | None) -> bool:
    """Store one answer (the attendee's row locked); True when it is one of our attendees."""
    attendee = (
        MeetingAttendee.objects.select_for_update(of=("self",))
        .select_related("meeting__interaction__owner", "meeting__interaction__contact")
        .filter(meeting__uid=uid, email=address)
        .first()
    )
    if attendee is None:
        return False
    now = timezone.now()
    when = min(stamp, now) if stamp is not None else now
    if attendee.responded_at is not None and attendee.responded_at > when:
        return True  # a newer answer is already stored
    if attendee.response == partstat and attendee.responded_at is not None:
        return True  # the same answer again
    attendee.response = partstat
    attendee.responded_at = when
    attendee.save(update_fields=["response", "responded_at"])
    meeting: Meeting = attendee.meeting
    interaction = meeting.interaction
    notify(
        recipient=interaction.owner,
        kind=NotificationKind.CHANGE,
        target=interaction,
        actor=attendee.user,
        text=format_lazy(
            VERBS[partstat], person=attendee.name or attendee.email, title=interaction.subject
        ),
    )
    return True


def register() -> None:
    """Called from contacts/activities/registrations.py."""
    inbound.register_handler(inbound.InboundHandler(key=HANDLER_KEY, order=5, handle=reply_handle))
