"""Rule-based lead scoring: the admin's `ScoringRule`s, a lead's score and its reasons.

A lead's `score` is the sum of the points of the active rules it matches, and its
`score_breakdown` says why in words (`{"points": 15, "reason": "job title contains Director"}`).
Engagement points (logged interactions, meetings, replies, a web form submitted, and from
activities' tracking: emails opened, email links clicked, website pages visited) decay: each
halves every `half_life_days` (the rule's, else the `ScoreSettings` default) from the time of the
activity that earned it, and its breakdown entry also keeps the full points, when they were
earned and the half-life. The score against the settings' thresholds is the lead's
`temperature` (hot, warm, cold); a lead that becomes hot tells its owner (and may get a call
task), once per crossing.

`score_apply` computes it in memory (the services call it before saving a lead, in their
transaction); `lead_rescore` recomputes one stored lead; `scores_recompute_all` recomputes every
lead in chunks (the Celery job `leads.tasks.lead_scores_recompute`, started by
`scoring_rules_changed` whenever an admin changes a rule or the settings, and the nightly
`leads.tasks.lead_scores_decay`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import jobs
from leads.models import (
    Lead,
    LeadSource,
    LeadStatus,
    ScoreSettings,
    ScoringField,
    ScoringOperator,
    ScoringRule,
    Temperature,
)

if TYPE_CHECKING:
    from accounts.models import User
    from crm.models import Job

log = logging.getLogger(__name__)

CHUNK = 2000
RECOMPUTE_TASK = "leads.tasks.lead_scores_recompute"
NOTIFICATIONS = "contacts.activities.notifications"
# Interactions read per lead (newest first): enough for any "at least N" rule an admin writes.
HISTORY_LIMIT = 100
ENGAGEMENT = frozenset(
    {
        ScoringField.INTERACTIONS,
        ScoringField.MEETINGS,
        ScoringField.REPLIES,
        ScoringField.FORM_SUBMITTED,
        ScoringField.EMAIL_OPENED,
        ScoringField.EMAIL_CLICKED,
        ScoringField.PAGE_VISITED,
    }
)
# Tracked events join the history as touches of these pseudo-channels (never interactions).
TRACKED: dict[str, str] = {
    ScoringField.EMAIL_OPENED: "email_opened",
    ScoringField.EMAIL_CLICKED: "email_clicked",
    ScoringField.PAGE_VISITED: "page_visited",
}
TRACKED_DIRECTION = "tracked"
REPLY_CHANNELS = frozenset({"email", "sms", "chat", "social"})


@dataclass(frozen=True, slots=True)
class Touch:
    """One interaction logged on a lead, as the engagement rules see it."""

    at: dt.datetime
    channel: str
    direction: str


def active_rules() -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(active=True).order_by("id"))


def _text(lead: Lead, field: str) -> tuple[str, str]:
    """The field's stored value and, for a choice, its label (either may be matched)."""
    value = str(getattr(lead, field, "") or "")
    display = getattr(lead, f"get_{field}_display", None)
    label = str(display()) if display is not None and value else value
    return value, label


def _threshold(rule: ScoringRule) -> int | None:
    try:
        return max(1, int(rule.value.strip() or "1"))
    except ValueError:
        return None


def _touches(rule: ScoringRule, history: Sequence[Touch]) -> list[Touch]:
    if rule.field in TRACKED:
        return [t for t in history if t.channel == TRACKED[rule.field]]
    history = [t for t in history if t.direction != TRACKED_DIRECTION]
    if rule.field == ScoringField.MEETINGS:
        return [t for t in history if t.channel == "meeting"]
    if rule.field == ScoringField.REPLIES:
        return [t for t in history if t.direction == "inbound" and t.channel in REPLY_CHANNELS]
    return list(history)


