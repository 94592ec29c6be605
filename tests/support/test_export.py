"""The ticket export (issue 24: every kit list exports): the list's own filters, default view
and scope (a rep gets their customers' tickets, an agent what the list shows them), CSV with
formula cells neutralised, XLSX, Chinese text both ways, `export_ticket` checked by the kit,
400 with a message for invalid filters (NUL included), queries flat in the number of rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Tag
from support.exports import sla_state
from support.models import SatisfactionSurvey, Status, Ticket
from tests.conftest import login
from tests.contacts.factories import CompanyFactory
from tests.exports import (
    assert_nul_refused,
    assert_refused,
    assert_sends_to_login,
    export_queries,
    read_csv,
    read_xlsx,
)
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db

URL = "support:ticket-export"


@pytest.fixture
def tickets(queue, lead, agent_b, rep, rep_other_team) -> dict[str, Ticket]:
    """Three tickets of the support team: the rep's customer's (Chinese, assigned to the lead,
    rated), a formula subject from another team's customer, and an urgent one for agent_b."""
    Tag.objects.create(name="紧急")
    rep_ticket = make_ticket(
        queue, actor=lead, subject="打印机着火了", requester_name="张伟",
        requester_email="zhang@example.cn", assignee=lead, tag_names=("紧急",),
    )  # fmt: skip
    Contact.objects.filter(pk=rep_ticket.requester_id).update(owner=rep, team=rep.team)
    company = CompanyFactory(name="北京科技", owner=rep, team=rep.team)
    Ticket.objects.filter(pk=rep_ticket.pk).update(company=company)
    rep_ticket.refresh_from_db()
    SatisfactionSurvey.objects.create(ticket=rep_ticket, rating=4, answered_at=timezone.now())
    formula = make_ticket(
        queue, actor=lead, subject='=HYPERLINK("http://x.example")', requester_name="@sum",
        requester_email="west@example.net",
    )  # fmt: skip
    Contact.objects.filter(pk=formula.requester_id).update(
        owner=rep_other_team, team=rep_other_team.team
    )
    urgent = make_ticket(
        queue, actor=lead, subject="Server down", priority="urgent", assignee=agent_b,
        requester_email="ops@example.org",
    )  # fmt: skip
    return {"rep": rep_ticket, "formula": formula, "urgent": urgent}


def _numbers(response) -> set[str]:
    return {row[0] for row in read_csv(response)[1:]}


def _list_numbers(client, query) -> set[str]:
    response = client.get(reverse("support:ticket-list"), query)
    assert response.status_code == 200
    return {t.reference for t in response.context["list"].page.items}


def test_csv_has_the_columns_and_neutralises_formulas(client, lead, tickets):
    login(client, lead)
    response = client.get(reverse(URL), {"view": "all"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="tickets-' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Number", "Subject", "Status", "Priority", "Queue", "Assignee", "Customer contact",
        "Customer email", "Company", "Channel", "Created", "First response due",
        "First responded", "Resolution due", "Solved", "SLA", "Tags", "Satisfaction rating",
    ]  # fmt: skip
    by_number = {row[0]: row for row in rows[1:]}
    formula = by_number[tickets["formula"].reference]
    assert formula[1] == '\'=HYPERLINK("http://x.example")'
    assert formula[6] == "'@sum"
    assert formula[17] == ""  # no rating
    rated = by_number[tickets["rep"].reference]
    assert rated[1:7] == ["打印机着火了", "New", "Normal", "Helpdesk", str(lead), "张伟"]
    assert rated[7:10] == ["zhang@example.cn", "北京科技", "Web form"]
    assert rated[16] == "紧急"
    assert rated[17] == "4"
    assert rated[15] in {"On track", "At risk", "Breached"}  # running, whatever the hour
    assert by_number[tickets["urgent"].reference][3] == "Urgent"


def test_xlsx_keeps_chinese_and_formulas_as_text(client, lead, tickets):
    login(client, lead)
    response = client.get(reverse(URL), {"view": "all", "format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="tickets-' in response["Content-Disposition"]
    rows = read_xlsx(response)
    assert rows[tickets["rep"].reference][1].value == "打印机着火了"
    assert rows[tickets["rep"].reference][6].value == "张伟"
    assert rows[tickets["rep"].reference][8].value == "北京科技"
    assert rows[tickets["rep"].reference][16].value == "紧急"
    assert rows[tickets["rep"].reference][17].value == 4
    formula = rows[tickets["formula"].reference][1]
    assert formula.value == '=HYPERLINK("http://x.example")'
    assert formula.data_type == "s"
    assert isinstance(rows[tickets["rep"].reference][10].value, dt.datetime)  # Created


def test_a_rep_exports_only_their_customers_tickets(client, rep, rep_other_team, tickets):
    login(client, rep)
    for query in ({}, {"view": "all"}):  # the default view ("open" for roles that do not work)
        assert _numbers(client.get(reverse(URL), query)) == {tickets["rep"].reference}
        assert _list_numbers(client, query) == {tickets["rep"].reference}
    login(client, rep_other_team)
    assert _numbers(client.get(reverse(URL), {"view": "all"})) == {tickets["formula"].reference}


def test_an_agent_exports_what_their_list_shows(client, lead, agent_b, tickets):
    login(client, agent_b)
    # No view: an agent lands on their own open tickets, in the list and in the export.
    assert _numbers(client.get(reverse(URL))) == {tickets["urgent"].reference}
    assert _list_numbers(client, {}) == {tickets["urgent"].reference}
    everything = {t.reference for t in tickets.values()}
    assert _numbers(client.get(reverse(URL), {"view": "all"})) == everything
    assert _list_numbers(client, {"view": "all"}) == everything


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"view": "all", "priority": "urgent"}, {"urgent"}),
        ({"view": "all", "q": "打印机"}, {"rep"}),
        ({"view": "all", "assignee": "none"}, {"formula"}),
        ({"view": "all", "status": "solved"}, set()),
        ({"view": "unassigned"}, {"formula"}),
    ],
)
def test_filters_are_the_lists(client, lead, tickets, query, expected):
    login(client, lead)
    numbers = {tickets[key].reference for key in expected}
    assert _numbers(client.get(reverse(URL), query)) == numbers
    assert _list_numbers(client, query) == numbers


