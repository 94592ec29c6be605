"""The contact and company pages: header fragment, inline edit events, scoping, stage colours."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_inline_edit_announces_the_change_the_header_and_timeline_listen_for(client, rep):
    company = CompanyFactory(owner=rep, name="Initech")
    contact = ContactFactory(owner=rep, job_title="Buyer", company=company)
    login(client, rep)
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    header = page.split('id="contact-header"')[1].split(">")[0]
    assert 'hx-trigger="contact-changed from:body"' in header
    assert "part=header" in header
    timeline = page.split('id="timeline"')[1].split(">")[0]
    assert 'hx-trigger="contact-changed from:body"' in timeline

    url = reverse("contacts:contact-field", args=[contact.pk, "job_title"])
    response = client.post(url, {"job_title": "Head of Purchasing"}, headers=HTMX)
    assert response.status_code == 200
    assert "contact-changed" in response["HX-Trigger"]

    fragment = client.get(
        reverse("contacts:contact-detail", args=[contact.pk]), {"part": "header"}, headers=HTMX
    )
    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="contact-header"')
    assert "Head of Purchasing" in html
    assert "Initech" in html
    assert "<html" not in html
    assert "HX-Request" in fragment.get("Vary", "")

    timeline_html = client.get(
        reverse("contacts:contact-timeline", args=[contact.pk]), headers=HTMX
    ).content.decode()
    newest = timeline_html.split('data-kind="history"')[1]
    assert "<ins>Head of Purchasing</ins>" in newest.split("</li>\n")[0]


def test_a_failed_inline_edit_announces_nothing(client, rep):
    contact = ContactFactory(owner=rep)
    login(client, rep)
    url = reverse("contacts:contact-field", args=[contact.pk, "website"])
    response = client.post(url, {"website": "not a url"}, headers=HTMX)
    assert response.status_code == 422
    assert "HX-Trigger" not in response


def test_header_fragment_is_scoped(client, rep, other_contact):
    login(client, rep)
    url = reverse("contacts:contact-detail", args=[other_contact.pk])
    assert client.get(url, {"part": "header"}, headers=HTMX).status_code == 404


def test_without_htmx_the_part_parameter_still_gives_the_page(client, rep):
    contact = ContactFactory(owner=rep)
    login(client, rep)
    html = client.get(
        reverse("contacts:contact-detail", args=[contact.pk]), {"part": "header"}
    ).content.decode()
    assert "<html" in html
    assert 'id="timeline"' in html


def test_stage_badges_take_their_colour_from_contacts(client, rep):
    company = CompanyFactory(owner=rep, lifecycle_stage="customer")
    contact = ContactFactory(owner=rep, lifecycle_stage="prospect", company=company)
    login(client, rep)
    html = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    assert "badge text-bg-info" in html
    html = client.get(reverse("contacts:company-detail", args=[company.pk])).content.decode()
    assert "badge text-bg-success" in html


def test_company_page_shows_history_in_its_timeline(client, rep):
    company = CompanyFactory(owner=rep, name="Umbrella")
    login(client, rep)
    client.post(
        reverse("contacts:company-edit", args=[company.pk]),
        {"name": "Umbrella Corp", "lifecycle_stage": "prospect", "owner": rep.pk},
    )
    html = client.get(reverse("contacts:company-detail", args=[company.pk])).content.decode()
    timeline = html.split('id="timeline"')[1]
    assert 'data-kind="history"' in timeline
    assert "Umbrella Corp" in timeline
