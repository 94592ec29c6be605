"""Agents see the open deals of their tickets' customers, read-only (issue 29's side panel).

Support agents hold no sales permission. support/grants.py declares a view-through
(`accounts.grants.register_seen_through`): whoever works tickets (`change_ticket`) sees the open,
unarchived deals of the company or requester of a ticket they may see, and the deal a ticket is
linked to. The permission layer answers it everywhere: the ticket page, the deal page, the deal
list, the global search and the API; never a change, never an export."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import access
from accounts.models import User
from contacts.models import Contact
from sales.models import Opportunity, OpportunityContact, Pipeline
from support import services
from support.models import Ticket
from tests.contacts.factories import CompanyFactory
from tests.sales.factories import make_deal, make_pipeline
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep_other_team) -> dict[str, Opportunity]:
    """Another sales team's deals: two of the ticket's customer (its company's, and one naming
    its requester in a contact role, made by `ticket`), a closed one, and another customer's."""
    Pipeline.objects.update(is_default=False)  # the migrations' default pipeline
    make_pipeline()
    company = CompanyFactory(owner=rep_other_team, name="Acme")
    closed = make_deal(rep_other_team, name="Closed 2025", company=company)
    Opportunity.objects.filter(pk=closed.pk).update(closed_at=timezone.now())
    return {
        "company": make_deal(rep_other_team, name="Renewal 2027", company=company),
        "contact": make_deal(rep_other_team, name="Upsell via Chris"),
        "closed": closed,
        "other": make_deal(
            rep_other_team, name="Renewal elsewhere", company=CompanyFactory(owner=rep_other_team)
        ),
    }


@pytest.fixture
def ticket(queue, lead, deals) -> Ticket:
    ticket = make_ticket(queue, actor=lead, company=deals["company"].company, assignee=lead)
    OpportunityContact.objects.create(opportunity=deals["contact"], contact=ticket.requester)
    return ticket


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_agent_sees_the_customers_open_deals_and_changes_none(ticket, deals, agent_b):
    seen = set(access.scoped(agent_b, Opportunity))
    assert seen == {deals["company"], deals["contact"]}
    assert not access.scoped(agent_b, Opportunity, "change").exists()
    assert not agent_b.has_perm("sales.view_opportunity")  # no sales permission at all
    deal = Opportunity.objects.get(pk=deals["company"].pk)
    assert access.can(agent_b, deal, "view")
    assert not access.can(agent_b, deal, "change")
    assert not access.can(agent_b, deals["closed"], "view")
    assert not access.can(agent_b, deals["other"], "view")


def test_the_ticket_page_lists_them(client, ticket, deals, agent_b):
    client.force_login(agent_b)
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    assert "Renewal 2027" in page.text
    assert "Upsell via Chris" in page.text
    assert "Closed 2025" not in page.text
    assert "Renewal elsewhere" not in page.text


def test_the_deal_page_is_read_only_and_others_are_404(client, ticket, deals, agent_b):
    client.force_login(agent_b)
    assert client.get(deals["company"].get_absolute_url()).status_code == 200
    edit = reverse("sales:opportunity-edit", args=[deals["company"].pk])
    assert client.get(edit).status_code == 403
    assert client.post(edit, {"name": "Mine now"}).status_code == 403
    assert Opportunity.objects.get(pk=deals["company"].pk).name == "Renewal 2027"
    for hidden in ("closed", "other"):
        assert client.get(deals[hidden].get_absolute_url()).status_code == 404


def test_lists_search_and_api_show_the_same_deals_and_no_export(client, ticket, deals, agent_b):
    client.force_login(agent_b)
    listed = client.get(reverse("sales:opportunity-list")).text
    found = client.get(reverse("search"), {"q": "Renewal"}).text
    for text in (listed, found):
        assert "Renewal 2027" in text
        assert "Renewal elsewhere" not in text
        assert "Closed 2025" not in text
    assert client.get(reverse("sales:opportunity-export")).status_code == 403
    api = _api(agent_b)
    ids = {row["id"] for row in api.get("/api/opportunities/").json()["results"]}
    assert ids == {deals["company"].pk, deals["contact"].pk}
    assert api.get(f"/api/opportunities/{deals['company'].pk}/").status_code == 200
    assert api.get(f"/api/opportunities/{deals['other'].pk}/").status_code == 404
    patch = api.patch(f"/api/opportunities/{deals['company'].pk}/", {"name": "x"}, format="json")
    assert patch.status_code == 403


def test_a_linked_deal_stays_visible_when_closed(ticket, deals, lead, agent_b):
    closed = deals["closed"]
    assert not access.can(agent_b, closed, "view")
    services.ticket_set_opportunity(ticket=ticket, opportunity=deals["company"], actor=lead)
    Ticket.objects.filter(pk=ticket.pk).update(opportunity=closed)  # linked, then closed
    again = User.objects.get(pk=agent_b.pk)  # a new request: decisions are cached per user object
    assert access.can(again, closed, "view")
    assert closed in access.scoped(again, Opportunity)


def test_no_ticket_no_sight(queue, lead, deals, agent_b):
    assert not access.scoped(agent_b, Opportunity).exists()


def test_a_reader_of_the_ticket_gets_no_deal_through_it(ticket, deals, rep):
    """The view-through is for those who work tickets: a rep who reads the ticket through their
    customer sees deals only by their own sales scope."""
    Contact.objects.filter(pk=ticket.requester_id).update(owner=rep, team=rep.team)
    assert access.can(rep, Ticket.objects.get(pk=ticket.pk), "view")
    assert not access.scoped(rep, Opportunity).filter(pk__in=[d.pk for d in deals.values()])


def test_the_check_costs_one_query_per_deal(ticket, deals, agent_b, django_assert_num_queries):
    deal = Opportunity.objects.get(pk=deals["company"].pk)
    # Warm the role cache and the explicit shares of deals (read once per request).
    assert not access.can(agent_b, deals["other"], "view")
    with django_assert_num_queries(1):
        assert access.can(agent_b, deal, "view")
        assert access.can(agent_b, deal, "view")  # cached for the request
