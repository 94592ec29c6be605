"""The lead export (issue 24: the list kit's streaming export serves any list spec): the list's
own filters and scope, CSV with formula cells neutralised, XLSX, the role's export permission
checked by the kit itself, 400 for invalid filters."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from crm.exports import export_response
from leads.lists import LEADS
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(rep, rep_teammate, rep_other_team, admin_user):
    make_lead(admin_user, owner=rep, given_name="East", family_name="Kiosk", email="k@east.example")
    make_lead(
        admin_user, owner=rep_teammate, given_name="East", family_name="Sensor",
        company_name="=HYPERLINK(\"http://x.example\")",
    )  # fmt: skip
    make_lead(admin_user, owner=rep_other_team, given_name="West", family_name="Turbine")


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_csv_has_the_filtered_visible_leads_with_formulas_neutralised(client, rep, leads):
    login(client, rep)
    response = client.get(reverse("leads:lead-export"), {"q": "east"})
    assert response.status_code == 200
    assert 'filename="leads-' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:4] == ["id", "Name", "Email", "Phone"]
    names = {row[1] for row in rows[1:]}
    assert names == {"East Kiosk", "East Sensor"}  # the team's, not the other team's
    company = next(row[5] for row in rows[1:] if row[1] == "East Sensor")
    assert company == '\'=HYPERLINK("http://x.example")'


def test_xlsx_keeps_the_formula_as_text(client, manager, leads):
    login(client, manager)
    response = client.get(reverse("leads:lead-export"), {"format": "xlsx", "q": "sensor"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    cell = sheet.cell(row=2, column=6)
    assert cell.value == '=HYPERLINK("http://x.example")'
    assert cell.data_type == "s"


def test_export_needs_the_role_permission(client, read_only, agent, leads):
    for user in (read_only, agent):  # both see leads, neither may export them
        login(client, user)
        response = client.get(reverse("leads:lead-export"))
        assert response.status_code == 403
        assert (
            reverse("leads:lead-export")
            not in client.get(reverse("leads:lead-list")).content.decode()
        )


def test_invalid_filters_are_a_400_and_export_nothing(client, rep, leads):
    login(client, rep)
    response = client.get(reverse("leads:lead-export"), {"q": "x" * 101})
    assert response.status_code == 400
    assert "nothing was exported" in response.content.decode()
    assert "Kiosk" not in response.content.decode()


def test_the_list_offers_the_export_links(client, rep, leads):
    login(client, rep)
    html = client.get(reverse("leads:lead-list")).content.decode()
    assert reverse("leads:lead-export") + "?format=xlsx" in html


def test_the_kit_checks_the_permission_even_when_the_view_forgot(read_only, leads):
    request = RequestFactory().get("/any/")
    request.user = read_only
    with pytest.raises(PermissionDenied):
        export_response(request, LEADS)


def test_tag_names_come_from_the_cached_labels_once_a_chunk(client, rep) -> None:
    """The tags column is read from the rows' tag_ids and the cached labels (crm.tags
    .attach_row_tags once a chunk): the export's queries do not grow with tagged rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.services import tags_get_or_create
    from crm.tags import tags_add
    from leads.models import Lead

    hot, vip = tags_get_or_create(names=["Hot", "vip"], actor=rep)
    login(client, rep)
    url = reverse("leads:lead-export") + "?format=csv"
    counts = []
    for n in (2, 20):
        made = [make_lead(rep, email=f"t{n}-{i}@x.example") for i in range(n)]
        tags_add(model=Lead, ids=[lead.pk for lead in made], tags=[hot, vip])
        _csv(client.get(url))  # the labels cached
        with CaptureQueriesContext(connection) as queries:
            rows = _csv(client.get(url))
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    column = rows[0].index("Tags")
    assert {row[column] for row in rows[1:]} == {"Hot, vip"}
