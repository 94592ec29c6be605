"""A meeting is on each internal attendee's calendar and .ics feed (not only the organiser's),
with the invitation's UID; taken off or cancelled, it leaves; the calendar stays bounded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from contacts.activities import agenda
from contacts.activities.meetings import services as meeting_services
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _schedule(rep, colleagues, title="Pipeline review"):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    start = timezone.now() + dt.timedelta(days=1)
    data = meeting_services.MeetingInput(
        title=title,
        start=start,
        end=start + dt.timedelta(minutes=30),
        contacts=[contact],
        colleagues=list(colleagues),
    )
    return meeting_services.meeting_schedule(record=contact, data=data, actor=rep), contact, start


def _titles(user, start) -> list[str]:
    day = timezone.localtime(start).date()
    found = agenda.items(user=user, start=day, end=day + dt.timedelta(days=1))
    return [item.title for items in found.values() for item in items]


def test_the_meeting_is_on_the_invited_colleagues_calendar(rep, rep_teammate, manager):
    _meeting, _contact, start = _schedule(rep, [rep_teammate])
    assert any("Pipeline review" in t for t in _titles(rep_teammate, start))
    assert any("Pipeline review" in t for t in _titles(rep, start))
    assert not any("Pipeline review" in t for t in _titles(manager, start))  # not invited


def test_taken_off_or_cancelled_it_leaves_the_calendar(rep, rep_teammate):
    meeting, contact, start = _schedule(rep, [rep_teammate])
    data = meeting_services.MeetingInput(
        title="Pipeline review",
        start=start,
        end=start + dt.timedelta(minutes=30),
        contacts=[contact],
    )
    meeting_services.meeting_update(meeting=meeting, data=data, actor=rep)
    assert _titles(rep_teammate, start) == []
    again, _c, start2 = _schedule(rep, [rep_teammate], title="Second")
    meeting_services.meeting_cancel(meeting=again, actor=rep)
    assert _titles(rep_teammate, start2) == []


def test_the_attendees_feed_has_it_with_the_invitation_uid(client, rep, rep_teammate):
    meeting, _contact, _start = _schedule(rep, [rep_teammate])
    url = reverse(
        "activities:calendar-feed", args=[rep_teammate.pk, agenda.feed_token(rep_teammate)]
    )
    calendar = Calendar.from_ical(client.get(url).content)
    uids = {str(e.get("uid")) for e in calendar.walk("VEVENT")}
    assert meeting.uid in uids


def test_the_calendar_page_stays_bounded_with_many_invitations(
    client, rep, rep_teammate, django_assert_max_num_queries
):
    for i in range(8):
        _m, _c, start = _schedule(rep, [rep_teammate], title=f"Meeting {i}")
    login(client, rep_teammate)
    day = timezone.localtime(start).date().isoformat()
    with django_assert_max_num_queries(14):
        response = client.get(reverse("activities:calendar") + f"?view=week&date={day}")
    assert response.status_code == 200
    assert response.content.decode().count("Meeting ") >= 8


# --- scheduling from the calendar ------------------------------------------------------------


def test_calendar_offers_new_meeting_links_for_each_day(client, rep):
    login(client, rep)
    html = client.get(reverse("activities:calendar") + "?view=week&date=2026-12-02").content
    page = html.decode()
    start = reverse("activities:meeting-start")
    assert f'href="{start}?start=2026-11-30T09:00"' in page  # the week's Monday
    assert page.count("data-new-meeting=") == 7


def test_read_only_gets_no_link_and_a_403(client, read_only):
    login(client, read_only)
    assert "data-new-meeting" not in client.get(reverse("activities:calendar")).content.decode()
    assert client.get(reverse("activities:meeting-start")).status_code == 403


def test_start_page_finds_what_the_user_sees_and_keeps_the_time(
    client, rep, rep_other_team, django_assert_max_num_queries
):
    from tests.contacts.factories import CompanyFactory

    ContactFactory(owner=rep, given_name="Mia", family_name="Wong", emails=["mia@c.test"])
    ContactFactory(owner=rep_other_team, given_name="Mia", family_name="Hidden", emails=["h@c.t"])
    ContactFactory(owner=rep, given_name="Mia", family_name="Noemail", emails=[])
    CompanyFactory(owner=rep, name="Mia Robotics")
    login(client, rep)
    url = reverse("activities:meeting-start") + "?start=2026-12-03T14:30&q=mia"
    with django_assert_max_num_queries(10):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Wong" in html
    assert "Mia Robotics" in html
    assert "Hidden" not in html
    assert "Noemail" not in html
    assert "?start=2026-12-03T14%3A30" in html


def test_the_meeting_form_takes_the_start_from_the_calendar(client, rep):
    contact = ContactFactory(owner=rep, emails=["mia@c.test"])
    login(client, rep)
    url = reverse("activities:contact-meeting-new", args=[contact.pk]) + "?start=2026-12-03T14:30"
    form = client.get(url).context["form"]
    assert timezone.localtime(form.initial["start"]).strftime("%Y-%m-%d %H:%M") == (
        "2026-12-03 14:30"
    )


@pytest.mark.parametrize("bad", ["nonsense", "2026-13-45T99:99", "\x00", "😀" * 50])
def test_an_unreadable_start_is_a_400_with_a_message(client, rep, bad):
    login(client, rep)
    response = client.get(reverse("activities:meeting-start"), {"start": bad, "q": "x"})
    assert response.status_code == 400
    if "\x00" not in bad:  # a NUL byte is refused before the view (crm middleware)
        assert "Not a time" in response.content.decode()
    nul = client.get(reverse("activities:meeting-start"), {"q": "x\x00y"})
    assert nul.status_code == 400
