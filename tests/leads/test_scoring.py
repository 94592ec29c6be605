"""Scoring rules: the score and its reasons in words, kept on the lead at every write; a rule
change recomputes every lead in a background job (real worker); the lead page shows the
breakdown; the rep's list sorted by score reads indexes, not the whole table."""

from __future__ import annotations

import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Team
from bench.run import list_plans
from contacts.activities.models import Channel, Interaction
from crm.models import Job, JobStatus
from leads import scoring, services
from leads.demo import seed_leads
from leads.lists import LEADS
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule
from tests.accounts.factories import UserFactory
from tests.conftest import login_verified
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def _rule(field: str, operator: str, value: str, points: int) -> ScoringRule:
    return ScoringRule.objects.create(field=field, operator=operator, value=value, points=points)


@pytest.fixture
def rules() -> list[ScoringRule]:
    return [
        _rule(ScoringField.JOB_TITLE, ScoringOperator.CONTAINS, "Director", 15),
        _rule(ScoringField.INDUSTRY, ScoringOperator.EQUALS, "Software and IT", 10),
        _rule(ScoringField.REGION, ScoringOperator.IN, "europe, north_america", 5),
        _rule(ScoringField.PHONE, ScoringOperator.NOT_EMPTY, "", 3),
        _rule(ScoringField.EMAIL, ScoringOperator.CONTAINS, "@gmail.", -10),
    ]


def test_score_and_reasons_in_words_at_create(rep, rules) -> None:
    lead = make_lead(
        rep,
        job_title="IT Director",
        industry="software",
        region="europe",
        phone="+44 20 7946 0000",
        email="d@gmail.com",
    )
    assert lead.score == 15 + 10 + 5 + 3 - 10
    reasons = {item["reason"]: item["points"] for item in lead.score_breakdown}
    assert reasons == {
        "job title contains Director": 15,
        "industry is Software and IT": 10,
        "region is one of europe, north_america": 5,
        "phone is given": 3,
        "email contains @gmail.": -10,
    }
    assert Lead.objects.get().score == 23


def test_no_rule_matches_gives_zero_and_no_reasons(rep, rules) -> None:
    lead = make_lead(rep, job_title="Intern", region="asia_pacific")
    assert (lead.score, lead.score_breakdown) == (0, [])


def test_an_edit_recomputes_the_score(rep, rules) -> None:
    lead = make_lead(rep, job_title="Engineer")
    assert lead.score == 0
    lead = services.lead_update(lead=lead, values={"job_title": "Sales Director"}, actor=rep)
    assert Lead.objects.get().score == 15
    assert lead.score_breakdown == [{"points": 15, "reason": "job title contains Director"}]


def test_inactive_rules_and_bad_values_count_nothing(rep) -> None:
    _rule(ScoringField.JOB_TITLE, ScoringOperator.CONTAINS, "Director", 15)
    ScoringRule.objects.update(active=False)
    _rule(ScoringField.INTERACTIONS, ScoringOperator.AT_LEAST, "many", 20)
    _rule(ScoringField.SIZE, ScoringOperator.AT_LEAST, "1-10", 20)  # not a number
    lead = make_lead(rep, job_title="Director", size="1-10")
    assert lead.score == 0


def test_engagement_points_for_logged_interactions(rep) -> None:
    _rule(ScoringField.INTERACTIONS, ScoringOperator.AT_LEAST, "2", 25)
    lead = make_lead(rep)
    lead_type = ContentType.objects.get_for_model(Lead)
    for _ in range(2):
        Interaction.objects.create(
            channel=Channel.CALL,
            occurred_at=timezone.now(),
            logged_by=rep,
            owner=rep,
            team=rep.team,
            target_type=lead_type,
            target_id=lead.pk,
        )
    scoring.lead_rescore(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.score == 25
    assert lead.score_breakdown == [{"points": 25, "reason": "2 or more logged interactions"}]


def test_recompute_all_writes_only_changed_rows_in_chunks(rep) -> None:
    leads = [
        make_lead(rep, job_title=t, email=f"{i}@x.example")
        for i, t in enumerate(["CTO", "Director", "Buyer", "Director of IT", "CEO"])
    ]
    _rule(ScoringField.JOB_TITLE, ScoringOperator.CONTAINS, "director", 15)
    assert scoring.scores_recompute_all(chunk=2) == 2
    scores = dict(Lead.objects.values_list("pk", "score"))
    assert [scores[lead.pk] for lead in leads] == [0, 15, 0, 15, 0]
    assert scoring.scores_recompute_all(chunk=2) == 0  # a rerun changes nothing


def test_lead_page_shows_the_breakdown(client: Client, rep, rules) -> None:
    lead = make_lead(rep, job_title="Director", phone="555 123 4567")
    client.force_login(rep)
    html = client.get(reverse("leads:lead-detail", args=[lead.pk])).content.decode()
    assert "Score: 18" in html
    assert "+15 job title contains Director" in html
    assert "+3 phone is given" in html


def test_list_sorts_by_score(client: Client, rep, rules) -> None:
    for title in ("Engineer", "Director", "Buyer"):
        make_lead(rep, job_title=title, given_name=title, email=f"{title}@x.example")
    client.force_login(rep)
    html = client.get(reverse("leads:lead-list"), {"sort": "-score"}).content.decode()
    assert html.index("Director") < html.index("Engineer")
    assert client.get(reverse("leads:lead-list"), {"sort": "bogus\x00"}).status_code == 400


@pytest.mark.worker
def test_changing_a_rule_in_the_admin_rescores_every_lead_in_a_job(
    client: Client, admin_user, rep, live_worker
) -> None:
    for i in range(5):
        make_lead(rep, job_title="Director" if i % 2 else "Buyer", email=f"{i}@x.example")
    login_verified(client, admin_user)
    response = client.post(
        reverse("admin:leads_scoringrule_add"),
        {"field": "job_title", "operator": "contains", "value": "Director", "points": "30",
         "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="leads.rescore")
    deadline = time.monotonic() + 60
    while Job.objects.get(pk=job.pk).status != JobStatus.DONE:
        assert Job.objects.get(pk=job.pk).status != JobStatus.FAILED, job.message
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)
    assert sorted(Lead.objects.values_list("score", flat=True)) == [0, 0, 0, 30, 30]


def test_points_outside_the_range_are_refused_by_the_database(rep) -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        _rule(ScoringField.PHONE, ScoringOperator.NOT_EMPTY, "", 5000)


def test_reps_list_by_score_and_first_page_do_not_scan_the_table(rep, rep_other_team) -> None:
    """As in a real sales team: the rep's team holds a tenth of the leads or less."""
    for i in range(10):
        team = Team.objects.create(name=f"Region {i}")
        UserFactory(team=team, role=Role.SALES_REP)
    seed_leads(20_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    queries = {
        "first page": "",
        "by score": "sort=-score",
        "qualified by score": "status=qualified&sort=-score",
        "score 80+": "score_min=80&sort=-score",
    }
    plans = list_plans(LEADS, rep, queries)
    for name, plan in plans.items():
        assert "Seq Scan on leads_lead" not in plan, f"{name}:\n{plan}"
    # Past the count's cap the page is read along the sort's index.
    page = LEADS.selector(user=rep).filter(archived_at__isnull=True).order_by("-score", "-id")[:51]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on leads_lead" not in plan, plan
