"""Exports: scoped like the list, filtered like the list, correct in Excel, flat in memory."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.contacts.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def _csv(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_rep_exports_only_own_and_team_contacts(
    rep_client, own_contact, team_contact, other_contact
):
    response = rep_client.get(reverse("contacts:contact-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = _csv(response)
    assert text.startswith("\ufeff")
    assert "Olivia Owner" in text
    assert "Tom Teammate" in text
    assert "zhang.wei@west.example" not in text


def test_export_applies_the_filters(rep, rep_client, own_contact):
    vip = TagFactory(name="VIP")
    ContactFactory(owner=rep, given_name="Vera", family_name="Vip", tags=[vip])
    text = _csv(rep_client.get(reverse("contacts:contact-export"), {"tag": vip.pk}))
    assert "Vera Vip" in text
    assert "Olivia Owner" not in text
    text = _csv(rep_client.get(reverse("contacts:contact-export"), {"q": "olivia"}))
    assert "Olivia Owner" in text
    assert "Vera Vip" not in text


def test_chinese_names_survive_and_formulas_are_neutralised(client, manager, other_contact, rep):
    ContactFactory(owner=rep, given_name="=HYPERLINK(1)", family_name="Evil")
    client.force_login(manager)
    text = _csv(client.get(reverse("contacts:contact-export")))
    assert "张伟" in text
    assert "'=HYPERLINK(1)" in text
    assert "+86 138 1234 5678" in text  # phone numbers are not mangled


def test_xlsx_export_opens(rep_client, own_contact):
    response = rep_client.get(reverse("contacts:contact-export"), {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "id"
    assert rows[1][3] == "Olivia Owner"


def test_export_needs_the_permission(client, agent, own_contact):
    client.force_login(agent)  # support agents may not export
    assert client.get(reverse("contacts:contact-export")).status_code == 403


def test_company_export_is_scoped(rep_client, own_company, other_company):
    text = _csv(rep_client.get(reverse("contacts:company-export")))
    assert "Acme Robotics" in text
    assert "郑州" not in text


def test_export_walks_past_one_chunk(rep, rep_client, monkeypatch):
    from contacts import exports

    monkeypatch.setattr(exports, "CHUNK", 3)
    for i in range(8):
        ContactFactory(owner=rep, given_name=f"P{i}", family_name="Chunk")
    response = rep_client.get(reverse("contacts:contact-export"))
    lines = _csv(response).strip().splitlines()
    assert len(lines) == 1 + 8
