"""Demo and benchmark leads go in with COPY: every column as the services would write it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from leads.demo import seed_leads
from leads.models import Lead, ScoreSettings

pytestmark = pytest.mark.django_db


def test_seed_copies_leads_with_derived_columns_and_spread_dates(rep, manager) -> None:
    ScoreSettings.objects.create(pk=1, hot_at=70, warm_at=40)
    facts = seed_leads(1203)
    assert facts == {"leads": 1203, "owners": 2}
    assert Lead.objects.count() == 1203
    lead = Lead.objects.order_by("pk").first()
    assert lead is not None
    assert lead.display_name == f"{lead.given_name} {lead.family_name}"
    assert lead.phone_digits.startswith("861")
    assert lead.score_breakdown[0]["points"] == lead.score
    assert (lead.tag_ids, lead.capture_key, lead.external_id) == ([], "", "")
    for score, temperature in Lead.objects.values_list("score", "temperature"):
        assert temperature == ("hot" if score >= 70 else "warm" if score >= 40 else "cold")
    oldest = Lead.objects.order_by("created_at").first()
    assert oldest is not None
    assert (timezone.now() - oldest.created_at).days > 300
    assert {lead.team_id for lead in Lead.objects.all()} == {rep.team_id}
    seed_leads(10)  # a second run adds, numbering on
    assert Lead.objects.count() == 1213
