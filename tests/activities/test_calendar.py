"""The calendar: a user's tasks and meetings by month, week and day (bounded queries), moving a
task to another day (keeps its time in the assignee's zone), and the secret .ics feed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from contacts.activities import agenda
from contacts.activities.models import Interaction, Task
from tests.activities.factories import log_interaction, make_task
from tests.conftest import login

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _task(user, title, due, **links):
    task = make_task(user, title=title, **links)
    Task.objects.filter(pk=task.pk).update(due_at=due)
    task.refresh_from_db()
    return task


def _meeting(user, contact, subject, when):
    """A meeting planned for `when` (the services log only what happened: set the time after)."""
    meeting = log_interaction(user, contact=contact, channel="meeting", subject=subject)
    Interaction.objects.filter(pk=meeting.pk).update(occurred_at=when)
    return meeting


def test_ranges_cover_whole_weeks():
    month = agenda.date_range("month", dt.date(2026, 11, 18))
    assert month.start == dt.date(2026, 10, 26)  # a Monday
    assert month.end == dt.date(2026, 12, 7)
    assert all(len(week) == 7 for week in month.weeks)
    assert (month.previous, month.next) == (dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    week = agenda.date_range("week", dt.date(2026, 11, 18))
    assert (week.start, week.end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 23))
    day = agenda.date_range("day", dt.date(2026, 11, 18))
    assert day.days == [dt.date(2026, 11, 18)]


def test_month_shows_my_tasks_and_meetings_not_others(client, rep, rep_teammate, own_contact):
    _task(rep, "Quote follow-up", dt.datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
    _task(rep_teammate, "Teammate's task", dt.datetime(2026, 11, 18, 11, 0, tzinfo=UTC))
    _meeting(rep, own_contact, "Demo meeting", dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    login(client, rep)
    response = client.get(reverse("activities:calendar"), {"date": "2026-11-18"})
    assert response.status_code == 200
    html = response.text
    assert "Quote follow-up" in html
    assert "Demo meeting" in html
    assert "Teammate&#x27;s task" not in html
    assert 'data-day="2026-11-18"' in html
    team = client.get(reverse("activities:calendar"), {"date": "2026-11-18", "who": "team"})
    assert "Teammate" in team.text


def test_calendar_queries_do_not_grow_with_items(client, rep, own_contact):
    _task(rep, "First", dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC), contact=own_contact)
    login(client, rep)
    url = reverse("activities:calendar")
    client.get(url, {"date": "2026-11-18"})
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"date": "2026-11-18"})
    for i in range(25):
        _task(rep, f"Task {i}", dt.datetime(2026, 11, 1 + i, 9, 0, tzinfo=UTC), contact=own_contact)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"date": "2026-11-18"})
    assert "Task 24" in response.text
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"view": "year"}, "Unknown view"),
        ({"date": "2026-02-30"}, "Not a date"),
        ({"date": "😀" * 100}, "Not a date"),
    ],
)
def test_bad_views_and_dates_get_a_message_and_400(client, rep, params, message):
    login(client, rep)
    response = client.get(reverse("activities:calendar"), params)
    assert response.status_code == 400
    assert message in response.text


def test_moving_a_task_keeps_its_time_in_the_assignees_zone(client, rep):
    rep.time_zone = "Asia/Shanghai"
    rep.save(update_fields=["time_zone"])
    task = _task(rep, "Call", dt.datetime(2026, 11, 18, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai
    login(client, rep)
    url = reverse("activities:task-reschedule", args=[task.pk])
    response = client.post(url, {"date": "2026-11-25"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    task.refresh_from_db()
    local = task.due_at.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 11, 25), 9, 30)
    assert response.json()["date"] == "2026-11-25"


def test_moving_needs_a_real_day_an_open_task_and_the_right(
    client, rep, rep_teammate, rep_other_team
):
    from contacts.activities import services

    task = _task(rep, "Call", dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    login(client, rep)
    url = reverse("activities:task-reschedule", args=[task.pk])
    for bad in ("", "2026-13-01", "tomorrow"):
        response = client.post(url, {"date": bad}, HTTP_ACCEPT="application/json")
        assert response.status_code == 422
        assert response.json()["error"]
    no_js = client.post(url, {"date": "nope", "next": "/activities/calendar/?view=day"})
    assert no_js.status_code == 302
    services.task_complete(task=task, actor=rep)
    done = client.post(url, {"date": "2026-11-20"}, HTTP_ACCEPT="application/json")
    assert done.status_code == 422
    login(client, rep_other_team)
    assert client.post(url, {"date": "2026-11-20"}).status_code == 404
    task.refresh_from_db()
    assert task.due_at == dt.datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def test_ics_feed_with_the_right_token_only(client, rep, own_contact):
    soon = timezone.now() + dt.timedelta(days=2)
    _task(rep, "Renewal call", soon, contact=own_contact)
    _meeting(rep, own_contact, "QBR", soon)
    token = agenda.feed_token(rep)
    url = reverse("activities:calendar-feed", args=[rep.pk, token])
    response = client.get(url)  # no sign-in: the token is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    summaries = {str(c.get("summary")) for c in calendar.walk() if c.get("summary")}
    assert {"Renewal call", "QBR"} <= summaries
    for bad in (token[:-1] + ("0" if token[-1] != "0" else "1"), "x", "😀"):
        bad_url = reverse("activities:calendar-feed", args=[rep.pk, bad])
        assert client.get(bad_url).status_code == 404
    rep.set_password("a-new-password-123")
    rep.save(update_fields=["password"])
    assert client.get(url).status_code == 404  # a new password revokes the old address
