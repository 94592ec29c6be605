"""A ticket linked to a deal (sales.Opportunity): linked from the ticket page by those who may
work the ticket and see the deal, shown there to those who may see the deal, and listed on the
deal's tickets panel (registered for "sales.opportunity") to those who may see the tickets."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from contacts.models import Contact
from sales.models import Pipeline
from support import selectors, services
from support.models import Ticket
from tests.contacts.factories import CompanyFactory
from tests.sales.factories import make_deal, make_pipeline
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep):
    Pipeline.objects.update(is_default=False)  # the migrations' default pipeline
    make_pipeline()
    company = CompanyFactory(owner=rep)
    return make_deal(rep, name="Renewal 2027", company=company)


@pytest.fixture
def ticket(queue, lead, deal) -> Ticket:
    """The deal's company's ticket, worked by the support lead (who sees the customer's open
    deals through it, support/grants.py)."""
    return make_ticket(queue, actor=lead, company=deal.company, assignee=lead)


def _link(client, ticket, value):
    return client.post(
        reverse("support:ticket-opportunity", args=[ticket.pk]), {"opportunity": value}
    )


def test_an_agent_links_the_customers_open_deal_and_unlinks_it(client, ticket, lead, deal):
    client.force_login(lead)
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    assert "open deals" in page.text
    assert "Renewal 2027" in page.text
    assert _link(client, ticket, deal.pk).status_code == 302
    ticket.refresh_from_db()
    assert ticket.opportunity == deal
    page = client.get(ticket.get_absolute_url())
    assert "This ticket is about" in page.text
    assert _link(client, ticket, "").status_code == 302
    ticket.refresh_from_db()
    assert ticket.opportunity is None


def test_a_deal_the_agent_cannot_see_is_refused_and_nothing_changes(
    client, ticket, lead, rep_other_team
):
    hidden = make_deal(rep_other_team, name="Secret deal")
    client.force_login(lead)
    for value in (hidden.pk, "abc", "99999999999999999999", "-1"):
        response = _link(client, ticket, value)
        assert response.status_code == 422
        assert "No such deal" in response.text
    ticket.refresh_from_db()
    assert ticket.opportunity is None
    with pytest.raises(PermissionDenied):  # the service checks the door itself
        services.ticket_set_opportunity(ticket=ticket, opportunity=hidden, actor=lead)


def test_a_reader_of_the_ticket_may_not_link(client, ticket, rep, deal):
    Contact.objects.filter(pk=ticket.requester_id).update(owner=rep, team=rep.team)
    client.force_login(rep)
    assert client.get(ticket.get_absolute_url()).status_code == 200  # the customer's ticket
    assert _link(client, ticket, deal.pk).status_code == 403
    ticket.refresh_from_db()
    assert ticket.opportunity is None


def _reader(ticket: Ticket, user):
    """`user` (another team's rep) reads the ticket through its requester, and does not see
    the deal: a rep gets no deal through tickets (support/grants.py: agents do)."""
    Contact.objects.filter(pk=ticket.requester_id).update(owner=user, team=user.team)
    return user


def test_a_linked_deal_is_named_only_to_those_who_may_see_it(
    client, ticket, lead, deal, rep_other_team
):
    services.ticket_set_opportunity(ticket=ticket, opportunity=deal, actor=lead)
    client.force_login(_reader(ticket, rep_other_team))
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    assert "Linked to a deal you cannot see." in page.text
    assert "Renewal 2027" not in page.text


def test_the_deal_panel_lists_the_tickets_the_user_may_see(ticket, lead, deal, rep, rep_other_team):
    services.ticket_set_opportunity(ticket=ticket, opportunity=deal, actor=lead)
    assert selectors.deal_tickets(user=lead, opportunity=deal) == [ticket]
    # The rep sees the ticket through their company (Ticket.ACCESS_VIEW_THROUGH).
    assert selectors.deal_tickets(user=rep, opportunity=deal) == [ticket]
    assert selectors.deal_tickets(user=rep_other_team, opportunity=deal) == []
    request = RequestFactory().get("/")
    request.user = rep
    html = render_to_string(
        "support/partials/deal_tickets.html", {"record": deal, "request": request}
    )
    assert ticket.reference in html
    request.user = rep_other_team
    html = render_to_string(
        "support/partials/deal_tickets.html", {"record": deal, "request": request}
    )
    assert ticket.reference not in html


def test_the_deal_page_shows_its_linked_tickets(client, ticket, lead, deal, rep):
    services.ticket_set_opportunity(ticket=ticket, opportunity=deal, actor=lead)
    client.force_login(rep)
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200
    assert 'id="deal-tickets"' in page.text
    assert ticket.reference in page.text


def test_the_api_names_the_linked_deal_only_to_those_who_may_see_it(
    ticket, lead, deal, agent_b, rep_other_team
):
    from rest_framework.test import APIClient

    services.ticket_set_opportunity(ticket=ticket, opportunity=deal, actor=lead)
    api = APIClient()
    api.force_authenticate(lead)
    row = api.get(f"/api/tickets/{ticket.pk}/").json()
    assert row["opportunity"] == deal.pk
    assert "tier" in row
    [listed] = [r for r in api.get("/api/tickets/").json()["results"] if r["id"] == ticket.pk]
    assert listed["opportunity"] == deal.pk
    api.force_authenticate(agent_b)  # a member of the queue: sees the deal through the ticket
    assert api.get(f"/api/tickets/{ticket.pk}/").json()["opportunity"] == deal.pk
    api.force_authenticate(_reader(ticket, rep_other_team))
    assert api.get(f"/api/tickets/{ticket.pk}/").json()["opportunity"] is None


def test_the_ticket_page_keeps_its_query_count(
    client, ticket, lead, deal, django_assert_max_num_queries
):
    services.ticket_set_opportunity(ticket=ticket, opportunity=deal, actor=lead)
    for n in range(5):
        services.ticket_note(ticket=ticket, body=f"note {n}", actor=lead)
    client.force_login(lead)
    client.get(ticket.get_absolute_url())  # warm the caches
    with django_assert_max_num_queries(31):  # measured: 31 (history: 3, deals: 1)
        response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    assert "History" in response.text
