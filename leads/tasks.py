"""Leads' Celery tasks: thin, by id, idempotent (they go through crm.outbox and may arrive
twice)."""

from __future__ import annotations

from celery import shared_task

from crm import jobs
from leads import assignment, nurture, scoring


@shared_task(name="leads.tasks.lead_assign", **jobs.RETRY)
def lead_assign(*, lead_id: int) -> int | None:
    """Run the assignment rules for a captured lead, once (`assignment.lead_assign_by_rules`)."""
    owner = assignment.lead_assign_by_rules(lead_id=lead_id)
    return owner.pk if owner is not None else None


@shared_task(name="leads.tasks.lead_rescore", **jobs.RETRY)
def lead_rescore(*, lead_id: int) -> None:
    """Recompute one lead's score."""
    scoring.lead_rescore(lead_id=lead_id)


@shared_task(name=scoring.RECOMPUTE_TASK, base=jobs.JobTask, **jobs.RETRY)
def lead_scores_recompute(*, job_id: int, notify: bool = True) -> int:
    """Recompute every lead's score after the scoring rules or the score settings changed (a
    job with progress)."""
    return scoring.scores_recompute_all(notify=notify)


@shared_task(name="leads.tasks.lead_scores_decay", **jobs.RETRY)
def lead_scores_decay() -> int:
    """Nightly (crm/celery.py beat): let engagement points fade, mark hot leads and tell their
    owners. Idempotent; a late or double run is harmless."""
    return scoring.scores_decay()


@shared_task(name="leads.tasks.nurture_run", **jobs.RETRY)
def nurture_run() -> int:
    """Every few minutes (beat `leads-nurture`, declared in `LeadsConfig.ready`): enrol leads by
    the score rule and send the due nurture steps (`leads.nurture.nurture_run`). Idempotent;
    late or overlapping runs send each step once."""
    return nurture.nurture_run()
