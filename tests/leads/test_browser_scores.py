"""The hot/warm badges on the lead list and the decayed score breakdown on the lead page, in
Chromium at 1280 and 375 px."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from contacts.activities.models import Channel, Interaction
from leads import scoring
from leads.models import Lead, ScoreSettings, ScoringField, ScoringOperator, ScoringRule
from tests.browser.conftest import shot, sign_in
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_badges_hot_filter_and_decayed_breakdown(page, live_server, rep) -> None:
    ScoreSettings.objects.create(pk=1, hot_at=30, warm_at=10)
    ScoringRule.objects.create(
        field=ScoringField.JOB_TITLE, operator=ScoringOperator.CONTAINS, value="Director",
        points=15,
    )  # fmt: skip
    ScoringRule.objects.create(
        field=ScoringField.INTERACTIONS, operator=ScoringOperator.AT_LEAST, value="1", points=40,
        half_life_days=30,
    )  # fmt: skip
    hot = make_lead(rep, given_name="Hedy", family_name="Lamarr", job_title="Director of IT",
                    email="hedy@x.example")  # fmt: skip
    Interaction.objects.create(
        channel=Channel.CALL, occurred_at=timezone.now() - dt.timedelta(days=30), logged_by=rep,
        owner=rep, team=rep.team, target_type=ContentType.objects.get_for_model(Lead),
        target_id=hot.pk,
    )  # fmt: skip
    scoring.lead_rescore(lead_id=hot.pk)
    make_lead(rep, given_name="Wendy", job_title="Director", email="w@x.example")
    make_lead(rep, given_name="Colin", job_title="Intern", email="c@x.example")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Hedy Lamarr").wait_for()
    shot(page, "leads-list-temperature")
    page.get_by_role("link", name="Hot leads").click()
    page.wait_for_url("**score_min=30**")
    assert page.get_by_role("link", name="Hedy Lamarr").is_visible()
    assert page.get_by_role("link", name="Wendy").count() == 0
    page.get_by_role("link", name="Hedy Lamarr").click()
    page.get_by_role("heading", name="Score: 35 Hot").wait_for()
    assert page.get_by_text("halved every 30 days").is_visible()
    shot(page, "leads-score-breakdown")
