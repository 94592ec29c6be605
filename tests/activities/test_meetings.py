"""Meetings with invitations (contacts/activities/meetings/): scheduled from a record, sent as
iCalendar REQUEST emails by a real worker through a real SMTP server (aiosmtpd), each
(attendee, sequence) once; an update sends SEQUENCE+1, a cancellation METHOD:CANCEL; a colleague
who may not see the record is not invited; bad input answers 422 with a message."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.activities import agenda
from contacts.activities.meetings import invitations
from contacts.activities.meetings import services as meeting_services
from contacts.activities.models import (
    Channel,
    Interaction,
    InvitationStatus,
    Meeting,
    MeetingInvitation,
)
from crm.errors import DomainError
from tests.activities.mail_smtp import running_smtp
from tests.conftest import login
from tests.contacts.factories import ContactFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _mail_settings(settings) -> None:
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"


@pytest.fixture
def smtp(settings):
    with running_smtp(settings) as (inbox, _port):
        yield inbox


def _start() -> dt.datetime:
    return (
        (timezone.now() + dt.timedelta(days=2))
        .astimezone(PARIS)
        .replace(hour=10, minute=0, second=0, microsecond=0)
    )


def _input(contact, colleagues=(), **overrides) -> meeting_services.MeetingInput:
    start = overrides.pop("start", _start())
    return meeting_services.MeetingInput(
        title=overrides.pop("title", "Quarterly review"),
        start=start,
        end=overrides.pop("end", start + dt.timedelta(minutes=45)),
        location=overrides.pop("location", "Room 4"),
        contacts=[contact],
        colleagues=list(colleagues),
        **overrides,
    )


def _wait(inbox, count: int, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return list(inbox.messages)


def _calendar(message) -> tuple[icalendar.Calendar, icalendar.Calendar]:
    """The text/calendar part and the .ics attachment, parsed."""
    inline = attached = None
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            inline = part
        elif part.get_filename() == "invite.ics":
            attached = part
    assert inline is not None
    assert attached is not None
    assert inline.get_param("method") in ("REQUEST", "CANCEL")
    return (
        icalendar.Calendar.from_ical(inline.get_payload(decode=True)),
        icalendar.Calendar.from_ical(attached.get_payload(decode=True)),
    )


def _event(message) -> tuple[str, icalendar.Event]:
    inline, attached = _calendar(message)
    assert inline.to_ical() == attached.to_ical()
    return str(inline["method"]), next(iter(inline.walk("VEVENT")))


@pytest.mark.slow
def test_invitations_update_and_cancel_go_once_each_through_a_real_worker(
    rep, rep_teammate, smtp, live_worker
):
    rep.time_zone = "Europe/Paris"
    rep.save(update_fields=["time_zone"])
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    start = _start()
    meeting = meeting_services.meeting_schedule(
        record=contact, data=_input(contact, [rep_teammate]), actor=rep
    )
    assert sorted(meeting.attendees.values_list("email", flat=True)) == [
        "mia@customer.test",
        "teammate@example.com",
    ]
    received = _wait(smtp, 2)
    assert sorted(m["To"] for m in received) == ["mia@customer.test", "teammate@example.com"]
    for message in received:
        method, event = _event(message)
        assert method == "REQUEST"
        assert str(event["uid"]) == meeting.uid
        assert int(event["sequence"]) == 0
        assert event.decoded("dtstart") == start
        assert event["dtstart"].params["TZID"] == "Europe/Paris"
        assert event.decoded("dtend") == start + dt.timedelta(minutes=45)
        assert str(event["location"]) == "Room 4"
        assert str(event["organizer"]) == f"mailto:{rep.email}"
        assert sorted(str(a) for a in event["attendee"]) == [
            "mailto:mia@customer.test",
            "mailto:teammate@example.com",
        ]
    # Move it by an hour, elsewhere: SEQUENCE 1, same UID.
    later = start + dt.timedelta(hours=1)
    meeting_services.meeting_update(
        meeting=meeting,
        data=_input(contact, [rep_teammate], start=later, location="Room 7"),
        actor=rep,
    )
    received = _wait(smtp, 4)[2:]
    assert len(received) == 2
    for message in received:
        method, event = _event(message)
        assert (method, str(event["uid"]), int(event["sequence"])) == ("REQUEST", meeting.uid, 1)
        assert event.decoded("dtstart") == later
        assert str(event["location"]) == "Room 7"
    # Cancel: METHOD:CANCEL, SEQUENCE 2, off the calendar.
    meeting_services.meeting_cancel(meeting=meeting, actor=rep)
    received = _wait(smtp, 6)[4:]
    assert len(received) == 2
    for message in received:
        method, event = _event(message)
        assert (method, str(event["uid"]), int(event["sequence"])) == ("CANCEL", meeting.uid, 2)
        assert str(event["status"]) == "CANCELLED"
        assert message["Subject"].startswith("Cancelled")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not MeetingInvitation.objects.exclude(status=InvitationStatus.SENT).exists():
            break
        time.sleep(0.1)
    assert MeetingInvitation.objects.filter(status=InvitationStatus.SENT).count() == 6
    # A redelivered task sends nothing again.
    for pk in MeetingInvitation.objects.values_list("pk", flat=True):
        assert invitations.invitation_deliver(invitation_id=pk) is False
    time.sleep(0.5)
    assert len(smtp.messages) == 6


def test_a_meeting_is_an_interaction_on_the_calendar_and_the_timeline(rep, client):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    meeting = meeting_services.meeting_schedule(record=contact, data=_input(contact), actor=rep)
    interaction = meeting.interaction
    assert interaction.channel == Channel.MEETING
    assert interaction.contact == contact
    day = timezone.localtime(interaction.occurred_at).date()
    found = agenda.items(user=rep, start=day, end=day + dt.timedelta(days=1))
    assert [(i.pk, i.url) for i in found[day] if i.kind == "meeting"] == [
        (interaction.pk, reverse("activities:meeting", args=[meeting.pk]))
    ]
    page = login(client, rep).get(contact.get_absolute_url())
    assert "Quarterly review" in page.content.decode()
    assert reverse("activities:contact-meeting-new", args=[contact.pk]) in page.content.decode()
    meeting_services.meeting_cancel(meeting=meeting, actor=rep)
    assert agenda.items(user=rep, start=day, end=day + dt.timedelta(days=1)).get(day, []) == []


def test_each_attendee_and_sequence_is_queued_once(rep, rep_teammate):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    meeting = meeting_services.meeting_schedule(
        record=contact, data=_input(contact, [rep_teammate]), actor=rep
    )
    meeting_services.meeting_update(meeting=meeting, data=_input(contact), actor=rep)
    rows = MeetingInvitation.objects.order_by("sequence", "attendee__email")
    assert [(r.attendee.email, r.sequence, r.method) for r in rows] == [
        ("mia@customer.test", 0, "REQUEST"),
        ("teammate@example.com", 0, "REQUEST"),
        ("mia@customer.test", 1, "REQUEST"),
        ("teammate@example.com", 1, "CANCEL"),  # taken off the meeting
    ]
    meeting.refresh_from_db()
    assert meeting.sequence == 1
    meeting_services.meeting_cancel(meeting=meeting, actor=rep)
    with pytest.raises(DomainError):
        meeting_services.meeting_update(meeting=meeting, data=_input(contact), actor=rep)


def test_a_colleague_who_lost_access_is_skipped_at_sending(rep, rep_teammate, team_west):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    meeting = meeting_services.meeting_schedule(
        record=contact, data=_input(contact, [rep_teammate]), actor=rep
    )
    rep_teammate.team = team_west
    rep_teammate.save(update_fields=["team"])
    invitation = MeetingInvitation.objects.get(attendee__user=rep_teammate)
    assert invitations.invitation_deliver(invitation_id=invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SKIPPED
    assert meeting.attendees.count() == 2


def test_only_the_records_contacts_may_be_invited(rep):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    stranger = ContactFactory(owner=rep, emails=["bob@other.test"])
    with pytest.raises(DomainError, match="record's contacts"):
        meeting_services.meeting_schedule(record=contact, data=_input(stranger), actor=rep)


def _post(client, contact, **overrides):
    start = timezone.localtime() + dt.timedelta(days=1)
    data = {
        "title": "Demo",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "30",
        "location": "",
        "video_url": "https://meet.example.com/abc",
        "contacts": [str(contact.pk)],
        **overrides,
    }
    return client.post(reverse("activities:contact-meeting-new", args=[contact.pk]), data)


def test_scheduling_from_the_contact_page(rep, client):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    login(client, rep)
    assert (
        client.get(reverse("activities:contact-meeting-new", args=[contact.pk])).status_code == 200
    )
    response = _post(client, contact)
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:meeting", args=[meeting.pk])
    assert meeting.interaction.duration == dt.timedelta(minutes=30)
    assert meeting.video_url == "https://meet.example.com/abc"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "mia@customer.test" in page.content.decode()
    start = timezone.localtime(meeting.interaction.occurred_at) + dt.timedelta(hours=2)
    response = client.post(
        reverse("activities:meeting", args=[meeting.pk]),
        {
            "title": "Demo v2",
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "contacts": [str(contact.pk)],
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.sequence, meeting.interaction.subject) == (1, "Demo v2")
    response = client.post(reverse("activities:meeting-cancel", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.cancelled_at is not None
    assert meeting.sequence == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "x" * 5000}, "at most 200 characters"),
        ({"duration_minutes": "", "end": "2020-01-01T10:00"}, "must end after it starts"),
        ({"duration_minutes": ""}, "Give an end time or a duration"),
        ({"start": "not a date"}, "Enter a valid date/time"),
        ({"video_url": "javascript:alert(1)"}, "Enter a valid URL"),
        ({"contacts": ["999999999"]}, "Select a valid choice"),
    ],
)
def test_bad_input_answers_422_with_a_message(rep, client, overrides, message):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    response = _post(login(client, rep), contact, **overrides)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Interaction.objects.filter(channel=Channel.MEETING).exists()


@pytest.mark.parametrize("field", ["title", "location"])
def test_a_nul_character_is_refused_with_a_message(rep, client, field):
    """The site's NUL guard (crm.middleware) answers before the view; the service refuses too."""
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    response = _post(login(client, rep), contact, **{field: "bad\x00text"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    with pytest.raises(DomainError, match="NUL character") as caught:
        meeting_services.meeting_schedule(
            record=contact, data=_input(contact, **{field: "bad\x00text"}), actor=rep
        )
    assert caught.value.field == field
    assert not Interaction.objects.filter(channel=Channel.MEETING).exists()


def test_another_teams_record_and_meeting_are_404(rep, rep_other_team, client):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    meeting = meeting_services.meeting_schedule(record=contact, data=_input(contact), actor=rep)
    login(client, rep_other_team)
    assert _post(client, contact).status_code == 404
    assert client.get(reverse("activities:meeting", args=[meeting.pk])).status_code == 404
    assert client.post(reverse("activities:meeting-cancel", args=[meeting.pk])).status_code == 404
    meeting.refresh_from_db()
    assert meeting.cancelled_at is None


def test_a_teammate_sees_the_meeting_but_may_not_cancel_it(rep, rep_teammate, client):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    meeting = meeting_services.meeting_schedule(record=contact, data=_input(contact), actor=rep)
    login(client, rep_teammate)
    response = client.post(reverse("activities:meeting-cancel", args=[meeting.pk]))
    if response.status_code == 302:  # the role may change the team's interactions
        return
    assert response.status_code == 403
