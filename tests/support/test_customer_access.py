"""A sales rep reads (never works) the tickets of the customers they may see: the ticket's
requester or company is theirs (Ticket.ACCESS_VIEW_THROUGH in accounts.access). The same door
serves the list, the ticket page, its fragments, search, the API, the contact page's panel and
attachments; another team's rep gets a 404, a refused write a 403 and changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import access
from contacts.models import Company, Contact
from support import selectors
from support.models import Ticket, TicketAttachment, TicketMessage
from tests.conftest import login
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def customer_ticket(queue, lead, rep) -> Ticket:
    """A ticket of the support team (owned by its agent) whose requester is the rep's contact."""
    ticket = make_ticket(queue, actor=lead, subject="Invoice wrong", assignee=lead)
    Contact.objects.filter(pk=ticket.requester_id).update(owner=rep, team=rep.team)
    ticket.refresh_from_db()
    assert ticket.team_id != rep.team_id
    assert ticket.owner_id != rep.pk
    return ticket


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_scope_adds_the_customers_tickets_for_viewing_only(customer_ticket, rep, rep_other_team):
    assert customer_ticket in access.scoped(rep, Ticket)
    assert customer_ticket not in access.scoped(rep, Ticket, "change")
    assert access.can(rep, customer_ticket, "view")
    assert not access.can(rep, customer_ticket, "change")
    assert customer_ticket not in access.scoped(rep_other_team, Ticket)
    assert not access.can(rep_other_team, customer_ticket, "view")
    # Children scoped through the ticket follow it.
    message = TicketMessage.objects.create(ticket=customer_ticket, kind="customer", body="Hi")
    assert message in access.scoped(rep, TicketMessage)
    assert message not in access.scoped(rep_other_team, TicketMessage)


def test_through_the_company_too(queue, lead, rep, rep_other_team):
    company = Company.objects.create(name="Acme", owner=rep, team=rep.team)
    ticket = make_ticket(queue, actor=lead, subject="Company ticket")
    Ticket.objects.filter(pk=ticket.pk).update(company=company)
    assert ticket in access.scoped(rep, Ticket)
    assert access.can(rep, Ticket.objects.get(pk=ticket.pk), "view")
    assert ticket not in access.scoped(rep_other_team, Ticket)


def test_without_view_ticket_the_customer_does_not_open_its_tickets(customer_ticket, marketer, rep):
    Contact.objects.filter(pk=customer_ticket.requester_id).update(owner=marketer)
    assert access.can(marketer, customer_ticket.requester, "view")  # marketing sees contacts
    assert not access.scoped(marketer, Ticket).exists()
    assert not access.can(marketer, customer_ticket, "view")


def test_rep_reads_the_ticket_page_without_composer_or_side_form(client, customer_ticket, rep):
    login(client, rep)
    page = client.get(customer_ticket.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "Invoice wrong" in body
    assert "data-reply-composer" not in body
    assert page.context["can_work"] is False
    assert page.context["update_form"] is None
    fragment = client.get(customer_ticket.get_absolute_url(), **HTMX)
    assert fragment.status_code == 200
    presence = client.get(reverse("support:ticket-presence", args=[customer_ticket.pk]))
    assert presence.status_code == 200


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("support:ticket-message", {"kind": "reply", "body": "Hello"}),
        ("support:ticket-message", {"kind": "note", "body": "Hello"}),
        ("support:ticket-update", {"status": "solved"}),
        ("support:ticket-merge", {"target": "T-000001"}),
        ("support:ticket-link", {"number": "T-000001"}),
    ],
)
def test_rep_cannot_reply_note_or_change(client, customer_ticket, rep, name, data):
    login(client, rep)
    before = (customer_ticket.status, TicketMessage.objects.count())
    response = client.post(reverse(name, args=[customer_ticket.pk]), data)
    assert response.status_code == 403
    customer_ticket.refresh_from_db()
    assert (customer_ticket.status, TicketMessage.objects.count()) == before
    canned = client.get(reverse("support:ticket-canned", args=[customer_ticket.pk]))
    assert canned.status_code == 403


