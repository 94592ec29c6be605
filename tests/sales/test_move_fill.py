"""A board move that brings a company and contacts with their roles along (the required-fields
dialog): saved with the move in one transaction through `opportunity_move_stage(fill=...)`,
only records the user may see, and a refused move keeps none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.errors import DomainError
from sales import services
from sales.models import OpportunityContact, StageChange
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def meet(pipeline):
    meet = stage(pipeline, "Meet")
    meet.required_fields = ["company", "contacts"]
    meet.save()
    return meet


@pytest.fixture
def deal(rep, pipeline):
    return make_deal(rep, name="Kiosks")


def _move(client, deal, stage_obj, data):
    return client.post(
        reverse("sales:opportunity-move", args=[deal.pk]),
        {"stage": stage_obj.pk, **data},
        HTTP_ACCEPT="application/json",
    )


def test_move_saves_the_company_and_contacts_with_it(rep, deal, meet):
    company = CompanyFactory(owner=rep, name="Acme")
    mei, li = ContactFactory(owner=rep), ContactFactory(owner=rep)
    fill = {"company": company, "contacts": [(mei, "decision_maker"), (li, "user")]}
    moved = services.opportunity_move_stage(opportunity=deal, stage=meet, actor=rep, fill=fill)
    assert (moved.stage, moved.company) == (meet, company)
    roles = dict(OpportunityContact.objects.filter(opportunity=deal).values_list("contact", "role"))
    assert roles == {mei.pk: "decision_maker", li.pk: "user"}
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_a_refused_move_keeps_none_of_what_it_brought(rep, deal, pipeline, meet):
    meet.required_fields = ["company", "contacts", "amount"]
    meet.save()
    fill = {"company": CompanyFactory(owner=rep), "contacts": [(ContactFactory(owner=rep), "user")]}
    with pytest.raises(services.MissingFields):
        services.opportunity_move_stage(opportunity=deal, stage=meet, actor=rep, fill=fill)
    deal.refresh_from_db()
    assert (deal.stage, deal.company) == (stage(pipeline, "Qualify"), None)
    assert not OpportunityContact.objects.filter(opportunity=deal).exists()


def test_the_service_refuses_records_the_actor_may_not_see(rep, rep_other_team, deal, meet):
    hidden_company = CompanyFactory(owner=rep_other_team)
    with pytest.raises(DomainError) as refused:
        services.opportunity_move_stage(
            opportunity=deal, stage=meet, actor=rep, fill={"company": hidden_company}
        )
    assert refused.value.field == "company"
    fill = {"contacts": [(ContactFactory(owner=rep_other_team), "user")]}
    with pytest.raises(DomainError) as refused:
        services.opportunity_move_stage(opportunity=deal, stage=meet, actor=rep, fill=fill)
    assert refused.value.field == "contacts"
    assert not OpportunityContact.objects.filter(opportunity=deal).exists()


def test_the_board_posts_a_company_and_a_contact_with_its_role(client, rep, deal, meet):
    company, contact = CompanyFactory(owner=rep), ContactFactory(owner=rep)
    login(client, rep)
    data = {"company": company.pk, "contact": contact.pk, "contact_role": "influencer"}
    response = _move(client, deal, meet, data)
    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert (deal.stage, deal.company) == (meet, company)
    assert OpportunityContact.objects.get(opportunity=deal).role == "influencer"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"company": "other"}, "company"),
        ({"company": "abc"}, "company"),
        ({"contact": "mine"}, "contacts"),
        ({"contact": "other", "contact_role": "user"}, "contacts"),
        ({"contact": "x1", "contact_role": "user"}, "contacts"),
        ({"contact": "mine", "contact_role": "boss"}, "contacts"),
    ],
)
def test_bad_dialog_values_are_refused_with_the_field(
    client, rep, rep_other_team, deal, meet, data, field
):
    ids = {
        "other": CompanyFactory(owner=rep_other_team).pk
        if "company" in data
        else ContactFactory(owner=rep_other_team).pk,
        "mine": ContactFactory(owner=rep).pk,
    }
    data = {k: ids.get(v, v) for k, v in data.items()}
    login(client, rep)
    response = _move(client, deal, meet, data)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["error"]
    deal.refresh_from_db()
    assert deal.stage != meet
    assert not OpportunityContact.objects.filter(opportunity=deal).exists()


def test_the_board_posts_several_contacts_with_their_roles(client, rep, deal, meet):
    company = CompanyFactory(owner=rep)
    boss, user, helper = (ContactFactory(owner=rep) for _ in range(3))
    login(client, rep)
    # The dialog's rows in pairs; a row left empty is skipped with its role.
    data = {
        "company": company.pk,
        "contact": [boss.pk, "", user.pk, helper.pk],
        "contact_role": ["decision_maker", "influencer", "user", "influencer"],
    }
    response = _move(client, deal, meet, data)
    assert response.status_code == 200, response.content
    roles = dict(
        OpportunityContact.objects.filter(opportunity=deal).values_list("contact_id", "role")
    )
    assert roles == {boss.pk: "decision_maker", user.pk: "user", helper.pk: "influencer"}


@pytest.mark.parametrize(
    "contacts",
    [["²"], ["9" * 30], ["1"] * 21],
)
def test_odd_contact_ids_are_refused_with_a_message(client, rep, deal, meet, contacts):
    login(client, rep)
    data = {"contact": contacts, "contact_role": ["user"] * len(contacts)}
    response = _move(client, deal, meet, data)
    assert response.status_code == 422
    assert response.json()["error"]
    assert not OpportunityContact.objects.filter(opportunity=deal).exists()


def test_a_move_cannot_type_the_amount_of_a_deal_with_lines(client, rep, deal, pipeline):
    from decimal import Decimal

    from sales import lines

    lines.line_add(
        opportunity=deal,
        data=lines.LineInput(
            product=None, name="Kiosk", quantity=Decimal("2"), unit_price=Decimal("50")
        ),
        actor=rep,
    )
    login(client, rep)
    response = _move(client, deal, stage(pipeline, "Proposal"), {"amount": "9999"})
    assert response.status_code == 422
    assert response.json()["field"] == "amount"
    assert "total of its products" in response.json()["error"]
    deal.refresh_from_db()
    assert deal.amount == Decimal("100.00")
    # Without a typed amount the move goes through: the lines' total meets the requirement.
    assert _move(client, deal, stage(pipeline, "Proposal"), {}).status_code == 200
