"""Deals carry tags (crm.tags): the form, the API, the list's and the board's tag filter (scoped,
bad ids refused), badges on rows and cards, the change history; a new deal's history shows only
what was set; stage changes keep the amount of their day and the statistical forecast reads it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import history
from crm.errors import DomainError
from crm.tags import tags_set
from sales import forecasting, services
from sales.currency import RateBook
from sales.models import Opportunity, StageChange
from tests.conftest import login
from tests.contacts.factories import TagFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags(db):
    return {"vip": TagFactory(name="VIP"), "hot": TagFactory(name="Hot")}


@pytest.fixture
def tagged(rep, rep_teammate, rep_other_team, pipeline, tags):
    east_vip = make_deal(rep, name="East kiosk", amount="100", tag_names=["VIP"])
    make_deal(rep_teammate, name="East sensor", amount="50", tag_names=["Hot"])
    make_deal(rep, name="East plain", amount="70")
    make_deal(rep_other_team, name="West turbine VIP", amount="900", tag_names=["VIP"])
    return east_vip


def _board_names(response) -> list[str]:
    return sorted(card.name for column in response.context["columns"] for card in column.cards)


def test_create_with_tag_names_stores_sorted_ids(rep, pipeline, tags):
    deal = make_deal(rep, name="Tagged", tag_names=["Hot", "VIP", "hot"])
    deal.refresh_from_db()
    assert deal.tag_ids == sorted([tags["vip"].pk, tags["hot"].pk])


def test_a_new_tag_name_is_created_for_a_rep_and_refused_to_an_unknown_tag_id(rep, pipeline):
    deal = make_deal(rep, name="Tagged", tag_names=["Brand new tag"])
    assert len(deal.tag_ids) == 1
    with pytest.raises(DomainError) as exc:
        tags_set(obj=deal, tags=[987654321], actor=rep)
    assert exc.value.field == "tags"


def test_list_filter_by_tag_is_scoped(client, rep, tagged, tags):
    login(client, rep)
    response = client.get(reverse("sales:opportunity-list"), {"tag": tags["vip"].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "East kiosk" in html
    assert "East sensor" not in html
    assert "East plain" not in html
    assert "West turbine VIP" not in html  # another team's deal, tagged the same


def test_list_rows_show_tag_badges_without_a_query_per_row(client, rep, tagged, tags):
    login(client, rep)
    url = reverse("sales:opportunity-list")
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(15):
        make_deal(rep, name=f"More {i}", tag_names=["VIP", "Hot"])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many) == len(few)
    assert response.content.decode().count(">VIP</span>") >= 16


def test_board_filter_by_tag_and_card_badges(client, rep, tagged, tags, pipeline):
    login(client, rep)
    url = reverse("sales:board")
    response = client.get(url, {"pipeline": pipeline.pk, "tag": [tags["hot"].pk]})
    assert response.status_code == 200
    assert _board_names(response) == ["East sensor"]
    response = client.get(url, {"pipeline": pipeline.pk})
    html = response.content.decode()
    assert "data-tags" in html
    assert ">VIP</span>" in html
    assert _board_names(response) == ["East kiosk", "East plain", "East sensor"]


@pytest.mark.parametrize("value", ["abc", "99999999", "1\x00", "\u202e1", "-1"])
def test_unknown_tag_is_a_400_with_a_message(client, rep, tagged, pipeline, value):
    login(client, rep)
    for url in (reverse("sales:board"), reverse("sales:opportunity-list")):
        response = client.get(url, {"pipeline": pipeline.pk, "tag": value})
        assert response.status_code == 400, url
        if "\x00" not in value:  # NUL is refused before the view, by the middleware
            assert "Select a valid choice" in response.content.decode()


def test_api_reads_writes_and_filters_tags(client, rep, tagged, tags):
    login(client, rep)
    response = client.get("/api/opportunities/", {"tag": tags["vip"].pk})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["name"], r["tags"]) for r in rows] == [("East kiosk", ["VIP"])]
    url = f"/api/opportunities/{tagged.pk}/"
    response = client.patch(url, {"tags": ["Hot", "VIP"]}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["Hot", "VIP"]
    # A partial update that does not name the tags keeps them.
    response = client.patch(url, {"next_step": "Call"}, content_type="application/json")
    assert response.json()["tags"] == ["Hot", "VIP"]
    for bad in ("VIP", ["x" * 61], [None]):
        response = client.patch(url, {"tags": bad}, content_type="application/json")
        assert response.status_code == 400, bad
        assert "tags" in response.json()
    response = client.get("/api/opportunities/", {"tag": "nope"})
    assert response.status_code == 400


def test_api_cannot_tag_another_teams_deal(client, rep, rep_other_team, pipeline, tags):
    other = make_deal(rep_other_team, name="Theirs")
    login(client, rep)
    response = client.patch(
        f"/api/opportunities/{other.pk}/", {"tags": ["VIP"]}, content_type="application/json"
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.tag_ids == []


def test_form_edit_sets_tags_and_history_names_them(client, rep, pipeline, tags):
    deal = make_deal(rep, name="Form deal", tag_names=["VIP"])
    login(client, rep)
    url = reverse("sales:opportunity-edit", args=[deal.pk])
    page = client.get(url).content.decode()
    assert 'value="VIP"' in page
    data = {
        "name": "Form deal",
        "amount": "0",
        "currency": "CNY",
        "expected_close_date": deal.expected_close_date.isoformat(),
        "forecast_category": "pipeline",
        "tags": "VIP\uff0c Hot",  # a full-width comma too
        **dict.fromkeys(("need", "budget", "decision_maker", "timeline"), "0"),
        "purchase_intent": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.tag_ids == sorted([tags["vip"].pk, tags["hot"].pk])
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Hot, VIP" in page  # the history row of the tag change


def test_new_deal_history_shows_only_what_was_set(rep, pipeline):
    deal = make_deal(rep, name="Fresh", ratings={"need": 2})
    entry = LogEntry.objects.get_for_object(deal).get(action=LogEntry.Action.CREATE)
    (item,) = history.history_items([entry], Opportunity, viewer=None)
    labels = {row.label: row.after for row in item.rows}
    assert labels["need"] == "Fair"
    assert labels["name"] == "Fresh"
    for quiet in ("budget", "decision maker", "timeline", "purchase intent", "amount"):
        assert quiet not in labels, quiet
    # Later changes to a default value are still shown.
    deal = services.opportunity_update(
        opportunity=deal,
        data=services.OpportunityInput(
            name="Fresh",
            expected_close_date=deal.expected_close_date,
            amount=Decimal("5"),
            ratings={"need": 0},
        ),
        actor=rep,
    )
    entry = LogEntry.objects.get_for_object(deal).filter(action=LogEntry.Action.UPDATE).first()
    (item,) = history.history_items([entry], Opportunity, viewer=None)
    changed = {row.label: (row.before, row.after) for row in item.rows}
    assert changed["need"] == ("Fair", "Unknown")
    assert changed["amount"] == ("0.00", "5")


def test_stage_changes_keep_the_amount_of_their_day(rep, pipeline):
    deal = make_deal(rep, name="Growing", amount="10")
    deal = services.opportunity_update(
        opportunity=deal,
        data=services.OpportunityInput(
            name="Growing", expected_close_date=deal.expected_close_date, amount=Decimal("50")
        ),
        actor=rep,
    )
    services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Meet"), actor=rep)
    rows = list(StageChange.objects.filter(opportunity=deal).order_by("at", "id"))
    assert [(r.to_stage.name, r.amount, r.currency, r.probability) for r in rows] == [
        ("Qualify", Decimal("10.00"), "CNY", 10),
        ("Meet", Decimal("50.00"), "CNY", 30),
    ]


def _at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, tzinfo=dt.UTC)


def test_forecast_history_values_each_stay_at_its_own_amount(rep, pipeline):
    """A deal entered Meet at 100 (Jan), was won at 500 (March) and edited to 900 since: the
    February and March snapshots see 100, the win counts 500; a change recorded before amounts
    were kept (amount NULL) is valued at the deal's current amount."""
    meet, won = stage(pipeline, "Meet"), stage(pipeline, "Won")
    deal = Opportunity.objects.create(
        name="Honest", pipeline=pipeline, stage=won, owner=rep, team_id=rep.team_id,
        amount=Decimal("900"), expected_close_date=dt.date(2025, 3, 20), probability=100,
        stage_entered_at=_at(2025, 3, 20), closed_at=_at(2025, 3, 20),
    )  # fmt: skip
    legacy = Opportunity.objects.create(
        name="Legacy", pipeline=pipeline, stage=meet, owner=rep, team_id=rep.team_id,
        amount=Decimal("40"), expected_close_date=dt.date(2025, 6, 1), probability=30,
        stage_entered_at=_at(2025, 1, 10),
    )  # fmt: skip
    StageChange.objects.bulk_create(
        [
            StageChange(opportunity=deal, to_stage=meet, at=_at(2025, 1, 5), amount=100,
                        currency="CNY", probability=30),
            StageChange(opportunity=deal, from_stage=meet, to_stage=won, at=_at(2025, 3, 20),
                        amount=500, currency="CNY", probability=100),
            StageChange(opportunity=legacy, to_stage=meet, at=_at(2025, 1, 10)),
        ]
    )  # fmt: skip
    h = forecasting.load_history(until=dt.date(2025, 5, 1), book=RateBook.load())
    feb, mar = (
        forecasting.month_index(dt.date(2025, 2, 1)),
        forecasting.month_index(dt.date(2025, 3, 1)),
    )
    young, middle = 0, 1
    assert h.open_amount[(feb, None, meet.pk, young)] == Decimal("140")  # 100 + legacy 40
    assert h.open_amount[(mar, None, meet.pk, middle)] == Decimal("140")
    assert h.actual[(mar, None)] == Decimal("500")
