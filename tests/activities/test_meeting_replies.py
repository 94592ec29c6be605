"""Attendees' answers (iTIP METHOD:REPLY) arriving as raw MIME through the inbound path
(`crm.mailin.store` then the processing task's body): stored on the attendee, shown on the
meeting page, the organiser told once; strangers, forged answers and broken calendars are not
claimed (they end in the unmatched-mail queue, nothing lost)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import make_msgid

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.activities.mail.models import MailMessage
from contacts.activities.meetings import services as meeting_services
from contacts.activities.models import Notification, NotificationKind
from crm.models import InboundStatus
from tests.activities.test_mail_inbound import receive
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"


@pytest.fixture
def meeting(rep, rep_teammate):
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    start = timezone.now() + dt.timedelta(days=2)
    data = meeting_services.MeetingInput(
        title="Quarterly review",
        start=start,
        end=start + dt.timedelta(minutes=45),
        contacts=[contact],
        colleagues=[rep_teammate],
    )
    return meeting_services.meeting_schedule(record=contact, data=data, actor=rep)


def _ics(uid: str, attendee: str, partstat: str, *, stamp: dt.datetime | None = None) -> str:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Test client//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REPLY")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", 0)
    event.add("dtstamp", stamp or timezone.now())
    address = icalendar.vCalAddress(f"mailto:{attendee}")
    address.params["partstat"] = partstat
    event.add("attendee", address)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def reply_mime(
    uid: str,
    attendee: str,
    partstat: str,
    *,
    sender: str | None = None,
    as_attachment: bool = False,
    stamp: dt.datetime | None = None,
    calendar: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Someone <{sender or attendee}>"
    message["To"] = "sales@acme.test"
    message["Subject"] = f"{partstat.title()}: Quarterly review"
    message["Message-ID"] = make_msgid(domain="customer.test")
    message["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
    message.set_content("I will be there.")
    text = calendar if calendar is not None else _ics(uid, attendee, partstat, stamp=stamp)
    if as_attachment:
        message.add_attachment(
            text.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    else:
        message.add_alternative(text, subtype="calendar", params={"method": "REPLY"})
    return message.as_bytes()


def _response(meeting, email):
    return meeting.attendees.get(email=email).response


def test_an_accepting_reply_updates_the_attendee_and_shows_on_the_page(meeting, rep, client):
    row = receive(reply_mime(meeting.uid, "mia@customer.test", "ACCEPTED"))
    assert row.status == InboundStatus.DISPATCHED
    assert row.claimed_by == "meeting-replies"
    assert _response(meeting, "mia@customer.test") == "ACCEPTED"
    assert _response(meeting, "teammate@example.com") == "NEEDS-ACTION"
    note = Notification.objects.get(recipient=rep)
    assert note.kind == NotificationKind.CHANGE
    assert "accepted" in note.text
    login(client, rep)
    html = client.get(reverse("activities:meeting", args=[meeting.pk])).content.decode()
    assert "Accepted" in html
    assert "No answer yet" in html


@pytest.mark.parametrize(("partstat", "shown"), [("DECLINED", "Declined"), ("TENTATIVE", "Maybe")])
def test_declined_and_tentative_as_an_ics_attachment(meeting, partstat, shown, rep, client):
    receive(reply_mime(meeting.uid, "mia@customer.test", partstat, as_attachment=True))
    assert _response(meeting, "mia@customer.test") == partstat
    login(client, rep)
    assert shown in client.get(reverse("activities:meeting", args=[meeting.pk])).content.decode()


def test_the_same_reply_twice_tells_the_organiser_once(meeting, rep):
    raw = reply_mime(meeting.uid, "mia@customer.test", "ACCEPTED")
    receive(raw)
    receive(raw)
    from crm import mailin
    from crm.models import InboundMessage

    # dispatched again (a worker that died half-way): still one notification
    row = InboundMessage.objects.get()
    InboundMessage.objects.filter(pk=row.pk).update(status=InboundStatus.RECEIVED)
    mailin.process(inbound_id=row.pk)
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_an_older_answer_arriving_late_does_not_win(meeting):
    now = timezone.now()
    receive(reply_mime(meeting.uid, "mia@customer.test", "DECLINED", stamp=now))
    receive(
        reply_mime(meeting.uid, "mia@customer.test", "ACCEPTED", stamp=now - dt.timedelta(hours=1))
    )
    assert _response(meeting, "mia@customer.test") == "DECLINED"


def test_a_colleague_answers_too(meeting):
    receive(reply_mime(meeting.uid, "teammate@example.com", "TENTATIVE"))
    assert _response(meeting, "teammate@example.com") == "TENTATIVE"


@pytest.mark.parametrize(
    "case",
    ["forged_sender", "stranger", "unknown_uid", "needs_action", "broken", "request"],
)
def test_what_is_not_an_attendees_own_answer_is_not_claimed(meeting, case):
    uid, attendee, partstat, sender, calendar = (
        meeting.uid,
        "mia@customer.test",
        "ACCEPTED",
        None,
        None,
    )
    if case == "forged_sender":
        sender = "mallory@evil.test"  # answering for Mia
    elif case == "stranger":
        attendee = "bob@elsewhere.test"
    elif case == "unknown_uid":
        uid = "nope@acme.test"
    elif case == "needs_action":
        partstat = "NEEDS-ACTION"
    elif case == "broken":
        calendar = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID;=:\x7f\r\n"
    elif case == "request":
        calendar = _ics(uid, attendee, partstat).replace("METHOD:REPLY", "METHOD:REQUEST")
    row = receive(reply_mime(uid, attendee, partstat, sender=sender, calendar=calendar))
    # Not claimed as an answer: a known sender's mail lands on the timeline, a stranger's
    # waits in the unmatched queue; either way nothing is lost.
    assert row.claimed_by != "meeting-replies"
    if row.status == InboundStatus.DISPATCHED:
        assert MailMessage.objects.filter(message_id=row.message_id).exists()
    else:
        assert row.status == InboundStatus.UNMATCHED
    assert _response(meeting, "mia@customer.test") == "NEEDS-ACTION"


def test_moving_the_meeting_asks_again(meeting, rep):
    receive(reply_mime(meeting.uid, "mia@customer.test", "ACCEPTED"))
    interaction = meeting.interaction
    contact = interaction.contact
    later = interaction.occurred_at + dt.timedelta(hours=2)
    data = meeting_services.MeetingInput(
        title="Quarterly review",
        start=later,
        end=later + interaction.duration,
        contacts=[contact],
    )
    meeting_services.meeting_update(meeting=meeting, data=data, actor=rep)
    assert _response(meeting, "mia@customer.test") == "NEEDS-ACTION"


def test_nul_bytes_in_the_calendar_are_dropped_and_the_answer_counts(meeting):
    calendar = _ics(meeting.uid, "mia@customer.test", "DECLINED").replace("UID:", "UID:\x00")
    receive(reply_mime(meeting.uid, "mia@customer.test", "DECLINED", calendar=calendar))
    assert _response(meeting, "mia@customer.test") == "DECLINED"
