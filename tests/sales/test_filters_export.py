"""The team filter on the board and list, and the deal export (CSV/XLSX) with its permission."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.sales.factories import make_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep, rep_teammate, rep_other_team, manager, pipeline):
    make_deal(rep, name="East kiosk", amount="100")
    make_deal(rep_teammate, name="East sensor", amount="50")
    make_deal(rep_other_team, name="West turbine", amount="900")


def _board_names(response) -> list[str]:
    return sorted(card.name for column in response.context["columns"] for card in column.cards)


def test_team_filter_on_the_board(client, manager, rep, rep_other_team, deals, pipeline):
    login(client, manager)  # sees every deal
    url = reverse("sales:board")
    response = client.get(url, {"pipeline": pipeline.pk, "team": rep.team_id})
    assert _board_names(response) == ["East kiosk", "East sensor"]
    response = client.get(url, {"pipeline": pipeline.pk, "team": rep_other_team.team_id})
    assert _board_names(response) == ["West turbine"]


def test_team_filter_never_widens_the_scope(client, rep, rep_other_team, deals, pipeline):
    login(client, rep)
    response = client.get(reverse("sales:opportunity-list"), {"team": rep_other_team.team_id})
    assert response.status_code == 200
    assert "West turbine" not in response.content.decode()


@pytest.mark.parametrize("value", ["abc", "99999999", "1\u202e", "-1"])
def test_unknown_team_is_a_400_with_a_message(client, rep, deals, pipeline, value):
    login(client, rep)
    response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk, "team": value})
    assert response.status_code == 400
    assert "Pick a team from the list." in response.content.decode()


def test_export_csv_has_the_filtered_visible_deals(client, rep, deals):
    login(client, rep)
    response = client.get(reverse("sales:opportunity-export"), {"format": "csv", "q": "east"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "East kiosk" in body
    assert "East sensor" in body
    assert "West turbine" not in body
    assert body.splitlines()[0].startswith("id,Name,Company,Pipeline,Stage")


def test_export_xlsx(client, manager, deals):
    login(client, manager)
    response = client.get(reverse("sales:opportunity-export"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )


def test_export_needs_the_permission(client, read_only, deals):
    login(client, read_only)
    response = client.get(reverse("sales:opportunity-export"))
    assert response.status_code == 403


def test_export_with_bad_filters_is_a_400(client, rep, deals):
    login(client, rep)
    response = client.get(reverse("sales:opportunity-export"), {"amount_min": "lots"})
    assert response.status_code == 400
    assert "nothing was exported" in response.content.decode()


def test_list_offers_the_export_links(client, rep, read_only, deals):
    login(client, rep)
    html = client.get(reverse("sales:opportunity-list")).content.decode()
    assert reverse("sales:opportunity-export") in html
    login(client, read_only)
    html = client.get(reverse("sales:opportunity-list")).content.decode()
    assert reverse("sales:opportunity-export") not in html


def test_a_reps_search_is_written_per_scope_arm_and_stays_scoped(
    client, rep, rep_other_team, pipeline
):
    """The name search ANDs one arm per scope arm (owner, team) so the name index, which holds
    both, hands back only the rep's matches (sales 0011); the rows are the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_deal(rep, name="Pilot mine")
    make_deal(rep_other_team, name="Pilot theirs")
    login(client, rep)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("sales:opportunity-list"), {"q": "pilot"})
    html = response.content.decode()
    assert "Pilot mine" in html
    assert "Pilot theirs" not in html
    searched = [q["sql"] for q in captured.captured_queries if "%pilot%" in q["sql"].lower()]
    assert searched
    # (name AND owner = me) OR (name AND team = mine), the ids as bigint for btree_gin.
    assert all(sql.count("::bigint") >= 2 for sql in searched)
    api = client.get("/api/opportunities/", {"q": "PILOT"}).json()["results"]
    assert [row["name"] for row in api] == ["Pilot mine"]
