"""Activity pages and fragments: anonymous -> login, outsider -> 404, allowed -> 200, bad input ->
4xx with a message, and the quick log in two requests (form, outcome)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.activities.models import Interaction, Task, TaskStatus
from contacts.models import Contact
from tests.activities.factories import log_interaction, make_task
from tests.conftest import login

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
HOUR = dt.timedelta(hours=1)


def _log_url(contact: Contact, channel: str = "call") -> str:
    return f"{reverse('activities:contact-log', args=[contact.pk])}?channel={channel}"


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def call(rep, own_contact) -> Interaction:
    return log_interaction(rep, contact=own_contact, subject="First call", ago=HOUR)


@pytest.fixture
def task(rep, own_contact) -> Task:
    return make_task(rep, title="Send the quote", contact=own_contact)


def _urls(call: Interaction, task: Task, contact: Contact) -> list[tuple[str, str]]:
    return [
        ("get", _log_url(contact)),
        ("get", reverse("activities:contact-interactions", args=[contact.pk])),
        ("get", reverse("activities:interaction-edit", args=[call.pk])),
        ("post", reverse("activities:interaction-archive", args=[call.pk])),
        ("get", reverse("activities:contact-task-create", args=[contact.pk])),
        ("get", reverse("activities:task-edit", args=[task.pk])),
        ("get", reverse("activities:task-complete", args=[task.pk])),
        ("post", reverse("activities:task-reopen", args=[task.pk])),
        ("get", reverse("activities:my-work")),
    ]


def test_anonymous_is_sent_to_login(client, call, task, own_contact):
    for method, url in _urls(call, task, own_contact):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert reverse("accounts:login") in response["Location"]


def test_outsider_gets_404(client, rep_other_team, call, task, own_contact):
    login(client, rep_other_team)
    for method, url in _urls(call, task, own_contact):
        if url == reverse("activities:my-work"):
            continue  # their own page
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
    call.refresh_from_db()
    assert call.archived_at is None


def test_read_only_may_look_but_not_log(client, read_only, call, own_contact):
    login(client, read_only)
    listing = reverse("activities:contact-interactions", args=[own_contact.pk])
    assert client.get(listing).status_code == 200
    assert client.get(_log_url(own_contact)).status_code == 403
    assert client.get(reverse("activities:interaction-edit", args=[call.pk])).status_code == 403


def test_quick_log_form_is_prefilled_and_offers_outcomes(rep_client, own_contact):
    response = rep_client.get(_log_url(own_contact), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="interaction-form"' in html
    assert "<html" not in html  # a fragment
    assert f'value="{_local(timezone.now())[:13]}' in html  # this hour, in the user's zone
    assert 'name="outcome" value="no_answer"' in html
    assert "Olivia Owner" in html


def test_quick_log_saves_on_outcome_tap(rep_client, rep, own_contact):
    form = rep_client.get(_log_url(own_contact), **HX).content.decode()
    occurred = form.split('name="occurred_at" value="')[1].split('"')[0]  # pre-filled: now
    response = rep_client.post(
        _log_url(own_contact),
        {"channel": "call", "occurred_at": occurred, "outcome": "left_message"},
        **HX,
    )
    assert response.status_code == 200
    assert "contact-changed" in response["HX-Trigger"]
    assert "Call logged." in response.content.decode()
    logged = Interaction.objects.get()
    assert (logged.contact, logged.outcome, logged.logged_by) == (own_contact, "left_message", rep)
    own_contact.refresh_from_db()
    assert own_contact.last_contacted_at == logged.occurred_at


def test_log_without_javascript_redirects_to_contact(rep_client, own_contact):
    response = rep_client.post(
        _log_url(own_contact, "note"),
        {"channel": "note", "occurred_at": _local(timezone.now()), "body": "Likes tea"},
    )
    assert response.status_code == 302
    assert response["Location"] == own_contact.get_absolute_url()
    assert Interaction.objects.get().body == "Likes tea"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "call", "occurred_at": ""}, "This field is required."),
        ({"channel": "call", "occurred_at": "yesterday"}, "Enter a valid date/time."),
        ({"channel": "call", "occurred_at": "future", "outcome": "busy"}, "add a task for"),
        ({"channel": "call", "occurred_at": "now", "outcome": "held"}, "does not fit a call"),
        ({"channel": "call", "occurred_at": "now", "duration_minutes": "-5"}, "greater than"),
    ],
)
def test_bad_input_is_422_with_message(rep_client, own_contact, data, message):
    data = dict(data)
    if data["occurred_at"] == "future":
        data["occurred_at"] = _local(timezone.now() + 3 * HOUR)
    elif data["occurred_at"] == "now":
        data["occurred_at"] = _local(timezone.now())
    response = rep_client.post(_log_url(own_contact), data, **HX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Interaction.objects.exists()


def test_log_on_company(rep_client, own_company):
    url = reverse("activities:company-log", args=[own_company.pk]) + "?channel=meeting"
    response = rep_client.post(
        url, {"channel": "meeting", "occurred_at": _local(timezone.now()), "outcome": "held"}, **HX
    )
    assert response.status_code == 200
    assert "company-changed" in response["HX-Trigger"]
    assert Interaction.objects.get().company == own_company


def test_edit_and_archive(rep_client, call, own_contact):
    url = reverse("activities:interaction-edit", args=[call.pk])
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(
        url,
        {
            "channel": "call",
            "occurred_at": _local(call.occurred_at),
            "subject": "Renamed",
            "outcome": "connected",
        },
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.subject, call.outcome) == ("Renamed", "connected")
    bad = rep_client.post(url, {"channel": "call", "occurred_at": "soon"})
    assert bad.status_code == 422
    archive = reverse("activities:interaction-archive", args=[call.pk])
    assert rep_client.post(archive).status_code == 302
    call.refresh_from_db()
    assert call.archived_at is not None
    listing = rep_client.get(reverse("activities:contact-interactions", args=[own_contact.pk]))
    assert "Renamed" not in listing.content.decode()
    # The history keeps both changes, with who made them (django-auditlog).
    from auditlog.models import LogEntry

    changes = [e.changes_dict for e in LogEntry.objects.get_for_object(call).order_by("pk")]
    assert any(c.get("subject", [None, None])[1] == "Renamed" for c in changes)
    assert "archived_at" in changes[-1]
    assert LogEntry.objects.get_for_object(call).filter(actor__isnull=False).exists()


def test_the_edit_page_shows_the_interactions_history(rep_client, rep, call):
    url = reverse("activities:interaction-edit", args=[call.pk])
    data = {"channel": "call", "occurred_at": _local(call.occurred_at), "subject": "Renamed"}
    assert rep_client.post(url, {**data, "outcome": "connected"}).status_code == 302
    page = rep_client.get(url).content.decode()
    history = page.split('id="interaction-history"', 1)[1]
    assert "Renamed" in history
    assert str(rep) in history


def test_record_interactions_queries_do_not_grow(rep_client, rep, own_contact):
    url = reverse("activities:contact-interactions", args=[own_contact.pk])
    log_interaction(rep, contact=own_contact)
    rep_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert rep_client.get(url, **HX).status_code == 200
    for i in range(10):
        log_interaction(rep, contact=own_contact, ago=(i + 2) * HOUR)
    with CaptureQueriesContext(connection) as many:
        response = rep_client.get(url, **HX)
    assert response.content.decode().count("list-group-item") == 11
    assert len(many.captured_queries) == len(few.captured_queries)


# --- tasks -----------------------------------------------------------------------------------


def test_task_create_from_contact_fragment(rep_client, rep, own_contact):
    url = reverse("activities:contact-task-create", args=[own_contact.pk])
    assert rep_client.get(url, **HX).status_code == 200
    due = timezone.now() + 3 * HOUR
    response = rep_client.post(
        url, {"title": "Send deck", "due_at": _local(due), "priority": "high"}, **HX
    )
    assert response.status_code == 200
    assert "task-changed" in response["HX-Trigger"]
    task = Task.objects.get()
    assert (task.owner, task.contact, task.priority) == (rep, own_contact, "high")


def test_task_create_bad_input(rep_client, rep_other_team):
    url = reverse("activities:task-create")
    response = rep_client.post(url, {"title": "", "priority": "normal"}, **HX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    response = rep_client.post(
        url, {"title": "Spy", "priority": "normal", "assignee": rep_other_team.pk}, **HX
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Task.objects.exists()


def test_complete_with_call_then_reopen(rep_client, task, own_contact):
    url = reverse("activities:task-complete", args=[task.pk])
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(url, {"log_channel": "call", "outcome": "connected"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.outcome_interaction.contact == own_contact
    again = rep_client.post(url, {"log_channel": "call", "outcome": "connected"}, follow=True)
    assert "already done" in again.content.decode()
    assert Interaction.objects.count() == 1
    rep_client.post(reverse("activities:task-reopen", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_complete_with_wrong_outcome_is_422(rep_client, task):
    url = reverse("activities:task-complete", args=[task.pk])
    response = rep_client.post(url, {"log_channel": "call", "outcome": "held"})
    assert response.status_code == 422
    assert "does not fit a call" in response.content.decode()


def test_my_work_page(rep_client, rep, own_contact):
    make_task(rep, title="Overdue thing", due_at=timezone.now() - HOUR, contact=own_contact)
    make_task(rep, title="Later thing")
    response = rep_client.get(reverse("activities:my-work"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Overdue thing" in html
    assert "Later thing" in html
    assert "My team" not in html


def test_my_work_queries_do_not_grow(client, manager, rep, own_contact):
    login(client, manager)
    url = reverse("activities:my-work")
    make_task(manager, title="one", due_at=timezone.now() - HOUR)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        make_task(manager, contact=own_contact, due_at=timezone.now() + i * HOUR)
        make_task(rep, contact=own_contact, due_at=timezone.now() - (i + 1) * HOUR)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert "My team" in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_contact_timeline_shows_interactions_and_tasks(rep_client, rep, company_contact):
    log_interaction(rep, contact=company_contact, subject="Kick-off call", outcome="connected")
    make_task(rep, title="Send minutes", contact=company_contact)
    url = reverse("contacts:contact-timeline", args=[company_contact.pk])
    html = rep_client.get(url, **HX).content.decode()
    assert "Kick-off call" in html
    assert "Connected" in html
    assert "Send minutes" in html
    only_calls = rep_client.get(url, {"kind": "interaction"}, **HX).content.decode()
    assert "Send minutes" not in only_calls
    assert "Edit" in html  # the rep may change their own call
    company_url = reverse("contacts:company-timeline", args=[company_contact.company.pk])
    company_html = rep_client.get(company_url, **HX).content.decode()
    assert "Kick-off call" in company_html
    assert "With Carla Caller" in company_html


def test_due_time_is_the_assignees_wall_clock(rep_client, rep_teammate):
    rep_teammate.time_zone = "Asia/Shanghai"
    rep_teammate.save(update_fields=["time_zone"])
    url = reverse("activities:task-create")
    response = rep_client.post(
        url,
        {"title": "Call at nine", "priority": "normal", "assignee": rep_teammate.pk,
         "due_at": "2026-12-01T09:00"},
    )  # fmt: skip
    assert response.status_code == 302
    task = Task.objects.get()
    assert task.due_at == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    edit = rep_client.get(reverse("activities:task-edit", args=[task.pk])).content.decode()
    assert 'value="2026-12-01T09:00"' in edit


def test_quick_log_panel_offers_click_to_call_that_opens_the_call_form(rep_client, own_contact):
    url = reverse("activities:contact-interactions", args=[own_contact.pk])
    html = rep_client.get(url).content.decode()
    log = reverse("activities:contact-log", args=[own_contact.pk])
    assert 'href="tel:+1(555)010-2000"' in html
    assert f'hx-get="{log}?channel=call" hx-trigger="click"' in html
    assert 'href="mailto:olivia@acme.example"' in html
    assert f'hx-get="{log}?channel=email" hx-trigger="click"' in html  # mailto offers it too
    assert "Log a call" in html


def test_contact_timeline_filters_by_channel_and_keeps_it_when_scrolling(
    rep_client, rep, own_contact
):
    for i in range(25):
        log_interaction(
            rep,
            contact=own_contact,
            channel="call" if i % 2 else "meeting",
            subject=f"Entry {i}",
            ago=dt.timedelta(hours=i + 1),
        )
    url = reverse("contacts:contact-timeline", args=[own_contact.pk])
    html = rep_client.get(url, {"kind": "interaction"}, **HX).content.decode()
    assert 'id="timeline-facets"' in html
    calls = rep_client.get(url, {"kind": "interaction", "facet": "call"}, **HX)
    assert calls.status_code == 200
    page = calls.content.decode()
    assert "Entry 23" in page  # the oldest call
    assert "Entry 24" not in page  # a meeting
    assert "facet=call" in page  # the refresh and the next page keep the channel
    assert "timeline-more" not in page  # 12 calls: one page
    bad = rep_client.get(url, {"kind": "interaction", "facet": "x" * 500}, **HX)
    assert bad.status_code == 200  # an unknown channel shows every interaction
