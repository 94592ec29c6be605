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
    from crm import exports

    monkeypatch.setattr(exports, "CHUNK", 3)
    for i in range(8):
        ContactFactory(owner=rep, given_name=f"P{i}", family_name="Chunk")
    response = rep_client.get(reverse("contacts:contact-export"))
    lines = _csv(response).strip().splitlines()
    assert len(lines) == 1 + 8


# --- issue 25: invalid filters, spreadsheet safety -------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"owner": "99999999", "stage": "customer"},
        {"owner": "abc"},
        {"stage": "nonsense", "q": "olivia"},
        {"tag": "999999"},
        {"created_from": "yesterday"},
    ],
)
def test_invalid_filter_exports_nothing_and_says_why(rep_client, own_contact, params):
    for name in ("contacts:contact-export", "contacts:company-export"):
        for fmt in ("csv", "xlsx"):
            response = rep_client.get(reverse(name), {**params, "format": fmt})
            assert response.status_code == 400
            text = response.content.decode()
            assert "nothing was exported" in text
            assert "Olivia Owner" not in text
    text = rep_client.get(reverse("contacts:contact-export"), params).content.decode()
    label = {"owner": "Owner", "stage": "Stage", "tag": "Tags", "created_from": "Created from"}
    assert any(f"{label[k]}:" in text for k in params if k in label)


EVIL = ["=HYPERLINK(1)", "-2+3", "+86 138 1234 5678", "@SUM(A1)", "\tTAB", "\rCR"]


def test_csv_neutralises_every_cell_a_spreadsheet_would_evaluate_by_one_rule(rep, rep_client):
    from crm.exports import csv_cell

    for value in EVIL:
        assert csv_cell(value) == "'" + value
    for value in ("Ann", "", "2+3", "138 1234", "a=b"):
        assert csv_cell(value) == value
    assert csv_cell(-5) == -5  # numbers are numbers, not text
    ContactFactory(
        owner=rep,
        given_name="-2+3",
        family_name="@Evil",
        job_title="=1+1",
        phones=["+86 138 1234 5678"],
    )
    text = _csv(rep_client.get(reverse("contacts:contact-export")))
    row = next(line for line in text.splitlines() if "Evil" in line)
    for cell in ("'-2+3", "'@Evil", "'=1+1", "'+86 138 1234 5678"):
        assert cell in row
    # No cell of the row starts with a formula character unless behind the apostrophe.
    import csv as csv_module

    cells = next(csv_module.reader([row]))
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_xlsx_cells_are_typed_text_never_formulas(rep, rep_client):
    ContactFactory(
        owner=rep,
        given_name='=HYPERLINK("http://x")',
        family_name="-2+3",
        job_title="@SUM(A1)\x0b",  # a control character XML cannot carry
        phones=["+86 138 1234 5678"],
    )
    response = rep_client.get(reverse("contacts:contact-export"), {"format": "xlsx"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert row["Given name"].value == '=HYPERLINK("http://x")'
    assert row["Family name"].value == "-2+3"
    assert row["Job title"].value == "@SUM(A1)"
    assert row["Phones"].value == "+86 138 1234 5678"  # no apostrophe needed
    for cell in sheet[2]:
        assert cell.data_type in ("s", "n"), (cell.value, cell.data_type)
    assert isinstance(row["id"].value, int)


def test_company_xlsx_export_reads_back(rep, rep_client):
    from tests.contacts.factories import CompanyFactory

    CompanyFactory(owner=rep, name="=cmd|' /C calc'!A0")
    response = rep_client.get(reverse("contacts:company-export"), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = book.active["B2"]
    assert (cell.value, cell.data_type) == ("=cmd|' /C calc'!A0", "s")
