"""More of the admin's choices: the "merge into the existing lead" duplicate policy, sharing
leads out to the member with the fewest open leads (also under concurrency), and the hot-lead
follow-up that moves a new lead's status."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from auditlog.models import LogEntry
from django.db import connection

from contacts.models import Tag
from leads import assignment, services
from leads.models import (
    AssignmentRule,
    AssignmentStrategy,
    DuplicateAction,
    DuplicatePolicy,
    Lead,
    LeadSource,
    LeadStatus,
    ScoreSettings,
    ScoringField,
    ScoringOperator,
    ScoringRule,
)
from tests.accounts.factories import UserFactory
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def _captured(owner, *, assign: bool = False, tags=None, **values) -> Lead:
    values.setdefault("given_name", "Grace")
    return services.lead_create(
        data=services.LeadInput(values=values, owner=owner, assign=assign, tags=tags),
        actor=None,
    )


# --- merge policy --------------------------------------------------------------------------


def test_merge_policy_folds_a_capture_into_the_open_lead(rep) -> None:
    DuplicatePolicy.objects.create(source=LeadSource.WEB_FORM, action=DuplicateAction.MERGE)
    first = make_lead(rep, email="ada@example.com", job_title="Analyst", notes="Met at the expo.")
    vip = Tag.objects.create(name="VIP")
    again = _captured(
        rep,
        source=LeadSource.WEB_FORM,
        email="ADA@example.com",
        given_name="Someone Else",
        job_title="CTO",
        phone="+44 20 7946 0958",
        company_name="Analytical Engines",
        notes="Please send the price list.",
        tags=[vip],
    )
    assert again.pk == first.pk
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    # Filled, never overwritten; the message added.
    assert (lead.given_name, lead.job_title) == ("Grace", "Analyst")
    assert (lead.phone_digits, lead.company_name) == ("442079460958", "Analytical Engines")
    assert lead.notes == "Met at the expo.\n\nPlease send the price list."
    assert lead.tag_ids == [vip.pk]
    assert not lead.needs_review
    changes = [e.changes_dict for e in LogEntry.objects.get_for_object(lead)]
    assert any("company_name" in c for c in changes)
    # The same capture again adds nothing twice.
    _captured(rep, source=LeadSource.WEB_FORM, email="ada@example.com",
              notes="Please send the price list.")  # fmt: skip
    assert Lead.objects.get().notes == "Met at the expo.\n\nPlease send the price list."


def test_merge_policy_never_merges_into_a_converted_lead(rep, manager) -> None:
    DuplicatePolicy.objects.create(source=LeadSource.EVENT, action=DuplicateAction.MERGE)
    first = make_lead(manager, email="bo@example.com")
    services.lead_convert(lead=first, data=services.ConvertInput(), actor=manager)
    second = _captured(rep, source=LeadSource.EVENT, email="bo@example.com")
    assert second.pk != first.pk
    assert (second.duplicate_of_id, second.needs_review) == (first.pk, True)


def test_merge_policy_only_applies_to_its_source(rep) -> None:
    DuplicatePolicy.objects.create(source=LeadSource.WEB_FORM, action=DuplicateAction.MERGE)
    first = make_lead(rep, email="cy@example.com")
    other = _captured(rep, source=LeadSource.EVENT, email="cy@example.com")
    assert other.pk != first.pk
    assert other.needs_review


# --- fewest open leads ---------------------------------------------------------------------


def test_fewest_open_leads_picks_the_least_loaded_member(rep, manager, team_east) -> None:
    a, b, c = (UserFactory(team=team_east) for _ in range(3))
    for i in range(2):
        _captured(a, email=f"a{i}@x.example")
    _captured(c, email="c0@x.example")
    for i in range(4):  # closed leads do not count
        lead = _captured(b, email=f"b{i}@x.example")
        services.lead_set_status(
            lead=lead, status=LeadStatus.UNQUALIFIED, actor=manager, reason="x"
        )
    rule = AssignmentRule.objects.create(name="Load", strategy=AssignmentStrategy.FEWEST_OPEN)
    rule.members.set([a, b, c])
    picked = []
    for i in range(3):
        lead = _captured(rep, assign=True, email=f"n{i}@x.example")
        owner = assignment.lead_assign_by_rules(lead_id=lead.pk)
        assert owner is not None
        picked.append(owner)
    # b: 0 open -> b (1); b and c tie at 1 -> b, the earlier (2); then c has 1 -> c.
    assert picked == [b, b, c]


@pytest.mark.django_db(transaction=True)
def test_fewest_open_leads_is_even_under_concurrency(rep, team_east) -> None:
    members = [UserFactory(team=team_east) for _ in range(3)]
    rule = AssignmentRule.objects.create(name="Load", strategy=AssignmentStrategy.FEWEST_OPEN)
    rule.members.set(members)
    ids = iter([_captured(rep, assign=True, email=f"l{i}@x.example").pk for i in range(24)])
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with lock:
                    lead_id = next(ids, None)
                if lead_id is None:
                    return
                assert assignment.lead_assign_by_rules(lead_id=lead_id) is not None
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    owners = Counter(Lead.objects.values_list("owner", flat=True))
    assert owners == {m.pk: 8 for m in members}


# --- the hot follow-up's status ------------------------------------------------------------


def test_a_new_lead_that_becomes_hot_moves_to_the_chosen_status(rep, manager) -> None:
    ScoreSettings.objects.create(pk=1, hot_at=10, warm_at=5, status_when_hot="contacted")
    ScoringRule.objects.create(
        field=ScoringField.JOB_TITLE, operator=ScoringOperator.CONTAINS, value="CEO", points=20
    )
    hot = make_lead(manager, owner=rep, job_title="CEO")
    assert Lead.objects.get(pk=hot.pk).status == LeadStatus.CONTACTED
    cold = make_lead(manager, owner=rep, job_title="Intern", email="i@x.example")
    services.lead_set_status(lead=cold, status=LeadStatus.QUALIFIED, actor=manager)
    services.lead_update(lead=cold, values={"job_title": "CEO"}, actor=manager)
    # Only a new lead moves: a qualified one stays qualified.
    assert Lead.objects.get(pk=cold.pk).status == LeadStatus.QUALIFIED
