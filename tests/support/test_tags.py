"""Tags on tickets (crm.tags): set on a new ticket and from the side form (audited, only by
those who may work the ticket), filtered on the list and the API (status + tag through one GIN
index), shown as badges on rows and the ticket page."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.models import Contact, Tag
from support import services
from support.models import Ticket
from tests.conftest import login
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip(db) -> Tag:
    return Tag.objects.create(name="VIP", color="danger")


@pytest.fixture
def refund(db) -> Tag:
    return Tag.objects.create(name="Refund", color="info")


def test_phone_ticket_with_tags(client, queue, lead, vip, refund):
    login(client, lead)
    response = client.post(
        reverse("support:ticket-create"),
        {
            "requester_email": "tags@example.net",
            "subject": "Wants a refund",
            "queue": queue.pk,
            "channel": "phone",
            "priority": "normal",
            "type": "question",
            "tags": "refund\uff0cVIP",  # any letter case, a full-width comma too
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Wants a refund")
    assert ticket.tag_ids == sorted([vip.pk, refund.pk])


def test_side_form_changes_tags_audited(client, queue, lead, vip, refund):
    ticket = make_ticket(queue, actor=lead, assignee=lead)
    login(client, lead)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'name="tags"' in page
    url = reverse("support:ticket-update", args=[ticket.pk])
    client.post(url, {"status": ticket.status, "priority": ticket.priority, "tags": "VIP"})
    ticket.refresh_from_db()
    assert ticket.tag_ids == [vip.pk]
    assert LogEntry.objects.get_for_object(ticket).filter(changes__has_key="tag_ids").exists()
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'class="badge text-bg-danger me-1">VIP</span>' in page
    # Unchanged names (other letter case) write nothing; an empty box clears them.
    before = LogEntry.objects.count()
    client.post(url, {"status": ticket.status, "priority": ticket.priority, "tags": "vip"})
    assert LogEntry.objects.count() == before
    client.post(url, {"status": ticket.status, "priority": ticket.priority, "tags": ""})
    ticket.refresh_from_db()
    assert ticket.tag_ids == []


def test_only_those_who_work_the_ticket_set_tags(client, queue, lead, rep, vip):
    ticket = make_ticket(queue, actor=lead)
    Contact.objects.filter(pk=ticket.requester_id).update(owner=rep, team=rep.team)
    with pytest.raises(PermissionDenied):
        services.ticket_set_tags(ticket=ticket, names=["VIP"], actor=rep)
    login(client, rep)
    response = client.post(reverse("support:ticket-update", args=[ticket.pk]), {"tags": "VIP"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.tag_ids == []


def test_list_filters_by_tag_with_badges(client, queue, lead, vip, refund):
    tagged = make_ticket(queue, actor=lead, subject="Tagged one")
    plain = make_ticket(queue, actor=lead, subject="Plain one")
    services.ticket_set_tags(ticket=tagged, names=["VIP"], actor=lead)
    login(client, lead)
    url = reverse("support:ticket-list")
    response = client.get(url, {"view": "all", "tag": vip.pk})
    ids = [t.pk for t in response.context["list"].page.items]
    assert ids == [tagged.pk]
    body = response.content.decode()
    assert ">VIP</span>" in body
    assert plain.get_absolute_url() not in body
    # The tag filter sits behind "More filters", opened when set.
    assert '<details class="mt-2" open' in body
    both = client.get(url, {"view": "all", "tag": [vip.pk, refund.pk]})
    assert [t.pk for t in both.context["list"].page.items] == [tagged.pk]


@pytest.mark.parametrize("value", ["999999", "abc", "1\x00"])
def test_unknown_tag_is_a_400_with_a_message(client, queue, lead, vip, value):
    login(client, lead)
    response = client.get(reverse("support:ticket-list"), {"view": "all", "tag": value})
    assert response.status_code == 400
    api = APIClient()
    api.force_authenticate(lead)
    assert api.get("/api/tickets/", {"tag": value}).status_code == 400


def test_api_shows_and_filters_tags(queue, lead, vip):
    tagged = make_ticket(queue, actor=lead, subject="Tagged")
    make_ticket(queue, actor=lead, subject="Plain")
    services.ticket_set_tags(ticket=tagged, names=["VIP"], actor=lead)
    api = APIClient()
    api.force_authenticate(lead)
    rows = api.get("/api/tickets/", {"tag": vip.pk}).json()["results"]
    assert [(r["id"], r["tag_ids"]) for r in rows] == [(tagged.pk, [vip.pk])]


def test_status_and_tag_is_one_gin_index_condition(queue, lead, vip):
    make_ticket(queue, actor=lead)
    # "solved": no partial index of the open statuses competes on a near-empty table.
    qs = Ticket.objects.filter(status="solved", tag_ids__overlap=[vip.pk])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_status_tags" in plan, plan
    index_cond = plan.split("ticket_status_tags", 1)[0] + plan.split("Index Cond", 1)[-1]
    assert "tag_ids &&" in index_cond, plan
    assert "status" in plan.split("Index Cond", 1)[-1], plan
