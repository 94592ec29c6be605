"""The agent workspace through the client: the ticket list (views, counts, filters, bulk), a
phone ticket, the ticket page (conversation, composer, collision guard, canned responses,
changes, attachments) and who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from crm.models import OutboxMessage
from support.models import (
    CannedResponse,
    Channel,
    MessageKind,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from tests.accounts.factories import UserFactory
from tests.conftest import login
from tests.support.factories import make_ticket
from tests.support.test_workspace_counts import tab_counts

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


def _ids(response):
    return [t.pk for t in response.context["list"].page.items]


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("support:ticket-list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_views_with_counts(client, queue, lead, agent_b):
    mine = make_ticket(queue, actor=lead, subject="Mine", assignee=lead)
    unassigned = make_ticket(queue, actor=lead, subject="Nobody's")
    theirs = make_ticket(queue, actor=lead, subject="Theirs", assignee=agent_b)
    # Far from breaching whatever the time of day (in the queue's working hours a new ticket's
    # first response is due within the 4-hour window).
    later = timezone.now() + dt.timedelta(days=30)
    Ticket.objects.update(first_response_due=later, resolution_due=later)
    Ticket.objects.filter(pk=theirs.pk).update(
        resolution_due=timezone.now() + dt.timedelta(minutes=30)
    )
    login(client, lead)
    url = reverse("support:ticket-list")
    response = client.get(url)  # agents land on their own open tickets
    assert response.status_code == 200
    assert _ids(response) == [mine.pk]
    # The tabs' counts are not cached (a test's transaction stores nothing): loaded after the
    # rows (tests/support/test_workspace_counts.py).
    assert 'hx-get="/support/counts/?view=mine&amp;queue="' in response.content.decode()
    counted = client.get(reverse("support:ticket-counts"), {"view": "mine"}, **HTMX)
    assert tab_counts(counted) == {"mine": 1, "unassigned": 1, "breaching": 1, "open": 3}
    assert _ids(client.get(url, {"view": "unassigned"})) == [unassigned.pk]
    assert _ids(client.get(url, {"view": "breaching"})) == [theirs.pk]
    assert set(_ids(client.get(url, {"view": "open", "queue": queue.pk}))) == {
        mine.pk,
        unassigned.pk,
        theirs.pk,
    }
    found = client.get(url, {"view": "all", "q": mine.reference})
    assert _ids(found) == [mine.pk]
    assert _ids(client.get(url, {"view": "all", "q": "theirs"})) == [theirs.pk]
    fragment = client.get(url, {"view": "all", "assignee": "none"}, **HTMX)
    assert fragment.status_code == 200
    assert 'id="ticket-list-results"' in fragment.content.decode()
    assert "Nobody" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_rows_show_sla_timers(client, queue, lead):
    late = make_ticket(queue, actor=lead, subject="Late one", assignee=lead)
    Ticket.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - dt.timedelta(hours=2)
    )
    login(client, lead)
    body = client.get(reverse("support:ticket-list")).content.decode()
    assert "overdue by 2" in body
    assert "First response" in body


@pytest.mark.parametrize(
    "query",
    [
        {"view": "everything"},
        {"status": "exploded"},
        {"queue": "999999"},
        {"assignee": "x"},
        {"q": "x" * 500},
        {"cursor": "%%%garbage"},
        {"sort": "nonsense"},
        {"q": "\U0001f600\U0001d518\u202e" * 30},
    ],
)
def test_bad_filters_get_a_clear_answer_never_a_500(client, queue, lead, query):
    make_ticket(queue, actor=lead)
    login(client, lead)
    response = client.get(reverse("support:ticket-list"), query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "were not understood" in response.content.decode()


def test_nul_in_a_filter_is_a_400(client, lead):
    login(client, lead)
    assert client.get(reverse("support:ticket-list"), {"q": "a\x00b"}).status_code == 400


def test_list_queries_do_not_grow_with_rows(client, queue, lead):
    login(client, lead)
    url = reverse("support:ticket-list")
    make_ticket(queue, actor=lead, assignee=lead)
    client.get(url)  # warm the role cache
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(30):
        make_ticket(queue, actor=lead, assignee=lead, subject=f"Ticket {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(_ids(response)) == 31
    assert len(many) == len(few)
    # 14, and the agent's ticket scope and queues (support/scope.py: one query), and the bulk
    # bar's "move to queue" options (selectors.all_queues): both cached between requests
    # outside a test's transaction.
    assert len(many) <= 16


def test_bulk_reassign_and_status_skips_what_the_user_may_not_work(
    client, queue, lead, agent_b, rep
):
    one = make_ticket(queue, actor=lead)
    two = make_ticket(queue, actor=lead)
    login(client, lead)
    url = reverse("support:ticket-bulk")
    ids = [one.pk, two.pk, 999999]
    response = client.post(url, {"action": "assign", "ids": ids, "assignee": agent_b.pk})
    assert response.status_code == 302
    response = client.post(url, {"action": "status", "ids": ids, "status": Status.ON_HOLD})
    assert response.status_code == 302
    for ticket in (one, two):
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.status) == (agent_b, Status.ON_HOLD)
    # Nothing chosen: a message, nothing changed.
    response = client.post(url, {"action": "status", "ids": [one.pk]}, follow=True)
    assert "Choose the new status." in response.content.decode()
    # A read-only role gets no checkboxes, and its posts change nothing.
    login(client, rep)
    client.post(url, {"action": "status", "ids": [one.pk], "status": Status.SOLVED})
    one.refresh_from_db()
    assert one.status == Status.ON_HOLD


def test_phone_ticket_in_a_few_taps(client, queue, lead):
    login(client, lead)
    url = reverse("support:ticket-create")
    form = client.get(url, {"channel": "phone"})
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "requester_email": "caller@example.net",
            "requester_name": "Casey Caller",
            "subject": "Cannot log in",
            "queue": queue.pk,
            "channel": Channel.PHONE,
            "priority": "high",
            "type": "incident",
            "assign_to_me": "on",
        },
    )
    ticket = Ticket.objects.get(subject="Cannot log in")
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert (ticket.channel, ticket.assignee, ticket.priority) == (Channel.PHONE, lead, "high")
    assert ticket.requester.primary_email == "caller@example.net"
    # From the contact's page: the requester is given, so only the subject is needed.
    again = client.post(
        f"{url}?contact={ticket.requester_id}",
        {
            "subject": "Follow-up call",
            "queue": queue.pk,
            "channel": Channel.PHONE,
            "priority": "normal",
            "type": "question",
        },
    )
    assert again.status_code == 302
    assert Ticket.objects.get(subject="Follow-up call").requester_id == ticket.requester_id
    bad = client.post(url, {"subject": "", "queue": "x"})
    assert bad.status_code == 422
    assert "Give the requester" in bad.content.decode()


def test_read_only_roles_may_not_create(client, rep):
    login(client, rep)
    assert client.get(reverse("support:ticket-create")).status_code == 403


def test_ticket_page_and_reply_through_htmx(client, queue, lead):
    ticket = make_ticket(queue, actor=lead, description="It smokes.")
    TicketMessage.objects.create(ticket=ticket, kind=MessageKind.CUSTOMER, body="Still smoking")
    login(client, lead)
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "It smokes." in body
    assert "Still smoking" in body
    assert "data-reply-composer" in body
    seen = page.context["page"].last_message_id
    response = client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "public", "body": "We are on it.", "seen": seen},
        **HTMX,
    )
    assert response.status_code == 200
    assert "We are on it." in response.content.decode()
    assert "ticket-changed" in response["HX-Trigger"]
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.first_responded_at is not None
    assert OutboxMessage.objects.filter(task_name="support.tasks.ticket_reply_send").count() == 1


def test_a_reply_over_a_newer_message_is_refused_and_the_newer_one_shown(
    client, queue, lead, agent_b
):
    ticket = make_ticket(queue, actor=lead)
    login(client, lead)
    seen = client.get(ticket.get_absolute_url()).context["page"].last_message_id
    # Meanwhile another agent answers.
    TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.PUBLIC, author=agent_b, body="Already answered by B"
    )
    response = client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "public", "body": "My duplicate answer", "seen": seen},
        **HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "A newer message arrived" in body
    assert "Already answered by B" in body
    assert "New since you started writing" in body
    assert "My duplicate answer" in body  # kept in the composer
    assert not TicketMessage.objects.filter(body="My duplicate answer").exists()
    # Sent again having seen it: accepted.
    newest = TicketMessage.objects.filter(ticket=ticket).latest("id").pk
    again = client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "public", "body": "My follow-up", "seen": newest},
        **HTMX,
    )
    assert again.status_code == 200


def test_empty_message_is_a_422_with_the_reason(client, queue, lead):
    ticket = make_ticket(queue, actor=lead)
    login(client, lead)
    response = client.post(
        reverse("support:ticket-message", args=[ticket.pk]), {"kind": "public", "body": "  "}
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode() or "Write a message" in (
        response.content.decode()
    )


def test_note_with_attachment_served_only_to_those_who_see_the_ticket(
    client, queue, lead, marketer, rep_other_team
):
    ticket = make_ticket(queue, actor=lead)
    login(client, lead)
    upload = SimpleUploadedFile("log.txt", b"line one\n", content_type="text/plain")
    response = client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "note", "body": "See the log", "attachments": [upload]},
    )
    assert response.status_code == 302
    attachment = TicketAttachment.objects.get(ticket=ticket)
    assert attachment.message.kind == MessageKind.NOTE
    url = reverse("support:attachment-download", args=[attachment.pk])
    assert url in client.get(ticket.get_absolute_url()).content.decode()
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line one\n"
    assert "attachment" in download["Content-Disposition"]
    for outsider in (marketer, rep_other_team):
        login(client, outsider)
        assert client.get(url).status_code == 404
        assert client.get(ticket.get_absolute_url()).status_code == 404


def test_canned_response_fills_merge_fields_and_applies_its_macro(client, queue, lead):
    ticket = make_ticket(queue, actor=lead, requester_name="Chris Customer")
    canned = CannedResponse.objects.create(
        title="Need logs",
        body="Hello {requester_first_name}, about {ticket_number}: please send logs. {unknown}",
        set_status=Status.PENDING,
        set_priority="high",
    )
    login(client, lead)
    composer = client.get(
        reverse("support:ticket-canned", args=[ticket.pk]), {"canned_pick": canned.pk}, **HTMX
    )
    assert composer.status_code == 200
    text = composer.content.decode()
    assert f"Hello Chris, about {ticket.reference}: please send logs. {{unknown}}" in text
    response = client.post(
        reverse("support:ticket-message", args=[ticket.pk]),
        {"kind": "public", "body": "Hello Chris, please send logs.", "canned": canned.pk},
        **HTMX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, "high")
    assert ticket.messages.filter(body="Hello Chris, please send logs.").exists()
    # An unknown canned id fills nothing.
    empty = client.get(reverse("support:ticket-canned", args=[ticket.pk]), {"canned_pick": "x"})
    assert empty.status_code == 200


def test_side_form_changes_status_priority_and_assignee(client, queue, lead, agent_b):
    ticket = make_ticket(queue, actor=lead)
    login(client, lead)
    url = reverse("support:ticket-update", args=[ticket.pk])
    response = client.post(
        url, {"status": Status.ON_HOLD, "priority": "urgent", "assignee": agent_b.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (
        Status.ON_HOLD,
        "urgent",
        agent_b,
    )
    outsider = UserFactory(email="elsewhere@example.com", role=Role.SUPPORT_AGENT)
    response = client.post(url, {"assignee": outsider.pk}, follow=True)
    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == agent_b


def test_ticket_page_queries_are_bounded_with_100_messages(client, queue, lead):
    ticket = make_ticket(queue, actor=lead)
    login(client, lead)
    client.get(ticket.get_absolute_url())
    TicketMessage.objects.bulk_create(
        TicketMessage(ticket=ticket, kind=MessageKind.CUSTOMER, body=f"m{i}") for i in range(5)
    )
    with CaptureQueriesContext(connection) as few:
        client.get(ticket.get_absolute_url())
    TicketMessage.objects.bulk_create(
        TicketMessage(ticket=ticket, kind=MessageKind.PUBLIC, author=lead, body=f"n{i}")
        for i in range(95)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(ticket.get_absolute_url())
    assert len(response.context["page"].messages) == 100
    assert len(many) == len(few)
    # 20, the Deals card (the user's deal shares: one query) and the side form's queues to move
    # to (selectors.all_queues: cached between requests outside a test's transaction).
    assert len(many) <= 22


def test_sales_rep_reads_their_teams_ticket_but_cannot_work_it(
    client, queue, lead, rep, rep_other_team
):
    ticket = make_ticket(queue, actor=lead)
    Ticket.objects.filter(pk=ticket.pk).update(team=rep.team)
    login(client, rep)
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    assert "data-reply-composer" not in page.content.decode()
    post = client.post(
        reverse("support:ticket-message", args=[ticket.pk]), {"kind": "note", "body": "x"}
    )
    assert post.status_code == 403
    login(client, rep_other_team)
    assert client.get(ticket.get_absolute_url()).status_code == 404


def test_contact_page_panel_lists_the_customers_tickets(client, queue, lead):
    ticket = make_ticket(queue, actor=lead, subject="Panel ticket")
    login(client, lead)
    page = client.get(ticket.requester.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "Support tickets" in body
    assert ticket.get_absolute_url() in body


def test_nav_count_of_my_open_tickets(client, queue, lead, rep):
    make_ticket(queue, actor=lead, assignee=lead)
    make_ticket(queue, actor=lead, assignee=lead)
    login(client, lead)
    response = client.get(reverse("support:nav-count"))
    assert ">2<" in response.content.decode()
    assert (
        'hx-get="/support/nav-count/"'
        in client.get(reverse("support:ticket-list")).content.decode()
    )
    login(client, rep)
    assert client.get(reverse("support:nav-count")).content == b""


def test_global_search_finds_tickets_by_number(client, queue, lead):
    ticket = make_ticket(queue, actor=lead, subject="Toaster jammed")
    login(client, lead)
    response = client.get(reverse("search"), {"q": ticket.reference})
    assert ticket.get_absolute_url() in response.content.decode()


def test_canned_responses_are_managed_in_the_admin(client, admin_user):
    from tests.conftest import login_verified

    CannedResponse.objects.create(title="Thanks", body="Thank you, {requester_first_name}.")
    login_verified(client, admin_user)
    url = reverse("admin:support_cannedresponse_changelist")
    assert client.get(url, {"q": "thank"}).status_code == 200
    assert client.get(reverse("admin:support_cannedresponse_add")).status_code == 200


def test_two_agents_on_one_ticket_see_each_other(client, queue, lead, agent_b, marketer):
    from django.test import Client

    ticket = make_ticket(queue, actor=lead)
    url = reverse("support:ticket-presence", args=[ticket.pk])
    login(client, lead)
    assert "also" not in client.get(url).content.decode()  # alone
    other = login(Client(), agent_b)
    assert str(lead) in other.get(url).content.decode()
    assert str(agent_b) in client.get(url).content.decode()
    assert url in client.get(ticket.get_absolute_url()).content.decode()
    assert login(Client(), marketer).get(url).status_code == 404


def test_merge_moves_the_conversation_and_closes_the_source(client, queue, lead):
    source = make_ticket(queue, actor=lead, subject="Dup", description="Same issue again")
    target = make_ticket(queue, actor=lead, subject="Original")
    TicketMessage.objects.create(ticket=source, kind=MessageKind.CUSTOMER, body="From the dup")
    login(client, lead)
    url = reverse("support:ticket-merge", args=[source.pk])
    response = client.post(url, {"target": target.reference})
    assert response.status_code == 302
    assert response["Location"] == target.get_absolute_url()
    source.refresh_from_db()
    assert source.status == Status.CLOSED
    bodies = list(target.messages.order_by("id").values_list("body", flat=True))
    assert "From the dup" in bodies
    assert any("Same issue again" in b and source.reference in b for b in bodies)
    assert source.messages.get().body == f"Merged into {target.reference}."
    # Into itself, an unknown number, or from a closed ticket: a message, nothing changes.
    for bad in (str(target.number), "T-999999", "x" * 30, "\u202e"):
        answer = client.post(reverse("support:ticket-merge", args=[target.pk]), {"target": bad})
        assert answer.status_code == 302
    again = client.post(url, {"target": target.reference}, follow=True)
    assert "closed already" in again.content.decode()
    target.refresh_from_db()
    assert target.status != Status.CLOSED


def test_roles_without_tickets_get_an_empty_list(client, queue, lead, marketer):
    make_ticket(queue, actor=lead)
    login(client, marketer)
    response = client.get(reverse("support:ticket-list"))
    assert response.status_code == 200
    assert _ids(response) == []
    counted = client.get(reverse("support:ticket-counts"), **HTMX)
    assert set(tab_counts(counted).values()) == {0}


def test_link_and_unlink_related_tickets(client, queue, lead, rep):
    one = make_ticket(queue, actor=lead, subject="Outage in Berlin")
    two = make_ticket(queue, actor=lead, subject="Outage in Paris")
    login(client, lead)
    url = reverse("support:ticket-link", args=[one.pk])
    assert client.post(url, {"target": two.reference}).status_code == 302
    assert list(two.related.all()) == [one]  # both ways
    page = client.get(one.get_absolute_url()).content.decode()
    assert two.get_absolute_url() in page
    assert "Outage in Paris" in page
    for bad in ("", "T-99999999", one.reference, "\u202e" * 5):
        assert client.post(url, {"target": bad}).status_code == 302
    assert list(one.related.all()) == [two]
    assert client.post(url, {"unlink": two.pk}).status_code == 302
    assert not one.related.exists()
    # A role that only reads tickets may not link.
    Ticket.objects.filter(pk__in=[one.pk, two.pk]).update(team=rep.team)
    login(client, rep)
    assert client.post(url, {"target": two.reference}).status_code == 403
    assert not one.related.exists()


def test_the_lists_count_fragment(client, queue, lead):
    """lazy_count: a list the planner expects over the cap renders its rows without counting
    (crm.pagination.list_page); `?count=1` (the fragment the pager then loads) counts what the
    user may see."""
    for n in range(3):
        make_ticket(queue, actor=lead, subject=f"Lazy {n}", assignee=lead)
    login(client, lead)
    url = reverse("support:ticket-list")
    page = client.get(url, {"view": "open"})
    assert page.status_code == 200
    assert page.context["list"].count == 3  # small lists are counted with their rows
    counted = client.get(url, {"view": "open", "count": "1"}, **HTMX)
    assert counted.status_code == 200
    assert "3" in counted.content.decode()


def test_the_list_counts_as_far_as_the_tabs(client, queue, lead, monkeypatch):
    """Each ticket a rep sees through a customer costs a probe, so the ticket list's count stops
    at the workspace's cap (selectors.COUNT_CAP, as the tabs), not the site-wide 10,000: with
    the page's rows and in the fragment loaded after them."""
    import dataclasses

    from support import lists, selectors, views

    assert lists.TICKETS.count_cap == selectors.COUNT_CAP
    monkeypatch.setattr(views, "TICKETS", dataclasses.replace(lists.TICKETS, count_cap=2))
    for n in range(3):
        make_ticket(queue, actor=lead, subject=f"Capped {n}", assignee=lead)
    login(client, lead)
    url = reverse("support:ticket-list")
    page = client.get(url, {"view": "open"})
    assert (page.context["list"].count, page.context["list"].capped) == (2, True)
    assert len(_ids(page)) == 3  # the rows are all there; only the count stops
    counted = client.get(url, {"view": "open", "count": "1", "q": ""}, **HTMX)
    assert "More than 2" in counted.content.decode()