def test_rep_of_another_team_gets_404_everywhere(client, customer_ticket, rep_other_team):
    login(client, rep_other_team)
    pk = customer_ticket.pk
    assert client.get(customer_ticket.get_absolute_url()).status_code == 404
    assert client.get(reverse("support:ticket-presence", args=[pk])).status_code == 404
    post = client.post(reverse("support:ticket-message", args=[pk]), {"kind": "note", "body": "x"})
    assert post.status_code == 404
    listing = client.get(reverse("support:ticket-list"), {"view": "all"})
    assert customer_ticket.get_absolute_url() not in listing.content.decode()
    search = client.get(reverse("search"), {"q": customer_ticket.reference})
    assert customer_ticket.get_absolute_url() not in search.content.decode()
    api = _api(rep_other_team)
    assert api.get(f"/api/tickets/{pk}/").status_code == 404
    assert api.get("/api/ticket-messages/", {"ticket": pk}).json()["results"] == []


def test_rep_finds_it_in_the_list_search_api_and_contact_panel(client, customer_ticket, rep):
    login(client, rep)
    listing = client.get(reverse("support:ticket-list"), {"view": "open"})
    assert customer_ticket.pk in [t.pk for t in listing.context["list"].page.items]
    fragment = client.get(reverse("support:ticket-list"), {"view": "open"}, **HTMX)
    assert customer_ticket.get_absolute_url() in fragment.content.decode()
    # No checkboxes: the rep may not change any of them.
    assert 'name="ids"' not in fragment.content.decode()
    search = client.get(reverse("search"), {"q": customer_ticket.reference})
    assert customer_ticket.get_absolute_url() in search.content.decode()
    panel = client.get(customer_ticket.requester.get_absolute_url())
    assert customer_ticket.get_absolute_url() in panel.content.decode()
    assert selectors.customer_tickets(user=rep, record=customer_ticket.requester) == [
        customer_ticket
    ]
    api = _api(rep)
    rows = api.get("/api/tickets/").json()["results"]
    assert [r["id"] for r in rows] == [customer_ticket.pk]
    assert api.get(f"/api/tickets/{customer_ticket.pk}/").status_code == 200
    patch = api.patch(f"/api/tickets/{customer_ticket.pk}/", {"subject": "x"}, format="json")
    assert patch.status_code in (403, 405)
    reply = api.post(
        "/api/ticket-messages/",
        {"ticket": customer_ticket.pk, "kind": "reply", "body": "Hi"},
        format="json",
    )
    assert reply.status_code == 403
    assert not TicketMessage.objects.filter(body="Hi").exists()


def test_attachment_of_the_customers_ticket(client, customer_ticket, rep, rep_other_team):
    attachment = TicketAttachment(ticket=customer_ticket, name="bill.txt", size=5)
    attachment.file.save("bill.txt", ContentFile(b"hello"), save=False)
    attachment.save()
    url = reverse("support:attachment-download", args=[attachment.pk])
    login(client, rep)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"
    login(client, rep_other_team)
    assert client.get(url).status_code == 404


def test_the_customers_rep_losing_the_contact_loses_the_ticket(
    client, customer_ticket, rep, rep_other_team
):
    Contact.objects.filter(pk=customer_ticket.requester_id).update(
        owner=rep_other_team, team=rep_other_team.team
    )
    login(client, rep)
    assert client.get(customer_ticket.get_absolute_url()).status_code == 404
    login(client, rep_other_team)
    assert client.get(customer_ticket.get_absolute_url()).status_code == 200


def test_the_view_through_arm_probes_each_customer_by_key(customer_ticket, rep):
    """The customers' arm is an EXISTS whose correlation PostgreSQL cannot hash (`pk = key AND
    pk <= key`), so a capped count probes each ticket's customer by primary key instead of
    hashing every visible contact (bench/results/2026-11-30-support-1810.md)."""
    sql = str(access.scoped(rep, Ticket).query)
    assert sql.count("EXISTS") == 2
    assert '."id" <= ("support_ticket"."requester_id")' in sql
    assert '."id" <= ("support_ticket"."company_id")' in sql
    assert list(access.scoped(rep, Ticket)) == [customer_ticket]


def test_view_through_needs_a_foreign_key(monkeypatch, rep):
    monkeypatch.setattr(Ticket, "ACCESS_VIEW_THROUGH", ("related",))
    with pytest.raises(TypeError, match="needs a foreign key"):
        access.scoped(rep, Ticket)
