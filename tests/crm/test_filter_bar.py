"""Filter bars drawn from the lists' FilterSets (components/list_filters.html with
crm/templatetags/filter_bar.py): each field once, in the FilterSet's order, its "More filters"
apart; the sales board shows the list's bar with its own fields and the pipeline it shows."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.grants import sync_role_grants
from sales.models import Pipeline
from tests.sales.factories import make_pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _grants() -> None:
    sync_role_grants()
    cache.delete("version:roles")


def _form(html: str, form_id: str) -> tuple[str, str]:
    """(the bar's main fields, the fields behind "More filters")."""
    match = re.search(rf'<form id="{form_id}".*?</form>', html, re.S)
    assert match, html[:2000]
    main, _, more = match.group(0).partition("<details")
    return main, more


def _names(html: str) -> list[str]:
    return re.findall(r'<(?:input|select)[^>]* name="(\w+)"', html)


def test_the_deal_list_bar_comes_from_its_filterset(client: Client, manager) -> None:
    client.force_login(manager)
    main, more = _form(
        client.get(reverse("sales:opportunity-list")).content.decode(), "opportunity-filters"
    )
    assert _names(main) == ["q", "pipeline", "stage", "status", "owner", "tag"]
    assert 'placeholder="Deal name"' in main
    assert 'maxlength="100"' in main
    assert '<option value="" selected>Any pipeline</option>' in main
    assert '<option value="me">Me</option>' in main  # the owner choices of prepare_form
    assert ">Tag</label>" in main
    assert '<option value="">Any</option>' in main
    names = _names(more)
    assert names[:-1] == ["team", "close_from", "close_to", "amount_min", "amount_max", "archived"]
    assert names[-1] == "sort"
    assert "Show archived instead</label>" in more


def test_the_board_shows_the_lists_bar_with_its_own_fields(client: Client, manager) -> None:
    Pipeline.objects.update(is_default=False)
    make_pipeline("Second", default=False)
    shown = make_pipeline("Main", default=True)
    client.force_login(manager)
    main, more = _form(client.get(reverse("sales:board")).content.decode(), "board-filters")
    assert _names(main) == ["q", "pipeline", "owner", "tag"]
    assert "Any pipeline" not in main
    assert f'<option value="{shown.pk}" selected>Main</option>' in main
    assert _names(more)[:-1] == ["team", "close_from", "close_to", "amount_min", "amount_max"]


def test_the_ticket_bar_keeps_the_view_as_a_hidden_field(client: Client, agent) -> None:
    client.force_login(agent)
    html = client.get(reverse("support:ticket-list"), {"view": "unassigned"}).content.decode()
    main, more = _form(html, "ticket-filters")
    assert '<input type="hidden" name="view" value="unassigned">' in main
    assert _names(main) == ["view", "q", "queue", "status", "priority", "assignee"]
    assert _names(more)[:-1] == ["channel", "tag"]


def test_a_bad_value_is_marked_beside_the_others(client: Client, manager) -> None:
    client.force_login(manager)
    response = client.get(reverse("leads:lead-list"), {"score_min": "lots", "q": "ann"})
    assert response.status_code == 400
    main, more = _form(response.content.decode(), "lead-filters")
    assert 'value="ann"' in main
    assert 'name="score_min"' in more
    assert "is-invalid" in more
    assert more.startswith(' class="mt-2" open>')


def _labels(html: str) -> list[str]:
    return re.findall(r'<label class="form[^"]*" for="\w+">([^<]+)</label>', html)


def test_the_contact_list_bar_comes_from_its_filterset(client: Client, manager) -> None:
    client.force_login(manager)
    main, more = _form(
        client.get(reverse("contacts:contact-list")).content.decode(), "contact-filters"
    )
    # What the hand-written bar showed, in its order; the API's `company` is not a field.
    assert _names(main) == ["q", "owner", "stage", "tag", "region"]
    assert _labels(main) == ["Search", "Owner", "Stage", "Tag", "Region"]
    assert 'placeholder="Name, email, phone or company"' in main
    assert 'maxlength="100"' in main
    assert '<option value="me">Me</option>' in main
    assert '<option value="">Any</option>' in main  # before the tags
    assert 'hx-trigger="input changed delay:300ms from:#id_q, change, submit"' in main
    assert _names(more)[:-1] == [
        "industry", "created_from", "created_to", "contacted_from", "contacted_to",
        "not_contacted_days", "next_step", "archived",
    ]  # fmt: skip
    assert _labels(more) == [
        "Company industry", "Created from", "Created to", "Last contacted from",
        "Last contacted to", "Not contacted for (days)", "Next step", "Show archived instead",
    ]  # fmt: skip


def test_the_contact_list_keeps_a_company_filter_as_a_hidden_input(client: Client, manager):
    from tests.contacts.factories import CompanyFactory, ContactFactory

    acme = CompanyFactory(owner=manager, name="Acme")
    ContactFactory(owner=manager, company=acme, given_name="Ann", family_name="Inside")
    ContactFactory(owner=manager, given_name="Bob", family_name="Outside")
    client.force_login(manager)
    html = client.get(reverse("contacts:contact-list"), {"company": acme.pk}).content.decode()
    main, _more = _form(html, "contact-filters")
    assert f'<input type="hidden" name="company" value="{acme.pk}">' in main
    assert "Ann Inside" in html
    assert "Bob Outside" not in html


def test_the_company_list_bar_comes_from_its_filterset(client: Client, manager) -> None:
    client.force_login(manager)
    main, more = _form(
        client.get(reverse("contacts:company-list")).content.decode(), "company-filters"
    )
    assert _names(main) == ["q", "owner", "stage", "tag", "region", "industry"]
    assert _labels(main) == ["Search", "Owner", "Stage", "Tag", "Region", "Industry"]
    assert 'placeholder="Name, email, phone or website"' in main
    assert _names(more)[:-1] == [
        "created_from", "created_to", "contacted_from", "contacted_to", "not_contacted_days",
        "next_step", "archived",
    ]  # fmt: skip
