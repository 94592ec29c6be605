"""Leads built through the services, so derived fields and matching are as in production."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from leads import services
from leads.models import Lead


def make_lead(actor: User, *, owner: User | None = None, key: str = "", **values: Any) -> Lead:
    values.setdefault("given_name", "Grace")
    values.setdefault("family_name", "Hopper")
    return services.lead_create(
        data=services.LeadInput(values=values, owner=owner, capture_key=key), actor=actor
    )
