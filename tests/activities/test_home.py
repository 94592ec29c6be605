"""The home page of the user's own work and the "My work" navigation count: what they show,
whose records, and queries that do not grow with the data."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.context import set_actor
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.activities import home, notifications
from contacts.activities.models import NotificationKind, Task
from contacts.models import Contact
from tests.activities.factories import make_task
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _task(user, title, due, **links):
    task = make_task(user, title=title, **links)
    Task.objects.filter(pk=task.pk).update(due_at=due)
    return task


@pytest.fixture
def day(rep, own_contact):
    now = timezone.now()
    _task(rep, "Late call", now - dt.timedelta(hours=30), contact=own_contact)
    _task(rep, "Later today", now + dt.timedelta(minutes=1), contact=own_contact)
    _task(rep, "Next week", now + dt.timedelta(days=7), contact=own_contact)
    return now


def test_root_goes_to_the_users_home(client, rep):
    login(client, rep)
    assert client.get(reverse("home")).url == reverse("activities:home")


def test_home_shows_overdue_today_notifications_and_recent_records(
    client, rep, rep_teammate, own_contact, day
):
    notifications.notify(
        recipient=rep,
        kind=NotificationKind.MENTION,
        target=own_contact,
        actor=rep_teammate,
        text="Teammate mentioned you on Olivia",
        email=False,
    )
    with set_actor(rep):
        edited = ContactFactory(owner=rep, given_name="Recently", family_name="Edited")
    login(client, rep)
    response = client.get(reverse("activities:home"))
    assert response.status_code == 200
    html = response.text
    assert "Late call" in html
    assert "Later today" in html
    assert "Next week" not in html  # upcoming is on My work
    assert "Teammate mentioned you on Olivia" in html
    assert edited.get_absolute_url() in html
    assert "1 overdue task" in html


def test_recent_records_leave_out_what_the_user_may_no_longer_see(client, rep, rep_other_team):
    with set_actor(rep):
        gone = ContactFactory(owner=rep, given_name="Handed", family_name="Over")
    Contact.objects.filter(pk=gone.pk).update(owner=rep_other_team, team=rep_other_team.team)
    recent = home.recent_records(user=rep)
    assert gone.pk not in [item["obj"].pk for item in recent]


def test_home_queries_do_not_grow_with_tasks_records_or_notifications(
    client, rep, rep_teammate, own_contact, day
):
    login(client, rep)
    client.get(reverse("activities:home"))  # warm the role cache
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("activities:home"))
    now = timezone.now()
    for i in range(15):
        contact = ContactFactory(owner=rep, given_name=f"Extra {i}")
        _task(rep, f"Overdue {i}", now - dt.timedelta(hours=i + 2), contact=contact)
        _task(rep, f"Today {i}", now + dt.timedelta(minutes=i + 1), contact=contact)
        notifications.notify(
            recipient=rep,
            kind=NotificationKind.COMMENT,
            target=contact,
            actor=rep_teammate,
            text=f"note {i}",
            email=False,
        )
        with set_actor(rep):
            ContactFactory(owner=rep, given_name=f"Touched {i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("activities:home"))
    assert "Overdue 14" in response.text or "See all" in response.text
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_my_work_count_is_overdue_plus_today_in_one_query(client, rep, day):
    login(client, rep)
    url = reverse("activities:my-work-count")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **HX)
    assert ">2<" in response.text
    assert "text-bg-danger" in response.text  # something is overdue
    assert len(queries) <= 3  # session, user, the count
    page = client.get(reverse("activities:my-work"))
    assert url in page.text  # the navigation loads it


def test_my_work_count_is_empty_with_nothing_due(client, rep_teammate):
    login(client, rep_teammate)
    response = client.get(reverse("activities:my-work-count"))
    assert response.status_code == 200
    assert response.text == ""