def rule_earned(
    rule: ScoringRule, lead: Lead, history: Sequence[Touch]
) -> tuple[bool, dt.datetime | None]:
    """Whether the rule gives the lead its points and, for engagement, when they were earned:
    "at least N" counts from the N-th newest matching interaction, so recent activity keeps
    the points fresh; a submitted form at the lead's capture."""
    if rule.field == ScoringField.FORM_SUBMITTED:
        submitted = lead.source == LeadSource.WEB_FORM or lead.web_form_id is not None
        return submitted, (lead.created_at or timezone.now()) if submitted else None
    if rule.field in ENGAGEMENT:
        threshold = _threshold(rule)
        touches = _touches(rule, history)
        if threshold is None or len(touches) < threshold:
            return False, None
        return True, touches[threshold - 1].at
    return rule_matches(rule, lead), None


def rule_matches(rule: ScoringRule, lead: Lead, interactions: int = 0) -> bool:
    """A fit rule against the lead's fields (engagement rules: `rule_earned`)."""
    wanted = rule.value.strip().casefold()
    if rule.field == ScoringField.INTERACTIONS:
        threshold = _threshold(rule)
        return threshold is not None and interactions >= threshold
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
    count = {"count": rule.value.strip() or "1"}
    if rule.field == ScoringField.INTERACTIONS:
        return _("%(count)s or more logged interactions") % count
    if rule.field == ScoringField.MEETINGS:
        return _("%(count)s or more meetings") % count
    if rule.field == ScoringField.REPLIES:
        return _("%(count)s or more replies received") % count
    if rule.field == ScoringField.FORM_SUBMITTED:
        return _("submitted a web form")
    if rule.field in TRACKED:
        return _tracked_reason(rule.field, count["count"])
    words = [str(rule.get_field_display()), str(rule.get_operator_display())]
    if rule.operator != ScoringOperator.NOT_EMPTY:
        words.append(rule.value.strip())
    return " ".join(words)


def _tracked_reason(field: str, count: str) -> str:
    """ "opened an email", "clicked 3 or more links in emails", "visited 5 or more pages"."""
    one = count in ("1", "0")
    if field == ScoringField.EMAIL_OPENED:
        return (
            _("opened an email") if one else _("opened %(count)s or more emails") % {"count": count}
        )
    if field == ScoringField.EMAIL_CLICKED:
        if one:
            return _("clicked a link in an email")
        return _("clicked %(count)s or more links in emails") % {"count": count}
    if one:
        return _("visited a page of the website")
    return _("visited %(count)s or more pages of the website") % {"count": count}


def decayed(points: int, *, earned: dt.datetime, half_life_days: int, now: dt.datetime) -> int:
    """`points` halved every `half_life_days` since `earned` (rounded; never past zero)."""
    age_days = max(0.0, (now - earned).total_seconds() / 86400)
    return round(points * 0.5 ** (age_days / half_life_days))


