"""The deal's contacts-and-roles editor (services and HTMX views), and a board move that brings
the stage's required fields along (what the board's dialog sends)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.errors import DomainError
from sales import services
from sales.models import Opportunity, OpportunityContact, StageChange
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deal(rep, pipeline):
    return make_deal(rep, name="Kiosks")


def test_add_change_and_remove_a_contact_role(client, rep, deal):
    contact = ContactFactory(owner=rep, given_name="Mei", family_name="Li")
    login(client, rep)
    url = reverse("sales:opportunity-contacts", args=[deal.pk])
    response = client.post(url, {"contact": contact.pk, "role": "decision_maker"}, **HTMX)
    assert response.status_code == 200
    assert "Decision maker" in response.content.decode()
    response = client.post(url, {"contact": contact.pk, "role": "user"}, **HTMX)
    row = OpportunityContact.objects.get(opportunity=deal)
    assert row.role == "user"
    response = client.post(
        reverse("sales:opportunity-contact-remove", args=[deal.pk]), {"role": row.pk}, **HTMX
    )
    assert response.status_code == 200
    assert "No contacts on this deal yet" in response.content.decode()
    assert not OpportunityContact.objects.exists()


def test_another_teams_contact_cannot_be_added(client, rep, rep_other_team, deal):
    foreign = ContactFactory(owner=rep_other_team)
    login(client, rep)
    url = reverse("sales:opportunity-contacts", args=[deal.pk])
    response = client.post(url, {"contact": foreign.pk, "role": "user"}, **HTMX)
    assert response.status_code == 422
    assert "do not have access" in response.content.decode()
    with pytest.raises(DomainError):
        services.opportunity_contact_add(opportunity=deal, contact=foreign, role="user", actor=rep)
    assert not OpportunityContact.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"contact": "x", "role": "user"},
        {"contact": "1\x00", "role": "user"},
        {"contact": "99999999999999999999999", "role": "user"},
        {"contact": "1", "role": "emperor"},
    ],
)
def test_bad_input_is_a_422_with_a_message(client, rep, deal, data):
    login(client, rep)
    url = reverse("sales:opportunity-contacts", args=[deal.pk])
    response = client.post(url, data, **HTMX)
    assert response.status_code in (400, 422)
    assert not OpportunityContact.objects.exists()


@pytest.mark.parametrize("value", ["", "abc", "1" * 30, "-1", "٣"])
def test_removing_an_unknown_role_says_so(client, rep, deal, value):
    login(client, rep)
    response = client.post(
        reverse("sales:opportunity-contact-remove", args=[deal.pk]), {"role": value}, **HTMX
    )
    assert response.status_code == 422
    assert "not on this deal" in response.content.decode()


def test_a_role_of_another_deal_is_not_removed(client, rep, deal):
    other = make_deal(rep, name="Other")
    row = services.opportunity_contact_add(
        opportunity=other, contact=ContactFactory(owner=rep), role="user", actor=rep
    )
    login(client, rep)
    response = client.post(
        reverse("sales:opportunity-contact-remove", args=[deal.pk]), {"role": row.pk}, **HTMX
    )
    assert response.status_code == 422
    assert OpportunityContact.objects.filter(pk=row.pk).exists()


def test_last_contact_of_a_stage_that_needs_contacts_stays(rep, pipeline, deal):
    contact = ContactFactory(owner=rep)
    row = services.opportunity_contact_add(
        opportunity=deal, contact=contact, role="user", actor=rep
    )
    meet = stage(pipeline, "Meet")
    meet.required_fields = ["contacts"]
    meet.save()
    services.opportunity_move_stage(opportunity=deal, stage=meet, actor=rep)
    with pytest.raises(DomainError, match="needs at least one contact"):
        services.opportunity_contact_remove(opportunity=deal, contact_role=row, actor=rep)


def test_picker_suggests_only_visible_contacts(client, rep, rep_other_team, deal):
    company = CompanyFactory(owner=rep, name="Acme")
    ContactFactory(owner=rep, given_name="Zhang", family_name="Wei", company=company)
    ContactFactory(owner=rep_other_team, given_name="Zhang", family_name="Hidden")
    Opportunity.objects.filter(pk=deal.pk).update(company=company)
    login(client, rep)
    url = reverse("sales:opportunity-contact-lookup", args=[deal.pk])
    html = client.get(url, {"contact_query": "zhang"}).content.decode()
    assert "Wei" in html
    assert "Hidden" not in html
    # No query: the contacts of the deal's company.
    assert "Wei" in client.get(url).content.decode()


def test_read_only_sees_the_contacts_but_no_editor(client, read_only, rep, deal):
    ann = ContactFactory(owner=rep, given_name="Ann")
    services.opportunity_contact_add(opportunity=deal, contact=ann, role="user", actor=rep)
    login(client, read_only)
    html = client.get(reverse("sales:opportunity-detail", args=[deal.pk])).content.decode()
    assert "Ann" in html
    assert "Type to search contacts" not in html


# --- A move that brings the required fields along (the board's dialog) --------------------


def _move(client, deal, stage_obj, **data):
    return client.post(
        reverse("sales:opportunity-move", args=[deal.pk]),
        {"stage": stage_obj.pk, **data},
        HTTP_ACCEPT="application/json",
    )


def test_refused_move_tells_the_board_what_to_ask(client, rep, pipeline, deal):
    login(client, rep)
    response = _move(client, deal, stage(pipeline, "Proposal"))
    assert response.status_code == 422
    assert response.json()["ask"] == ["amount"]
    assert "Proposal" in response.json()["error"]


def test_move_with_the_asked_amount_saves_both(client, rep, pipeline, deal):
    login(client, rep)
    response = _move(client, deal, stage(pipeline, "Proposal"), amount="1250.50")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Proposal")
    assert deal.amount == Decimal("1250.50")
    assert StageChange.objects.filter(opportunity=deal).count() == 2


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e20", "NaN", "1\x00"])
def test_move_with_a_bad_amount_changes_nothing(client, rep, pipeline, deal, amount):
    login(client, rep)
    response = _move(client, deal, stage(pipeline, "Proposal"), amount=amount)
    assert response.status_code in (400, 422)
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, "Qualify")
    assert deal.amount == 0


def test_the_dialog_asks_for_a_company_and_contacts_too(client, rep, pipeline, deal):
    meet = stage(pipeline, "Meet")
    meet.required_fields = ["amount", "company", "contacts"]
    meet.save()
    login(client, rep)
    response = _move(client, deal, meet)
    assert response.status_code == 422
    assert response.json()["ask"] == ["amount", "company", "contacts"]
