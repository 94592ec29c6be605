"""Rule-based lead scoring: the admin's `ScoringRule`s, a lead's score and its reasons.

A lead's `score` is the sum of the points of the active rules it matches, and its
`score_breakdown` says why in words (`{"points": 15, "reason": "job title contains Director"}`).
`score_apply` computes it in memory (the services call it before saving a lead, in their
transaction); `lead_rescore` recomputes one stored lead; `scores_recompute_all` recomputes every
lead in chunks (the Celery job `leads.tasks.lead_scores_recompute`, started by
`scoring_rules_changed` whenever an admin changes a rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from crm import jobs
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule

if TYPE_CHECKING:
    from accounts.models import User
    from crm.models import Job

CHUNK = 2000
RECOMPUTE_TASK = "leads.tasks.lead_scores_recompute"


def active_rules() -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(active=True).order_by("id"))


def _text(lead: Lead, field: str) -> tuple[str, str]:
    """The field's stored value and, for a choice, its label (either may be matched)."""
    value = str(getattr(lead, field, "") or "")
    display = getattr(lead, f"get_{field}_display", None)
    label = str(display()) if display is not None and value else value
    return value, label


def rule_matches(rule: ScoringRule, lead: Lead, interactions: int) -> bool:
    wanted = rule.value.strip().casefold()
    if rule.field == ScoringField.INTERACTIONS:
        try:
            threshold = int(wanted or "1")
        except ValueError:
            return False
        return interactions >= threshold
    value, label = _text(lead, rule.field)
    candidates = {value.casefold(), label.casefold()}
    if rule.operator == ScoringOperator.NOT_EMPTY:
        return bool(value)
    if not value:
        return False
    if rule.operator == ScoringOperator.EQUALS:
        return wanted in candidates
    if rule.operator == ScoringOperator.CONTAINS:
        return bool(wanted) and any(wanted in c for c in candidates)
    if rule.operator == ScoringOperator.IN:
        options = {part.strip().casefold() for part in rule.value.split(",") if part.strip()}
        return bool(options & candidates)
    if rule.operator == ScoringOperator.AT_LEAST:
        try:
            return float(value) >= float(wanted)
        except ValueError:
            return False
    return False


def reason(rule: ScoringRule) -> str:
    """The rule in words: "job title contains Director", "phone is given"."""
    if rule.field == ScoringField.INTERACTIONS:
        return _("%(count)s or more logged interactions") % {"count": rule.value or "1"}
    words = [str(rule.get_field_display()), str(rule.get_operator_display())]
    if rule.operator != ScoringOperator.NOT_EMPTY:
        words.append(rule.value.strip())
    return " ".join(words)


def evaluate(
    lead: Lead, rules: Sequence[ScoringRule], interactions: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    matched = [rule for rule in rules if rule_matches(rule, lead, interactions)]
    breakdown: list[dict[str, Any]] = [
        {"points": rule.points, "reason": reason(rule)} for rule in matched
    ]
    return sum(rule.points for rule in matched), breakdown


def _uses_interactions(rules: Sequence[ScoringRule]) -> bool:
    return any(rule.field == ScoringField.INTERACTIONS for rule in rules)


def interaction_counts(lead_ids: Sequence[int]) -> dict[int, int]:
    """Interactions logged on each lead (activities' generic target): one grouped query."""
    from contacts.activities.models import Interaction

    lead_type = ContentType.objects.get_for_model(Lead)
    rows = (
        Interaction.objects.filter(target_type=lead_type, target_id__in=list(lead_ids))
        .values("target_id")
        .annotate(n=Count("id"))
    )
    return {row["target_id"]: row["n"] for row in rows}


def score_apply(
    lead: Lead, *, rules: Sequence[ScoringRule] | None = None, interactions: int | None = None
) -> bool:
    """Set the lead's score and breakdown in memory from the rules; True if they changed."""
    rules = active_rules() if rules is None else rules
    if interactions is None:
        interactions = (
            interaction_counts([lead.pk]).get(lead.pk, 0)
            if lead.pk and _uses_interactions(rules)
            else 0
        )
    score, breakdown = evaluate(lead, rules, interactions)
    changed = (score, breakdown) != (lead.score, lead.score_breakdown)
    lead.score, lead.score_breakdown = score, breakdown
    return changed


def lead_rescore(*, lead_id: int) -> Lead | None:
    """Recompute one lead's score (e.g. after an interaction is logged on it). Atomic, the row
    locked; writes only when the score or its reasons changed. Idempotent."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            return None
        if score_apply(lead):
            lead.save(update_fields=["score", "score_breakdown", "updated_at"])
    return lead


def scores_recompute_all(*, chunk: int = CHUNK) -> int:
    """Recompute every lead's score, `chunk` leads per transaction (keyset by id, so a run
    holds no long lock and a rerun is harmless). Only rows whose score or reasons change are
    written, with one UPDATE per chunk. Returns how many leads changed."""
    import json

    rules = active_rules()
    with_interactions = _uses_interactions(rules)
    total = Lead.objects.count()
    last, done, changed = 0, 0, 0
    fields = ["id", "job_title", "company_name", "email", "website", "industry", "size"]
    fields += ["region", "source", "utm_source", "utm_campaign", "phone", "score"]
    fields += ["score_breakdown"]
    while True:
        batch = list(Lead.objects.filter(pk__gt=last).order_by("pk").only(*fields)[:chunk])
        if not batch:
            break
        counts = interaction_counts([lead.pk for lead in batch]) if with_interactions else {}
        ids, scores, reasons = [], [], []
        for lead in batch:
            if score_apply(lead, rules=rules, interactions=counts.get(lead.pk, 0)):
                ids.append(lead.pk)
                scores.append(lead.score)
                reasons.append(json.dumps(lead.score_breakdown))
        if ids:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE leads_lead SET score = t.score, score_breakdown = t.reasons::jsonb "
                    "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS t(id, score, reasons) "
                    "WHERE leads_lead.id = t.id",
                    [ids, scores, reasons],
                )
        changed += len(ids)
        done += len(batch)
        last = batch[-1].pk
        jobs.progress(done=done, total=total)
    return changed


def scoring_rules_changed(*, actor: User | None) -> Job:
    """Start the job that recomputes every lead's score (after the caller's transaction
    commits, through the outbox)."""
    return jobs.job_start(
        kind="leads.rescore",
        task=RECOMPUTE_TASK,
        kwargs={},
        actor=actor,
        total=Lead.objects.count(),
    )
