"""Rescoring when an interaction or a task is logged on a lead: activities' hook registry
(contacts.activities.hooks, run after commit) and leads' rescore registered through it."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from contacts.activities import hooks
from contacts.activities import services as activity_services
from contacts.activities.models import Channel
from crm.models import OutboxMessage
from leads import registrations
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db
RESCORE = registrations.RESCORE_TASK


def _call(lead: Lead) -> activity_services.InteractionInput:
    return activity_services.InteractionInput(
        channel=Channel.CALL, occurred_at=timezone.now(), target=lead, subject="Intro call"
    )


def test_leads_registers_its_rescore_hook() -> None:
    assert hooks.on_activity_logged.get("leads-rescore") is not None


def test_an_interaction_on_a_lead_queues_its_rescore_after_commit(
    rep, django_capture_on_commit_callbacks
) -> None:
    lead = make_lead(rep)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity_services.interaction_log(data=_call(lead), actor=rep)
        assert not OutboxMessage.objects.filter(task_name=RESCORE).exists()  # not before
    for callback in callbacks:
        callback()
    assert OutboxMessage.objects.get(task_name=RESCORE).kwargs == {"lead_id": lead.pk}


def test_a_task_on_a_lead_queues_its_rescore(rep, django_capture_on_commit_callbacks) -> None:
    lead = make_lead(rep)
    with django_capture_on_commit_callbacks(execute=True):
        activity_services.task_create(
            data=activity_services.TaskInput(title="Call back", target=lead), actor=rep
        )
    assert OutboxMessage.objects.get(task_name=RESCORE).kwargs == {"lead_id": lead.pk}


def test_activities_on_a_contact_do_not_rescore_leads(
    rep, own_contact, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        data = activity_services.InteractionInput(
            channel=Channel.CALL, occurred_at=timezone.now(), contact=own_contact
        )
        activity_services.interaction_log(data=data, actor=rep)
    assert not OutboxMessage.objects.filter(task_name=RESCORE).exists()


def test_a_rolled_back_interaction_runs_no_hook(rep, django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    lead = make_lead(rep)
    seen: list[hooks.ActivityEvent] = []
    with (
        hooks.on_activity_logged.temporarily(hooks.ActivityHook("probe", seen.append)),
        django_capture_on_commit_callbacks(execute=True),
    ):

        def log_then_fail() -> None:
            with transaction.atomic():
                activity_services.interaction_log(data=_call(lead), actor=rep)
                raise RuntimeError

        with pytest.raises(RuntimeError):
            log_then_fail()
        activity_services.interaction_log(data=_call(lead), actor=rep)
    assert [(e.kind, e.target_model, e.target_id) for e in seen] == [
        ("interaction", "leads.lead", lead.pk)
    ]


def test_a_failing_hook_does_not_stop_the_others(rep, django_capture_on_commit_callbacks) -> None:
    lead = make_lead(rep)

    def broken(event: hooks.ActivityEvent) -> None:
        raise ValueError(event)

    with (
        hooks.on_activity_logged.temporarily(hooks.ActivityHook("broken", broken, order=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        activity_services.interaction_log(data=_call(lead), actor=rep)
    assert OutboxMessage.objects.filter(task_name=RESCORE).count() == 1


@pytest.mark.worker
def test_logging_calls_on_a_lead_adds_engagement_points_in_the_worker(rep, live_worker) -> None:
    ScoringRule.objects.create(
        field=ScoringField.INTERACTIONS, operator=ScoringOperator.AT_LEAST, value="2", points=25
    )
    lead = make_lead(rep)
    for _ in range(2):
        activity_services.interaction_log(data=_call(lead), actor=rep)
    deadline = time.monotonic() + 30
    while Lead.objects.get(pk=lead.pk).score != 25:
        assert time.monotonic() < deadline, "the lead was not rescored"
        time.sleep(0.2)
    lead.refresh_from_db()
    assert lead.score_breakdown == [{"points": 25, "reason": "2 or more logged interactions"}]
