"""Won reasons: asked when a deal enters a won stage (service, board move, deal page, form, API)
while the administrators keep a list; stored, shown on the deal, cleared on reopening, and
counted by reason in the pipeline analytics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.errors import DomainError
from sales import services
from sales.models import LossReason, Opportunity, WinReason
from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def relationship(db: None) -> WinReason:
    WinReason.objects.create(name="Old reason", active=False)
    return WinReason.objects.create(name="Relationship")


def _move(client, deal, stage_obj, **data):
    return client.post(
        reverse("sales:opportunity-move", args=[deal.pk]),
        {"stage": stage_obj.pk, **data},
        HTTP_ACCEPT="application/json",
    )


def test_won_needs_a_reason_while_reasons_are_defined(rep, pipeline, relationship):
    deal = make_deal(rep, amount="100")
    won = stage(pipeline, "Won")
    with pytest.raises(DomainError, match="why the deal was won"):
        services.opportunity_move_stage(opportunity=deal, stage=won, actor=rep)
    inactive = WinReason.objects.get(name="Old reason")
    with pytest.raises(DomainError, match="why the deal was won"):
        services.opportunity_move_stage(opportunity=deal, stage=won, actor=rep, won_reason=inactive)
    deal.refresh_from_db()
    assert deal.stage.name == "Qualify"
    deal = services.opportunity_move_stage(
        opportunity=deal, stage=won, actor=rep, won_reason=relationship
    )
    deal.refresh_from_db()
    assert (deal.won_reason, deal.loss_reason, deal.closed_at is not None) == (
        relationship,
        None,
        True,
    )
    # Reopening is recorded and clears the reason.
    deal = services.opportunity_move_stage(
        opportunity=deal, stage=stage(pipeline, "Meet"), actor=rep
    )
    deal.refresh_from_db()
    assert (deal.won_reason, deal.closed_at) == (None, None)
    assert [c.to_stage.name for c in deal.stage_changes.order_by("at", "id")] == [
        "Qualify",
        "Won",
        "Meet",
    ]


def test_without_a_list_wins_are_not_asked_why(rep, pipeline):
    deal = make_deal(rep)
    deal = services.opportunity_move_stage(
        opportunity=deal, stage=stage(pipeline, "Won"), actor=rep
    )
    assert deal.closed_at is not None
    assert deal.won_reason is None


def test_lost_deal_keeps_no_won_reason(rep, pipeline, relationship, loss_reason):
    deal = make_deal(rep)
    deal = services.opportunity_move_stage(
        opportunity=deal,
        stage=stage(pipeline, "Lost"),
        actor=rep,
        loss_reason=loss_reason,
        won_reason=relationship,
    )
    assert (deal.won_reason, deal.loss_reason) == (None, loss_reason)


def test_board_move_into_won_asks_and_stores_the_reason(client, rep, pipeline, relationship):
    deal = make_deal(rep)
    login(client, rep)
    board = client.get(reverse("sales:board"))
    html = board.content.decode()
    assert 'id="won-dialog"' in html
    assert "Relationship" in html
    assert "Old reason" not in html  # inactive reasons are not offered
    won = stage(pipeline, "Won")
    refused = _move(client, deal, won)
    assert refused.status_code == 422
    assert "won" in refused.json()["error"]
    response = _move(client, deal, won, won_reason=relationship.pk)
    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert deal.won_reason == relationship
    junk = _move(client, make_deal(rep), won, won_reason="nope")
    assert junk.status_code == 422
    assert "Pick a reason" in junk.json()["error"]


def test_board_has_no_won_dialog_without_reasons(client, rep, pipeline):
    html = login(client, rep).get(reverse("sales:board")).content.decode()
    assert 'id="won-dialog"' not in html


def test_deal_page_shows_and_the_form_corrects_the_reason(client, rep, pipeline, relationship):
    price = WinReason.objects.create(name="Price")
    deal = make_deal(rep, name="Kiosks", amount="100")
    deal = services.opportunity_move_stage(
        opportunity=deal, stage=stage(pipeline, "Won"), actor=rep, won_reason=relationship
    )
    login(client, rep)
    page = client.get(reverse("sales:opportunity-detail", args=[deal.pk]))
    html = page.content.decode()
    assert "Won reason" in html
    assert "Relationship" in html
    assert 'name="won_reason"' in html  # the page's move form asks too
    body = {
        "name": "Kiosks",
        "amount": "100",
        "currency": "CNY",
        "expected_close_date": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
        "forecast_category": "closed",
        **dict.fromkeys(("need", "budget", "decision_maker", "timeline", "purchase_intent"), "0"),
    }
    url = reverse("sales:opportunity-edit", args=[deal.pk])
    assert client.post(url, body).status_code == 422  # a won deal's form needs the reason
    assert client.post(url, {**body, "won_reason": "x"}).status_code == 422
    response = client.post(url, {**body, "won_reason": price.pk})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.won_reason == price
    # An open deal's form has no reason field.
    other = make_deal(rep)
    form = client.get(reverse("sales:opportunity-edit", args=[other.pk])).content.decode()
    assert 'name="won_reason"' not in form


def test_deal_page_move_form_without_js(client, rep, pipeline, relationship):
    deal = make_deal(rep)
    login(client, rep)
    response = client.post(
        reverse("sales:opportunity-move", args=[deal.pk]),
        {"stage": stage(pipeline, "Won").pk, "won_reason": relationship.pk},
        follow=True,
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.won_reason == relationship


def test_api_moves_to_won_with_a_reason(client, rep, pipeline, relationship):
    deal = make_deal(rep, amount="10")
    login(client, rep)
    url = f"/api/opportunities/{deal.pk}/"
    won = stage(pipeline, "Won").pk
    refused = client.patch(url, {"stage": won}, content_type="application/json")
    assert refused.status_code == 400
    assert "won_reason" in refused.json()
    bad = client.patch(url, {"stage": won, "won_reason": 999999}, content_type="application/json")
    assert bad.status_code == 400
    response = client.patch(
        url, {"stage": won, "won_reason": relationship.pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["won_reason"] == relationship.pk
    created = client.post(
        "/api/opportunities/",
        {
            "name": "Won at once",
            "expected_close_date": "2030-01-01",
            "stage": won,
            "won_reason": relationship.pk,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert Opportunity.objects.get(name="Won at once").won_reason == relationship


def test_analytics_counts_won_and_lost_by_reason(client, rep, pipeline, relationship):
    lost_reason = LossReason.objects.create(name="Budget cut")
    for amount in ("100", "200"):
        services.opportunity_move_stage(
            opportunity=make_deal(rep, amount=amount),
            stage=stage(pipeline, "Won"),
            actor=rep,
            won_reason=relationship,
        )
    services.opportunity_move_stage(
        opportunity=make_deal(rep, amount="50"),
        stage=stage(pipeline, "Lost"),
        actor=rep,
        loss_reason=lost_reason,
    )
    today = timezone.localdate()
    login(client, rep)
    response = client.get(
        reverse("sales:analytics"),
        {"pipeline": pipeline.pk, "period": f"{today:%Y-%m}", "who": "me"},
    )
    assert response.status_code == 200
    metrics = response.context["metrics"]
    assert [(r.name, r.count, r.amount) for r in metrics.won_reasons] == [
        ("Relationship", 2, Decimal("300.00"))
    ]
    assert [(r.name, r.count) for r in metrics.loss_reasons] == [("Budget cut", 1)]
    html = response.content.decode()
    assert "Why deals were won" in html
    assert "Relationship" in html


def test_export_has_the_won_reason(client, rep, pipeline, relationship):
    services.opportunity_move_stage(
        opportunity=make_deal(rep, name="Exported win"),
        stage=stage(pipeline, "Won"),
        actor=rep,
        won_reason=relationship,
    )
    login(client, rep)
    response = client.get(reverse("sales:opportunity-export"), {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert "Won reason" in header
    assert "Exported win" in row
    assert "Relationship" in row