def evaluate(
    lead: Lead,
    rules: Sequence[ScoringRule],
    history: Sequence[Touch] = (),
    *,
    settings: ScoreSettings | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    settings = settings if settings is not None else ScoreSettings.current()
    now = now or timezone.now()
    total, breakdown = 0, []
    for rule in rules:
        matched, earned = rule_earned(rule, lead, history)
        if not matched:
            continue
        half_life = rule.half_life_days or settings.half_life_days
        item: dict[str, Any] = {"points": rule.points, "reason": reason(rule)}
        if earned is not None and half_life:
            points = decayed(rule.points, earned=earned, half_life_days=half_life, now=now)
            if points == 0:
                continue  # faded out
            item.update(
                points=points,
                full=rule.points,
                earned=earned.date().isoformat(),
                half_life=half_life,
            )
        total += item["points"]
        breakdown.append(item)
    return total, breakdown


def temperature(score: int, settings: ScoreSettings) -> str:
    if score >= settings.hot_at:
        return Temperature.HOT
    if score >= settings.warm_at:
        return Temperature.WARM
    return Temperature.COLD


def _uses_history(rules: Sequence[ScoringRule]) -> bool:
    return any(
        rule.field in ENGAGEMENT
        and rule.field != ScoringField.FORM_SUBMITTED
        and rule.field not in TRACKED
        for rule in rules
    )


def uses_tracking(rules: Sequence[ScoringRule]) -> bool:
    """Whether a rule counts tracked events (email opens/clicks, page views)."""
    return any(rule.field in TRACKED for rule in rules)


def interaction_history(lead_ids: Sequence[int]) -> dict[int, list[Touch]]:
    """The newest interactions (HISTORY_LIMIT at most) logged on each lead (activities'
    generic target), newest first: one query, numbered per lead by a window."""
    from contacts.activities.models import Interaction

    lead_type = ContentType.objects.get_for_model(Lead)
    numbered = (
        Interaction.objects.filter(
            target_type=lead_type, target_id__in=list(lead_ids), archived_at__isnull=True
        )
        .annotate(
            n=Window(
                RowNumber(),
                partition_by=[F("target_id")],
                order_by=[F("occurred_at").desc(), F("id").desc()],
            )
        )
        .values_list("target_id", "occurred_at", "channel", "direction", "n")
    )
    history: dict[int, list[Touch]] = {}
    for target_id, at, channel, direction, n in numbered:
        if target_id is not None and n <= HISTORY_LIMIT:
            history.setdefault(target_id, []).append(Touch(at, channel, direction or ""))
    for touches in history.values():
        touches.sort(key=lambda t: t.at, reverse=True)
    return history


def tracking_history(leads: Sequence[Lead]) -> dict[int, list[Touch]]:
    """Each lead's tracked events as touches, newest first (HISTORY_LIMIT a kind at most): opens
    and clicks of emails whose interaction is linked to the lead (activities' generic target)
    or, for a converted lead, sent to its contact; page views of the website visitor who sent
    its web form. Two queries, each numbered per lead by a window."""
    from contacts.activities.models import EmailEvent, PageView

    ids = [lead.pk for lead in leads]
    by_contact: dict[int, list[int]] = {}
    by_visitor: dict[Any, list[int]] = {}
    for lead in leads:
        if lead.converted_contact_id:
            by_contact.setdefault(lead.converted_contact_id, []).append(lead.pk)
        if lead.visitor:
            by_visitor.setdefault(lead.visitor, []).append(lead.pk)
    history: dict[int, list[Touch]] = {}

    def add(lead_ids: Sequence[int], seen: set[tuple[int, int]], pk: int, touch: Touch) -> None:
        for lead_id in lead_ids:
            if (lead_id, pk) not in seen and len(history.get(lead_id, [])) < 3 * HISTORY_LIMIT:
                seen.add((lead_id, pk))
                history.setdefault(lead_id, []).append(touch)

    lead_type = ContentType.objects.get_for_model(Lead)
    on_lead = Q(mail__interaction__target_type=lead_type, mail__interaction__target_id__in=ids)
    events = (
        EmailEvent.objects.filter(on_lead | Q(mail__contact_id__in=list(by_contact)))
        .annotate(
            n=Window(
                RowNumber(),
                partition_by=[F("mail__contact_id"), F("mail__interaction__target_id"), F("kind")],
                order_by=[F("at").desc(), F("id").desc()],
            )
        )
        .values_list(
            "id",
            "kind",
            "at",
            "mail__interaction__target_type_id",
            "mail__interaction__target_id",
            "mail__contact_id",
            "n",
        )
    )
    seen: set[tuple[int, int]] = set()
    channel = {
        "open": TRACKED[ScoringField.EMAIL_OPENED],
        "click": TRACKED[ScoringField.EMAIL_CLICKED],
    }
    if ids:
        for pk, kind, at, type_id, target_id, contact_id, n in events:
            if n > HISTORY_LIMIT or kind not in channel:
                continue
            touch = Touch(at, channel[kind], TRACKED_DIRECTION)
            targets = [target_id] if type_id == lead_type.pk and target_id in ids else []
            add([*targets, *by_contact.get(contact_id, [])], seen, pk, touch)
    if by_visitor:
        views = (
            PageView.objects.filter(visitor__in=list(by_visitor))
            .annotate(
                n=Window(
                    RowNumber(),
                    partition_by=[F("visitor")],
                    order_by=[F("at").desc(), F("id").desc()],
                )
            )
            .values_list("id", "visitor", "at", "n")
        )
        page = TRACKED[ScoringField.PAGE_VISITED]
        for pk, visitor, at, n in views:
            if n <= HISTORY_LIMIT:
                add(by_visitor[visitor], seen, -pk, Touch(at, page, TRACKED_DIRECTION))
    for touches in history.values():
        touches.sort(key=lambda t: t.at, reverse=True)
    return history


def engagement_history(
    leads: Sequence[Lead], rules: Sequence[ScoringRule]
) -> dict[int, list[Touch]]:
    """What the engagement rules read for `leads`: interactions when a rule counts them,
    tracked events when a rule counts those (no query for what no rule reads)."""
    history = interaction_history([lead.pk for lead in leads]) if _uses_history(rules) else {}
    if uses_tracking(rules):
        for pk, touches in tracking_history(leads).items():
            merged = [*history.get(pk, []), *touches]
            history[pk] = sorted(merged, key=lambda t: t.at, reverse=True)
    return history


def interaction_counts(lead_ids: Sequence[int]) -> dict[int, int]:
    """Interactions logged on each lead (at most HISTORY_LIMIT counted)."""
    return {pk: len(touches) for pk, touches in interaction_history(lead_ids).items()}


def score_apply(
    lead: Lead,
    *,
    rules: Sequence[ScoringRule] | None = None,
    history: Sequence[Touch] | None = None,
    settings: ScoreSettings | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Set the lead's score, breakdown and temperature in memory; True if any changed.
    `history` None: read from the database when a rule needs it (a new lead has none)."""
    rules = active_rules() if rules is None else rules
    settings = settings if settings is not None else ScoreSettings.current()
    if history is None:
        history = engagement_history([lead], rules).get(lead.pk, []) if lead.pk else []
    score, breakdown = evaluate(lead, rules, history, settings=settings, now=now)
    warmth = temperature(score, settings)
    changed = (score, breakdown, warmth) != (lead.score, lead.score_breakdown, lead.temperature)
    lead.score, lead.score_breakdown, lead.temperature = score, breakdown, warmth
    return changed


def became_hot(before: str, lead: Lead) -> bool:
    return before != Temperature.HOT and lead.temperature == Temperature.HOT


def on_hot(lead: Lead, *, settings: ScoreSettings | None = None) -> None:
    """A lead just became hot: the settings' follow-up rules, in the caller's transaction: move
    a new lead to the chosen status, tell its owner (activities' notifications: the bell, and
    email after commit) and give the owner a call task on the lead. Without the activities
    module nothing is sent (logged)."""
    settings = settings if settings is not None else ScoreSettings.current()
    if settings.status_when_hot and lead.status == LeadStatus.NEW:
        # The follow-up rule, not a person: recorded in the history without an actor.
        lead.status = settings.status_when_hot
        lead.save(update_fields=["status", "updated_at"])
    if importlib.util.find_spec(NOTIFICATIONS) is None:
        log.info("leads: no notifications module; hot lead %s not notified", lead.pk)
        return
    if settings.notify_when_hot:
        notifications = importlib.import_module(NOTIFICATIONS)
        text = format_lazy(
            gettext_lazy("Lead {record} is hot (score {score})"), record=str(lead), score=lead.score
        )
        notifications.notify(
            recipient=lead.owner, kind="change", target=lead, actor=None, text=text
        )
    if settings.task_when_hot and lead.owner.is_active:
        from contacts.activities.services import TaskInput, task_create

        with transaction.atomic():
            task_create(
                data=TaskInput(
                    title=_("Call hot lead %(name)s") % {"name": str(lead)},
                    due_at=timezone.now() + dt.timedelta(days=1),
                    priority="high",
                    target=lead,
                ),
                actor=lead.owner,
            )


def lead_rescore(*, lead_id: int) -> Lead | None:
    """Recompute one lead's score (e.g. after an interaction is logged on it). Atomic, the row
    locked; writes only when the score, its reasons or its temperature changed, and tells the
    owner when it became hot. Idempotent."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            return None
        settings = ScoreSettings.current()
        before = lead.temperature
        if score_apply(lead, settings=settings):
            lead.save(update_fields=["score", "score_breakdown", "temperature", "updated_at"])
            if became_hot(before, lead) and lead.archived_at is None:
                on_hot(lead, settings=settings)
    return lead


def scores_recompute_all(*, chunk: int = CHUNK, notify: bool = True) -> int:
    """Recompute every lead's score, `chunk` leads per transaction (keyset by id, so a run
    holds no long lock and a rerun is harmless). Only rows whose score, reasons or temperature
    change are written, with one UPDATE per chunk; active leads that became hot are told
    (unless `notify` is False: a threshold change is not news about the lead). Returns how many
    leads changed."""
    rules = active_rules()
    settings = ScoreSettings.current()
    with_history = _uses_history(rules) or uses_tracking(rules)
    now = timezone.now()
    total = Lead.objects.count()
    last, done, changed = 0, 0, 0
    fields = ["id", "job_title", "company_name", "email", "website", "industry", "size"]
    fields += ["region", "source", "utm_source", "utm_campaign", "phone", "score"]
    fields += ["score_breakdown", "temperature", "web_form", "created_at", "archived_at"]
    fields += ["owner", "display_name", "status", "visitor", "converted_contact"]
    while True:
        batch = list(Lead.objects.filter(pk__gt=last).order_by("pk").only(*fields)[:chunk])
        if not batch:
            break
        history = engagement_history(batch, rules) if with_history else {}
        rows, hot = [], []
        for lead in batch:
            before = lead.temperature
            if score_apply(
                lead, rules=rules, history=history.get(lead.pk, []), settings=settings, now=now
            ):
                rows.append(lead)
                if notify and became_hot(before, lead) and lead.archived_at is None:
                    hot.append(lead)
        if rows:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE leads_lead SET score = t.score, score_breakdown = t.reasons::jsonb,"
                        " temperature = t.temperature FROM unnest(%s::bigint[], %s::int[],"
                        " %s::text[], %s::text[]) AS t(id, score, reasons, temperature)"
                        " WHERE leads_lead.id = t.id",
                        [
                            [lead.pk for lead in rows],
                            [lead.score for lead in rows],
                            [json.dumps(lead.score_breakdown) for lead in rows],
                            [lead.temperature for lead in rows],
                        ],
                    )
                for lead in hot:
                    on_hot(lead, settings=settings)
        changed += len(rows)
        done += len(batch)
        last = batch[-1].pk
        jobs.progress(done=done, total=total)
    return changed


def decays() -> bool:
    """Whether any active engagement rule fades (its own half-life or the settings')."""
    rules = [rule for rule in active_rules() if rule.field in ENGAGEMENT]
    return bool(rules) and (
        ScoreSettings.current().half_life_days is not None
        or any(rule.half_life_days for rule in rules)
    )


def scores_decay() -> int:
    """The nightly pass: recompute every lead when some points fade (nothing to do otherwise).
    Idempotent within a day; safe to run late or twice."""
    if not decays():
        return 0
    return scores_recompute_all(notify=True)


def scoring_rules_changed(*, actor: User | None, notify: bool = True) -> Job:
    """Start the job that recomputes every lead's score (after the caller's transaction
    commits, through the outbox). `notify` False for a change of the thresholds."""
    return jobs.job_start(
        kind="leads.rescore",
        task=RECOMPUTE_TASK,
        kwargs={"notify": notify},
        actor=actor,
        total=Lead.objects.count(),
    )
