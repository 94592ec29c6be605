"""The ticket list's rows and the conversation's messages, built once in Python
(`support.rows`): what each shows, and that the pages show exactly that (escaped as before)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import Contact
from support.models import MessageKind, Queue, Status, Ticket, TicketMessage
from support.rows import RowMaker, TicketRow, Timers
from tests.conftest import login
from tests.support.factories import make_ticket

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
NBSP = "\xa0"


def _ticket(**values) -> Ticket:
    """A ticket in memory (no query): what a list row reads."""
    values.setdefault("status", Status.OPEN)
    values.setdefault("priority", "normal")
    values.setdefault("first_responded_at", NOW)
    return Ticket(
        pk=values.pop("pk", 7),
        number=values.pop("number", 42),
        subject=values.pop("subject", "Printer on fire"),
        queue=Queue(name="Helpdesk"),
        requester=Contact(display_name="Chris Customer"),
        created_at=values.pop("created_at", NOW - dt.timedelta(days=1)),
        **values,
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Breached: the first response is two hours late (it runs out before the resolution).
        (
            {
                "first_responded_at": None,
                "first_response_due": NOW - dt.timedelta(hours=2),
                "resolution_due": NOW + dt.timedelta(hours=5),
            },
            ("First response", f"overdue by 2{NBSP}hours", "danger"),
        ),
        # Breaching soon: within the hour.
        (
            {"resolution_due": NOW + dt.timedelta(minutes=45)},
            ("Resolution", f"due in 45{NBSP}minutes", "warning"),
        ),
        # On time: the first response was met, the resolution is days away.
        (
            {"resolution_due": NOW + dt.timedelta(days=3)},
            ("Resolution", f"due in 3{NBSP}days", "success"),
        ),
        # Waiting for the customer: paused.
        (
            {"status": Status.PENDING, "resolution_due": NOW - dt.timedelta(hours=1)},
            ("Resolution", "paused", "secondary"),
        ),
        # Solved: no timer runs.
        ({"status": Status.SOLVED, "resolution_due": NOW - dt.timedelta(hours=1)}, ("", "", "")),
    ],
)
def test_a_rows_timer_is_the_one_that_runs_out_first(values, expected):
    with translation.override("en"):
        row = RowMaker(now=NOW).row(_ticket(**values))
    assert (row.timer_label, row.timer_text, row.timer_color) == expected


@pytest.mark.parametrize(
    ("priority", "label", "color"),
    [
        ("low", "Low", "secondary"),
        ("normal", "Normal", "info"),
        ("high", "High", "warning"),
        ("urgent", "Urgent", "danger"),
    ],
)
def test_a_rows_priority_badge(priority, label, color):
    with translation.override("en"):
        row = RowMaker(now=NOW).row(_ticket(priority=priority))
    assert (row.priority, row.priority_color) == (label, color)


def test_a_row_in_chinese_in_the_users_time_zone():
    ticket = _ticket(
        subject="打印机着火了",
        status=Status.NEW,
        created_at=dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC),
    )
    with translation.override("zh-hans"), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        row = RowMaker(now=NOW).row(ticket)
    assert row == TicketRow(
        pk=7,
        url="/support/7/",
        subject="打印机着火了",
        reference="T-000042",
        priority="普通",  # Normal
        priority_color="info",
        status="新建",  # New
        requester="Chris Customer",
        tags=[],
        timer_label="",
        timer_text="",
        timer_color="",
        queue="Helpdesk",
        assignee="",  # unassigned
        created="2026年12月1日 07:30",  # 23:30 UTC the day before
    )


def test_timers_tag_and_rows_agree():
    """The ticket page's timers (`{% sla_timers %}`) and a row's come from one `Timers`."""
    ticket = _ticket(
        first_responded_at=None,
        first_response_due=NOW + dt.timedelta(hours=2),
        resolution_due=NOW + dt.timedelta(hours=8),
    )
    with translation.override("en"):
        timers = Timers(now=NOW)
        running = timers.running(ticket)
        assert [t.label for t in running] == ["First response", "Resolution"]
        assert timers.next(ticket) == running[0]


# --- through the pages -------------------------------------------------------------------


def _rows(response) -> dict[int, TicketRow]:
    return {row.pk: row for row in response.context["list"].rows}


@pytest.mark.django_db
def test_the_list_shows_each_row_escaped_with_its_badges(client, queue, lead, agent_b):
    now = timezone.now()
    late = make_ticket(queue, actor=lead, subject="Late one", assignee=lead, priority="urgent")
    soon = make_ticket(queue, actor=lead, subject="打印机着火了", assignee=agent_b, priority="high")
    calm = make_ticket(queue, actor=lead, subject="<b>Bold</b> & <script>x()</script>")
    low = make_ticket(queue, actor=lead, subject="Someday", priority="low")
    Ticket.objects.filter(pk=late.pk).update(first_response_due=now - dt.timedelta(hours=3))
    Ticket.objects.filter(pk__in=[soon.pk, calm.pk, low.pk]).update(first_responded_at=now)
    Ticket.objects.filter(pk=soon.pk).update(resolution_due=now + dt.timedelta(minutes=30))
    Ticket.objects.filter(pk__in=[calm.pk, low.pk]).update(
        resolution_due=now + dt.timedelta(days=5, hours=1)
    )
    Ticket.objects.filter(pk=low.pk).update(status=Status.SOLVED)
    login(client, lead)
    response = client.get(reverse("support:ticket-list"), {"view": "all"})
    assert response.status_code == 200
    rows = _rows(response)
    assert list(rows) == [t.pk for t in response.context["list"].page.items]
    assert (rows[late.pk].timer_label, rows[late.pk].timer_color) == ("First response", "danger")
    assert rows[late.pk].timer_text.startswith("overdue by 3")
    assert (rows[late.pk].priority, rows[late.pk].priority_color) == ("Urgent", "danger")
    assert rows[late.pk].assignee == str(lead)
    assert (rows[soon.pk].timer_label, rows[soon.pk].timer_color) == ("Resolution", "warning")
    assert rows[soon.pk].timer_text.startswith("due in 29") or rows[soon.pk].timer_text.startswith(
        "due in 30"
    )
    assert rows[soon.pk].subject == "打印机着火了"
    assert (rows[calm.pk].timer_color, rows[calm.pk].timer_text) == (
        "success",
        f"due in 5{NBSP}days",
    )
    assert (rows[calm.pk].priority, rows[calm.pk].assignee) == ("Normal", "")
    assert (rows[low.pk].status, rows[low.pk].timer_label) == ("Solved", "")
    assert rows[low.pk].url == low.get_absolute_url()
    assert rows[low.pk].reference == low.reference

    body = response.content.decode()
    assert "<b>Bold</b>" not in body
    assert "<script>x()</script>" not in body
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in body
    link = (
        f'<a href="{soon.get_absolute_url()}" class="fw-semibold text-break" id="ticket-{soon.pk}">'
    )
    assert f"{link}打印机着火了</a>" in body
    assert '<span class="badge text-bg-danger">Urgent</span>' in body
    assert '<span class="badge text-bg-secondary">Low</span>' in body
    assert '<span class="text-body-secondary">Unassigned</span>' in body
    assert '<span class="text-body-secondary">—</span>' in body  # the solved one: no timer
    assert '<span class="text-warning-emphasis text-nowrap">' in body
    # The bulk checkbox of every row (an agent may change them).
    for pk in rows:
        assert f'name="ids" value="{pk}" form="ticket-list-results-bulk"' in body

    # The HTMX fragment has the same rows.
    fragment = client.get(reverse("support:ticket-list"), {"view": "all"}, HTTP_HX_REQUEST="true")
    assert _rows(fragment) == rows
    assert "&lt;script&gt;x()&lt;/script&gt;" in fragment.content.decode()


@pytest.mark.django_db
def test_tabs_queue_views_and_saved_views_read_the_same_rows(client, queue, lead):
    from crm.models import SavedView

    mine = make_ticket(queue, actor=lead, subject="Mine", assignee=lead)
    make_ticket(queue, actor=lead, subject="Nobody's")
    SavedView.objects.create(
        user=lead, list_name="tickets", name="Q", query="view=all&sort=-created"
    )
    login(client, lead)
    url = reverse("support:ticket-list")
    for query in (
        {},
        {"view": "mine"},
        {"view": "unassigned"},
        {"view": "breaching"},
        {"view": "open", "queue": queue.pk},
        {"view": "all", "sort": "-created"},
        {"view": "all", "q": mine.reference},
    ):
        response = client.get(url, query)
        assert response.status_code == 200
        rows = response.context["list"].rows
        assert all(isinstance(row, TicketRow) for row in rows)
        assert [r.pk for r in rows] == [t.pk for t in response.context["list"].page.items]
        for row in rows:
            assert f'id="ticket-{row.pk}"' in response.content.decode()


@pytest.mark.django_db
def test_a_read_only_rep_gets_rows_without_checkboxes(client, queue, lead, rep):
    ticket = make_ticket(queue, actor=lead, subject="Their team's")
    Ticket.objects.filter(pk=ticket.pk).update(team=rep.team)
    login(client, rep)
    response = client.get(reverse("support:ticket-list"), {"view": "all"})
    assert [r.pk for r in response.context["list"].rows] == [ticket.pk]
    assert 'name="ids"' not in response.content.decode()


@pytest.mark.django_db
def test_the_conversation_shows_each_message_as_before(client, queue, lead, agent_b, rep):
    ticket = make_ticket(queue, actor=lead, subject="Thread", requester_name="Li Wei")
    asked = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.CUSTOMER, body="Line one\n<i>two</i> & 三"
    )
    note = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.NOTE, author=agent_b, body="Internal"
    )
    system = TicketMessage.objects.create(ticket=ticket, kind=MessageKind.NOTE, body="SLA warning")
    login(client, lead)
    upload = SimpleUploadedFile("log.txt", b"x" * 2048, content_type="text/plain")
    client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "public", "body": "Here", "attachments": [upload], "seen": system.pk},
    )
    reply = TicketMessage.objects.get(ticket=ticket, body="Here")
    response = client.get(ticket.get_absolute_url())
    thread = {m.pk: m for m in response.context["thread"]}
    assert list(thread)[-4:] == [asked.pk, note.pk, system.pk, reply.pk]
    assert (thread[asked.pk].author, thread[asked.pk].kind) == ("Li Wei", "From the customer")
    assert thread[asked.pk].card_class == "border-primary-subtle"
    assert thread[asked.pk].body == "Line one<br>&lt;i&gt;two&lt;/i&gt; &amp; 三"
    assert thread[asked.pk].splittable
    assert (thread[note.pk].author, thread[note.pk].kind) == (str(agent_b), "Internal note")
    assert thread[note.pk].card_class == "bg-warning-subtle border-warning-subtle"
    assert not thread[note.pk].splittable
    assert thread[system.pk].author == "System"
    assert (thread[reply.pk].author, thread[reply.pk].card_class) == (str(lead), "")
    [file] = thread[reply.pk].files
    attachment = reply.attachments.get()
    assert (file.url, file.name) == (
        reverse("support:attachment-download", args=[attachment.pk]),
        "log.txt",
    )
    assert file.size == f"2.0{NBSP}KB"
    assert thread[reply.pk].created_iso == timezone.localtime(reply.created_at).isoformat()
    body = response.content.decode()
    assert "Line one<br>&lt;i&gt;two&lt;/i&gt; &amp; 三" in body
    assert f'<article class="card mb-2 border-primary-subtle" id="message-{asked.pk}">' in body
    assert f'<a href="{file.url}" hx-boost="false">📎 log.txt</a>' in body
    split = reverse("support:ticket-split", args=[ticket.pk])
    assert body.count(f'action="{split}"') == 1  # the customer's message only

    # Read-only (the rep sees their team's ticket): no split forms.
    Ticket.objects.filter(pk=ticket.pk).update(team=rep.team)
    login(client, rep)
    seen = client.get(ticket.get_absolute_url())
    assert not any(m.splittable for m in seen.context["thread"])
    assert split not in seen.content.decode()