def test_the_list_links_the_export_with_its_filters(client, lead, tickets):
    login(client, lead)
    html = client.get(reverse("support:ticket-list"), {"priority": "urgent"}).content.decode()
    assert reverse(URL) + "?priority=urgent&amp;view=mine&amp;format=xlsx" in html
    assert reverse(URL) + "?priority=urgent&amp;view=mine&amp;format=csv" in html


def test_export_needs_the_role_permission(client, read_only, marketer, tickets):
    for user in (read_only, marketer):
        login(client, user)
        response = client.get(reverse(URL), {"view": "all"})
        assert response.status_code == 403
        assert "may not export tickets" in response.content.decode()
        page = client.get(reverse("support:ticket-list")).content.decode()
        assert reverse(URL) not in page


def test_anonymous_goes_to_login(client):
    assert_sends_to_login(client, reverse(URL))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "exploded"}, "Pick a status from the list."),
        ({"queue": "999999"}, "No queue with that id among those whose tickets you see"),
        ({"view": "everything"}, "Pick a view from the list."),
        ({"assignee": "x"}, "Pick an assignee from the list."),
        ({"q": "x" * 500}, "nothing was exported"),
    ],
)
def test_invalid_filters_are_a_400_and_export_nothing(client, lead, tickets, query, message):
    login(client, lead)
    assert_refused(client.get(reverse(URL), {"view": "all", **query}), message, "Server down")


def test_queries_do_not_grow_with_rows(client, queue, lead, tickets):
    login(client, lead)
    url, query = reverse(URL), {"view": "all"}
    client.get(url, query)  # warm the role cache
    few_rows, few = export_queries(client, url, query)
    for n in range(20):
        ticket = make_ticket(
            queue, actor=lead, subject=f"Ticket {n}", tag_names=("紧急",), assignee=lead
        )
        Ticket.objects.filter(pk=ticket.pk).update(company_id=tickets["rep"].company_id)
        SatisfactionSurvey.objects.create(ticket=ticket, rating=5, answered_at=timezone.now())
    many_rows, many = export_queries(client, url, query)
    assert (few_rows, many_rows) == (3, 23)
    assert many == few
    # The user, role and permissions (4), the queue and agent options, the tag labels (the
    # filter's; a chunk's comes from the cache outside a test's transaction), the agent's
    # ticket scope and queues and the queues of their own tickets (support/scope.py, cached
    # likewise), the rows, the empty chunk that ends them.
    assert many <= 13


@pytest.mark.parametrize("query", [{"q": "a\x00b"}, {"status": "open\x00"}, {"tag": "\x00"}])
def test_nul_in_a_filter_is_a_400_not_a_500(client, lead, tickets, query):
    login(client, lead)
    assert_nul_refused(client.get(reverse(URL), query), "Server down")


def test_sla_state_in_words(queue, lead):
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    ticket = make_ticket(queue, actor=lead)
    ticket.first_response_due, ticket.resolution_due = now + 5 * hour, now + 9 * hour
    assert sla_state(ticket, now) == "On track"
    ticket.first_response_due = now + hour / 2
    assert sla_state(ticket, now) == "At risk"
    ticket.first_responded_at = now  # answered: the first response no longer runs
    assert sla_state(ticket, now) == "On track"
    ticket.resolution_due = now - hour
    assert sla_state(ticket, now) == "Breached"
    ticket.status, ticket.paused_at = Status.PENDING, now - 2 * hour  # paused before it was due
    assert sla_state(ticket, now) == "Paused"
    ticket.status, ticket.paused_at, ticket.solved_at = Status.SOLVED, None, now - 2 * hour
    assert sla_state(ticket, now) == "Met"
    ticket.first_responded_at = ticket.first_response_due + hour  # answered late
    assert sla_state(ticket, now) == "Breached"
    ticket.first_response_due = ticket.resolution_due = None
    assert sla_state(ticket, now) == ""


def test_the_stream_keeps_the_users_language_and_time_zone(client, lead, tickets):
    """CSV rows are written after the view returned, when the middleware has put back the
    default time zone: still the user's language and time zone, as in the XLSX."""
    lead.language, lead.time_zone = "zh-hans", "Asia/Shanghai"
    lead.save(update_fields=["language", "time_zone"])
    login(client, lead)
    rated = next(
        r
        for r in read_csv(client.get(reverse(URL), {"view": "all"}))
        if r[0] == tickets["rep"].reference
    )
    assert rated[2:4] == ["新建", "普通"]
    shanghai = timezone.localtime(tickets["rep"].created_at, dt.timezone(dt.timedelta(hours=8)))
    assert rated[10] == str(shanghai.replace(tzinfo=None))
    xlsx = read_xlsx(client.get(reverse(URL), {"view": "all", "format": "xlsx"}))
    created = xlsx[tickets["rep"].reference][10].value  # XLSX keeps milliseconds
    assert abs(created - shanghai.replace(tzinfo=None)) < dt.timedelta(milliseconds=1)
