"""The owner offered on contact and company forms is one the user may assign (access.can_assign),
and a forged owner id is a form error that changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.forms import CompanyForm, ContactForm
from contacts.models import Company, Contact
from tests.conftest import login
from tests.contacts.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def _offered(form) -> set[User]:
    return set(form.fields["owner"].queryset)


def test_a_rep_is_offered_themselves_and_team_mates_only(
    rep, rep_teammate, manager, rep_other_team, agent
):
    contact_form = ContactForm(user=rep, companies=Company.objects.none())
    assert _offered(contact_form) == {rep, rep_teammate, manager}
    assert _offered(CompanyForm(user=rep)) == {rep, rep_teammate, manager}


def test_an_agent_who_changes_only_their_own_is_offered_only_themselves(agent, rep):
    assert _offered(ContactForm(user=agent, companies=Company.objects.none())) == {agent}


def test_a_manager_is_offered_by_their_change_scope(manager, rep, rep_other_team):
    offered = _offered(ContactForm(user=manager, companies=Company.objects.none()))
    assert rep in offered
    assert rep_other_team not in offered  # managers change their team's records only


def test_an_administrator_is_offered_everyone_active(admin_user, rep, rep_other_team):
    rep_other_team.is_active = False
    rep_other_team.save()
    offered = _offered(ContactForm(user=admin_user, companies=Company.objects.none()))
    assert {admin_user, rep} <= offered
    assert rep_other_team not in offered


def test_a_forged_owner_on_the_contact_form_is_a_form_error(
    client: Client, rep: User, rep_other_team: User
):
    data = {
        "given_name": "Forged",
        "name_order": "given_first",
        "lifecycle_stage": "lead",
        "owner": rep_other_team.pk,
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    response = login(client, rep).post(reverse("contacts:contact-create"), data)
    assert response.status_code == 422
    assert response.context["form"].has_error("owner")
    assert not Contact.objects.filter(given_name="Forged").exists()


def test_a_forged_owner_on_the_company_edit_form_changes_nothing(
    client: Client, rep: User, rep_other_team: User
):
    company = CompanyFactory(owner=rep, name="Acme")
    url = reverse("contacts:company-edit", args=[company.pk])
    response = login(client, rep).post(url, {"name": "Acme", "owner": rep_other_team.pk})
    assert response.status_code == 422
    assert response.context["form"].has_error("owner")
    assert Company.objects.get(pk=company.pk).owner_id == rep.pk
