"""Leads built through the services, so derived fields and matching are as in production."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from leads import services
from leads.models import Lead, LeadForm, LeadFormField


def make_lead(actor: User, *, owner: User | None = None, key: str = "", **values: Any) -> Lead:
    values.setdefault("given_name", "Grace")
    values.setdefault("family_name", "Hopper")
    return services.lead_create(
        data=services.LeadInput(values=values, owner=owner, capture_key=key), actor=actor
    )


def make_web_form(
    owner: User,
    *,
    slug: str = "contact-us",
    fields: tuple[tuple[str, bool], ...] = (
        ("given_name", True),
        ("family_name", False),
        ("email", True),
        ("company_name", False),
        ("notes", False),
    ),
    **values: Any,
) -> LeadForm:
    values.setdefault("name", "Contact us")
    values.setdefault("consent_text", "I agree to be contacted about products.")
    values.setdefault("use_assignment_rules", False)
    form = LeadForm.objects.create(slug=slug, owner=owner, **values)
    for position, (name, required) in enumerate(fields):
        LeadFormField.objects.create(form=form, field=name, required=required, position=position)
    return form
