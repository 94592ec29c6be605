"""Score decay and temperatures: engagement points halve with the age of the activity that
earned them, the nightly job (also through a real worker) recomputes in chunks, thresholds make
a lead hot, warm or cold, and becoming hot tells the owner once (and may give them a call task);
the lead page shows the decayed points and why, the list shows the badges and filters."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.activities.models import Channel, Direction, Interaction, Notification, Task
from leads import scoring
from leads.models import Lead, ScoreSettings, ScoringField, ScoringOperator, ScoringRule
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _rule(field: str, value: str, points: int, half_life: int | None = None) -> ScoringRule:
    operator = ScoringOperator.AT_LEAST if field in scoring.ENGAGEMENT else ScoringOperator.CONTAINS
    return ScoringRule.objects.create(
        field=field, operator=operator, value=value, points=points, half_life_days=half_life
    )


def _touch(lead: Lead, owner: User, *, days_ago: float, channel: str = Channel.CALL,
           direction: str = Direction.OUTBOUND) -> None:  # fmt: skip
    Interaction.objects.create(
        channel=channel,
        direction=direction,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        logged_by=owner,
        owner=owner,
        team=owner.team,
        target_type=ContentType.objects.get_for_model(Lead),
        target_id=lead.pk,
    )


def _settings(**values: object) -> ScoreSettings:
    settings = ScoreSettings.current()
    for key, value in values.items():
        setattr(settings, key, value)
    settings.save()
    return settings


def _hot_notes(user: User) -> list[Notification]:
    return [n for n in Notification.objects.filter(recipient=user) if "is hot" in n.text]


def test_decay_halves_the_points_every_half_life() -> None:
    earned = NOW - dt.timedelta(days=30)
    assert scoring.decayed(20, earned=earned, half_life_days=30, now=NOW) == 10
    assert scoring.decayed(20, earned=NOW - dt.timedelta(days=60), half_life_days=30, now=NOW) == 5
    assert scoring.decayed(20, earned=NOW, half_life_days=30, now=NOW) == 20
    # A date in the future (clock skew) is not a bonus.
    assert scoring.decayed(20, earned=NOW + dt.timedelta(days=9), half_life_days=30, now=NOW) == 20
    assert scoring.decayed(-20, earned=earned, half_life_days=30, now=NOW) == -10


def test_engagement_points_fade_from_the_nth_newest_interaction(rep) -> None:
    _rule(ScoringField.INTERACTIONS, "2", 20, half_life=30)
    lead = make_lead(rep)
    _touch(lead, rep, days_ago=30)
    _touch(lead, rep, days_ago=31)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 10
    [item] = lead.score_breakdown
    assert item["points"] == 10
    assert item["full"] == 20
    assert item["half_life"] == 30
    assert item["reason"] == "2 or more logged interactions"
    assert item["earned"] == (timezone.now() - dt.timedelta(days=31)).date().isoformat()
    # A new call: the two newest are now today and 30 days ago.
    _touch(lead, rep, days_ago=0)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 10
    _touch(lead, rep, days_ago=0)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 20


def test_points_that_faded_to_nothing_leave_the_breakdown(rep) -> None:
    _rule(ScoringField.INTERACTIONS, "1", 10, half_life=1)
    lead = make_lead(rep)
    _touch(lead, rep, days_ago=40)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert (lead.score, lead.score_breakdown) == (0, [])


def test_settings_default_half_life_applies_to_engagement_not_fit(rep) -> None:
    _settings(half_life_days=10)
    _rule(ScoringField.JOB_TITLE, "Director", 15)
    _rule(ScoringField.INTERACTIONS, "1", 8)
    _rule(ScoringField.MEETINGS, "1", 12, half_life=20)  # its own half-life wins
    lead = make_lead(rep, job_title="Director")
    _touch(lead, rep, days_ago=20, channel=Channel.MEETING)
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    points = {item["reason"]: item["points"] for item in lead.score_breakdown}
    assert points == {
        "job title contains Director": 15,
        "1 or more logged interactions": 2,
        "1 or more meetings": 6,
    }
    assert "full" not in lead.score_breakdown[0]


def test_replies_count_inbound_messages_only(rep) -> None:
    _rule(ScoringField.REPLIES, "2", 9)
    lead = make_lead(rep)
    _touch(lead, rep, days_ago=1, channel=Channel.EMAIL, direction=Direction.INBOUND)
    _touch(lead, rep, days_ago=1, channel=Channel.EMAIL)  # ours, not a reply
    _touch(lead, rep, days_ago=1, channel=Channel.CALL, direction=Direction.INBOUND)
    assert scoring.lead_rescore(lead_id=lead.pk).score == 0  # type: ignore[union-attr]
    _touch(lead, rep, days_ago=2, channel=Channel.CHAT, direction=Direction.INBOUND)
    assert scoring.lead_rescore(lead_id=lead.pk).score == 9  # type: ignore[union-attr]


def test_a_submitted_form_fades_from_the_capture(rep) -> None:
    _rule(ScoringField.FORM_SUBMITTED, "", 16, half_life=7)
    lead = make_lead(rep, source="web_form")
    assert lead.score == 16
    assert make_lead(rep, source="manual", email="other@x.example").score == 0
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - dt.timedelta(days=14))
    assert scoring.lead_rescore(lead_id=lead.pk).score == 4  # type: ignore[union-attr]


def test_thresholds_give_the_temperature(rep) -> None:
    _settings(hot_at=30, warm_at=10)
    _rule(ScoringField.JOB_TITLE, "Director", 30)
    _rule(ScoringField.JOB_TITLE, "Manager", 12)
    assert make_lead(rep, job_title="Director", email="a@x.example").temperature == "hot"
    assert make_lead(rep, job_title="Manager", email="b@x.example").temperature == "warm"
    assert make_lead(rep, job_title="Intern", email="c@x.example").temperature == "cold"


def test_thresholds_must_be_in_order() -> None:
    with pytest.raises(IntegrityError):
        ScoreSettings.objects.create(pk=1, hot_at=10, warm_at=20)


def test_becoming_hot_notifies_the_owner_once(rep, manager) -> None:
    _settings(hot_at=20, warm_at=5)
    _rule(ScoringField.INTERACTIONS, "2", 25)
    lead = make_lead(manager, owner=rep)
    assert lead.temperature == "cold"
    assert _hot_notes(rep) == []
    _touch(lead, rep, days_ago=0)
    _touch(lead, rep, days_ago=0)
    scoring.lead_rescore(lead_id=lead.pk)
    scoring.lead_rescore(lead_id=lead.pk)  # a second delivery: no second notification
    assert scoring.scores_recompute_all() == 0
    [note] = _hot_notes(rep)
    assert "Grace Hopper" in note.text
    assert "25" in note.text
    assert Lead.objects.get(pk=lead.pk).temperature == "hot"


def test_a_hot_capture_notifies_and_can_create_a_call_task(rep, manager) -> None:
    _settings(hot_at=10, warm_at=5, task_when_hot=True)
    _rule(ScoringField.JOB_TITLE, "Director", 15)
    lead = make_lead(manager, owner=rep, job_title="Director")
    assert lead.temperature == "hot"
    assert len(_hot_notes(rep)) == 1
    task = Task.objects.get(owner=rep)
    assert task.target_id == lead.pk
    assert "Call hot lead" in task.title


def test_nightly_decay_heats_and_cools_leads_and_reruns_change_nothing(rep) -> None:
    _settings(hot_at=20, warm_at=10)
    _rule(ScoringField.INTERACTIONS, "1", 24, half_life=15)
    leads = [make_lead(rep, email=f"{i}@x.example") for i in range(5)]
    for lead in leads:
        _touch(lead, rep, days_ago=0)
    assert scoring.scores_decay() == 5
    assert set(Lead.objects.values_list("temperature", flat=True)) == {"hot"}
    assert len(_hot_notes(rep)) == 5  # the pass caught up with the calls: each became hot
    Interaction.objects.update(occurred_at=timezone.now() - dt.timedelta(days=15))
    assert scoring.scores_recompute_all(chunk=2) == 5
    assert set(Lead.objects.values_list("score", "temperature")) == {(12, "warm")}
    assert len(_hot_notes(rep)) == 5  # cooling tells nobody
    assert scoring.scores_decay() == 0  # the same day again: nothing changes


def test_no_decaying_rule_means_the_nightly_pass_does_nothing(rep) -> None:
    _rule(ScoringField.JOB_TITLE, "Director", 30)
    _rule(ScoringField.INTERACTIONS, "1", 5)
    make_lead(rep, job_title="Director")
    assert scoring.decays() is False
    assert scoring.scores_decay() == 0


def test_a_threshold_change_recomputes_without_notifications(rep) -> None:
    _rule(ScoringField.JOB_TITLE, "Director", 30)
    lead = make_lead(rep, job_title="Director")
    assert lead.temperature == "warm"  # defaults: hot from 50, warm from 20
    _settings(hot_at=25, warm_at=10)
    assert scoring.scores_recompute_all(notify=False) == 1
    assert Lead.objects.get(pk=lead.pk).temperature == "hot"
    assert _hot_notes(rep) == []


def test_lead_page_shows_decayed_points_and_why(client: Client, rep) -> None:
    _settings(hot_at=15, warm_at=5)
    _rule(ScoringField.INTERACTIONS, "1", 40, half_life=30)
    lead = make_lead(rep)
    _touch(lead, rep, days_ago=30)
    scoring.lead_rescore(lead_id=lead.pk)
    client.force_login(rep)
    html = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Score: 20" in html
    assert "+20 1 or more logged interactions" in html
    assert "of 40, earned" in html
    assert "halved every 30 days" in html
    assert ">Hot</span>" in html


def test_lead_page_copes_with_a_stored_breakdown_it_cannot_read(client: Client, rep) -> None:
    lead = make_lead(rep)
    Lead.objects.filter(pk=lead.pk).update(
        score_breakdown=[{"points": 3, "reason": "old", "full": 6, "earned": "31/12/2025"}]
    )
    client.force_login(rep)
    response = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    assert response.status_code == 200
    assert "+3 old" in response.content.decode()


def test_list_shows_badges_and_the_hot_filter(
    client: Client, rep, django_assert_max_num_queries
) -> None:
    _settings(hot_at=30, warm_at=10)
    _rule(ScoringField.JOB_TITLE, "Director", 30)
    _rule(ScoringField.JOB_TITLE, "Manager", 12)
    make_lead(rep, given_name="Hotty", job_title="Director", email="h@x.example")
    make_lead(rep, given_name="Lukewarm", job_title="Manager", email="w@x.example")
    make_lead(rep, given_name="Frosty", job_title="Intern", email="c@x.example")
    client.force_login(rep)
    with django_assert_max_num_queries(15):
        html = client.get(reverse("leads:lead-list")).content.decode()
    assert "score_min=30&amp;sort=-score" in html
    assert html.count(">Hot</span>") == 1
    assert html.count(">Warm</span>") == 1
    hot = client.get(reverse("leads:lead-list"), {"score_min": "30"}).content.decode()
    assert "Hotty" in hot
    assert "Lukewarm" not in hot
    assert "Frosty" not in hot


@pytest.mark.worker
def test_the_nightly_task_runs_in_a_real_worker(rep, live_worker) -> None:
    from crm.celery import app

    _settings(hot_at=20, warm_at=10)
    _rule(ScoringField.INTERACTIONS, "1", 24, half_life=15)
    lead = make_lead(rep)
    _touch(lead, rep, days_ago=15)
    app.send_task("leads.tasks.lead_scores_decay")
    deadline = time.monotonic() + 60
    while Lead.objects.get(pk=lead.pk).score != 12:
        assert time.monotonic() < deadline, "the worker did not recompute"
        time.sleep(0.2)
    assert Lead.objects.get(pk=lead.pk).temperature == "warm"


def test_the_nightly_task_is_scheduled() -> None:
    from crm.celery import app

    entry = app.conf.beat_schedule["leads-score-decay"]
    assert entry["task"] == "leads.tasks.lead_scores_decay"
