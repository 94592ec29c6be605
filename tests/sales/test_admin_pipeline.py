"""An administrator defines a pipeline and its ordered stages in the admin (issue 28: "several
pipelines ... each with ordered stages that an admin defines, a default probability per
stage, won and lost stages ... optional required fields per stage"), and deals then follow
those rules: here a property-sales process of viewing, negotiation and contract."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.errors import DomainError
from sales import services
from sales.models import Pipeline
from tests.conftest import login_verified
from tests.sales.factories import make_deal

pytestmark = pytest.mark.django_db

STAGES = [
    # position, name, probability, kind, required fields
    ("0", "Viewing", "20", "open", ""),
    ("1", "Negotiation", "60", "open", "amount"),
    ("2", "Contract", "100", "won", ""),
    ("3", "Withdrawn", "0", "lost", ""),
]


def _post(stages: list[tuple[str, ...]]) -> dict[str, str]:
    data = {
        "name": "Property sales",
        "position": "3",
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    for i, (position, name, probability, kind, required) in enumerate(stages):
        data.update({
            f"stages-{i}-position": position,
            f"stages-{i}-name": name,
            f"stages-{i}-probability": probability,
            f"stages-{i}-kind": kind,
            f"stages-{i}-required_fields": required,
            f"stages-{i}-stall_days": "14",
        })  # fmt: skip
    return data


def test_admin_defines_a_property_sales_pipeline_that_deals_follow(client, admin_user, rep):
    login_verified(client, admin_user)
    url = reverse("admin:sales_pipeline_add")
    assert client.get(url).status_code == 200
    response = client.post(url, _post(STAGES))
    assert response.status_code == 302, response.content.decode()[:2000]
    pipeline = Pipeline.objects.get(name="Property sales")
    stages = list(pipeline.stages.order_by("position"))
    assert [(s.name, s.probability, s.kind) for s in stages] == [
        ("Viewing", 20, "open"),
        ("Negotiation", 60, "open"),
        ("Contract", 100, "won"),
        ("Withdrawn", 0, "lost"),
    ]
    assert stages[1].required_fields == ["amount"]

    deal = make_deal(rep, name="Flat 3B", pipeline=pipeline)
    assert (deal.stage, deal.probability) == (stages[0], 20)
    with pytest.raises(DomainError):
        services.opportunity_move_stage(opportunity=deal, stage=stages[1], actor=rep)
    deal.refresh_from_db()
    assert deal.stage == stages[0]


def test_admin_refuses_a_probability_over_100_and_a_doubled_position(client, admin_user):
    login_verified(client, admin_user)
    url = reverse("admin:sales_pipeline_add")
    bad = [("0", "Viewing", "120", "open", ""), ("0", "Offer", "50", "open", "")]
    response = client.post(url, _post(bad))
    assert response.status_code == 200  # the form again, with its errors
    assert not Pipeline.objects.filter(name="Property sales").exists()
    assert "errorlist" in response.content.decode()
