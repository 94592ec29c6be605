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

Modules: `models` (Meeting, attendees, invitations), `services` (schedule, update, cancel),
`invitations` (the .ics and its delivery), `tasks`, `forms`, `views`, `start` (a meeting from
the calendar), `replies` (attendees' iTIP REPLYs by inbound mail).
"""

from __future__ import annotations


def register() -> None:
    """Called from contacts/activities/registrations.py: the record page's quick action, the
    audit log, the invitation task and the inbound handler for attendees' replies."""
    from auditlog.registry import auditlog

    from contacts import panels
    from contacts.activities.meetings import (
        replies,
        tasks,  # noqa: F401  (registers the Celery task)
    )
    from contacts.activities.meetings.models import Meeting

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
    replies.register()
