"""Pipelines built directly (they are configuration), deals through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from sales import services
from sales.models import Opportunity, Pipeline, Stage

STAGES = [
    # name, probability, kind, required fields
    ("Qualify", 10, "open", []),
    ("Meet", 30, "open", []),
    ("Proposal", 50, "open", ["amount"]),
    ("Won", 100, "won", []),
    ("Lost", 0, "lost", []),
]


def make_pipeline(name: str = "Test pipeline", *, default: bool = True) -> Pipeline:
    pipeline = Pipeline.objects.create(name=name, is_default=default)
    for position, (stage, probability, kind, required) in enumerate(STAGES):
        Stage.objects.create(
            pipeline=pipeline,
            name=stage,
            position=position,
            probability=probability,
            kind=kind,
            required_fields=required,
        )
    return pipeline


def stage(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


def make_deal(owner: User, *, actor: User | None = None, **values: Any) -> Opportunity:
    values.setdefault("name", "Deal")
    values.setdefault("expected_close_date", timezone.localdate() + dt.timedelta(days=30))
    if "amount" in values:
        values["amount"] = Decimal(values["amount"])
    data = services.OpportunityInput(owner=owner, **values)
    return services.opportunity_create(data=data, actor=actor or owner)