def test_an_agent_saves_a_view_of_the_ticket_list(client, queue, lead):
    """Saved views (crm.saved_views) on the ticket list: filters and sort, no cursor, listed
    on the page and opening it."""
    from crm.models import SavedView

    make_ticket(queue, actor=lead, subject="Urgent one", priority="urgent")
    make_ticket(queue, actor=lead, subject="Calm one", priority="low")
    login(client, lead)
    url = reverse("support:ticket-list")
    query = "view=all&priority=urgent&sort=-created&cursor=abc"
    response = client.post(
        reverse("saved-view-create", args=["tickets"]),
        {"name": "Urgent", "query": query, "next": f"{url}?{query}"},
    )
    assert response.status_code == 303
    saved = SavedView.objects.get(user=lead, list_name="tickets")
    assert saved.query == "view=all&priority=urgent&sort=-created"
    page = client.get(url).content.decode()
    assert f'href="{url}?view=all&amp;priority=urgent&amp;sort=-created"' in page
    opened = client.get(f"{url}?{saved.query}")
    assert [t.subject for t in opened.context["list"].page.items] == ["Urgent one"]


def test_split_a_customers_message_into_a_new_ticket(client, queue, lead, agent_b):
    ticket = make_ticket(queue, actor=lead, subject="Two questions", priority="high")
    asked = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.CUSTOMER, body="Also: how do I add a user?"
    )
    reply = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.PUBLIC, author=lead, body="Looking into it"
    )
    login(client, lead)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert reverse("support:ticket-split", args=[ticket.pk]) in page
    url = reverse("support:ticket-split", args=[ticket.pk])
    response = client.post(url, {"message": asked.pk, "subject": "Adding users"})
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert response.status_code == 302
    assert response["Location"] == new.get_absolute_url()
    assert (new.subject, new.description, new.priority) == (
        "Adding users",
        "Also: how do I add a user?",
        "high",
    )
    assert (new.requester_id, new.queue_id, new.channel) == (
        ticket.requester_id,
        ticket.queue_id,
        ticket.channel,
    )
    assert list(ticket.related.all()) == [new]
    assert TicketMessage.objects.filter(pk=asked.pk, ticket=ticket).exists()  # it stays
    assert new.reference in ticket.messages.filter(kind=MessageKind.NOTE).get().body
    assert ticket.reference in new.messages.filter(kind=MessageKind.NOTE).get().body

    # An agent's reply, another ticket's message, junk or a closed ticket: a message, nothing new.
    other = make_ticket(queue, actor=lead, subject="Other")
    foreign = TicketMessage.objects.create(ticket=other, kind=MessageKind.CUSTOMER, body="x")
    for bad in (reply.pk, foreign.pk, "x", "", "9" * 30):
        answer = client.post(url, {"message": bad}, follow=True)
        assert answer.status_code == 200
        assert "Choose a message from the customer" in answer.content.decode()
    assert Ticket.objects.count() == 3
    login(client, agent_b)  # a queue member who did not create it works it too
    client.post(url, {"message": asked.pk})
    assert Ticket.objects.count() == 4


def test_the_due_sort_walks_its_index():
    """The lists' default sort is the expression of ticket_open_due_key / ticket_due_key, so
    PostgreSQL can read a page along the index instead of sorting the scope."""
    from support.lists import DUE

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        qs = (
            Ticket.objects.filter(status__in=["new", "open", "pending", "on_hold"])
            .annotate(**DUE)
            .order_by("due_key", "id")[:50]
        )
        sql, params = qs.values("id").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_open_due_key" in plan, plan
