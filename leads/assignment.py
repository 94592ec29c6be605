"""Assignment rules: who gets a captured lead.

A capture that asks for it (`LeadInput.assign`: web forms that use the rules, the API) stores the
lead with `assignment_pending` and writes the task `leads.tasks.lead_assign` to the outbox in the
same transaction. The task (`lead_assign_by_rules`) runs after commit, or when the broker is back:
the first active rule, in order, whose conditions all hold gives the lead to its user, or to the
next member of its round-robin, or to the member with the fewest open leads; members who are
not available for new leads (`LeadAvailability`) are skipped, and a rule with nobody available
falls through to the next rule (the fallback owner). The round-robin's
pointer is the rule's own row (`turn`), locked with SELECT ... FOR UPDATE while it advances (and
while the fewest-open count is taken), so concurrent captures take turns exactly: N leads over k
members give each N/k (+1). The lead's row is claimed by `assignment_pending` under a
lock, so a task delivered twice assigns once. The new owner is then notified (as after a
user's reassignment, `leads.services.lead_assign`; a bulk owner change, over all its chunks,
and an import tell each new owner once, `notify_assigned`).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from leads.models import AssignmentRule, AssignmentStrategy, Lead, LeadStatus

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)

NOTIFICATIONS = "contacts.activities.notifications"
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)


def rule_matches(rule: AssignmentRule, lead: Lead) -> bool:
    """Every condition the rule sets holds for the lead (an empty condition is "any")."""
    checks = (
        (rule.source, lead.source),
        (rule.region, lead.region),
        (rule.industry, lead.industry),
        (rule.size, lead.size),
    )
    if any(wanted and wanted != actual for wanted, actual in checks):
        return False
    if rule.web_form_id is not None and rule.web_form_id != lead.web_form_id:
        return False
    return rule.min_score is None or lead.score >= rule.min_score


def _candidates(rule: AssignmentRule) -> Sequence[User]:
    """The rule's members (or its team's), active and available for new leads (a member who
    set `LeadAvailability.available` off is skipped; no row means available)."""
    if rule.members.exists():
        people = rule.members.filter(is_active=True)
    elif rule.team_id is not None:
        people = User.objects.filter(team_id=rule.team_id, is_active=True)
    else:
        return []
    return list(people.exclude(lead_availability__available=False).order_by("pk"))


def _fewest_open(people: Sequence[User]) -> User:
    """The member with the fewest open leads (new, contacted, qualified; not archived); ties go
    to the earliest member. One grouped query on the owner index."""
    counts = dict(
        Lead.objects.filter(owner__in=people, archived_at__isnull=True, status__in=OPEN_STATUSES)
        .values_list("owner")
        .annotate(n=Count("id"))
        .values_list("owner", "n")
    )
    return min(people, key=lambda user: (counts.get(user.pk, 0), user.pk))


def rule_pick(rule: AssignmentRule) -> User | None:
    """The rule's user, or the next member of its round-robin, or the member with the fewest
    open leads, among the members available for new leads. The rule's row is locked meanwhile
    (must be called inside a transaction), so concurrent captures take turns, and each count
    sees the assignments committed before it. None when nobody is available."""
    if rule.user_id is not None:
        user = User.objects.filter(pk=rule.user_id, is_active=True).first()
        if user is not None:
            return user
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    people = _candidates(locked)
    if not people:
        return None
    if locked.strategy == AssignmentStrategy.FEWEST_OPEN:
        chosen = _fewest_open(people)
    else:
        chosen = people[locked.turn % len(people)]
    AssignmentRule.objects.filter(pk=rule.pk).update(turn=F("turn") + 1)
    return chosen


def lead_assign_by_rules(*, lead_id: int) -> User | None:
    """Run the assignment rules for a captured lead once. Atomic; the lead is claimed by its
    `assignment_pending` flag under a row lock, so a second delivery changes nothing. Returns
    the new owner, or None (no rule applied: the capture's owner keeps it). The owner change is
    in the lead's history (actor: none, the rules); the new owner is notified."""
    with transaction.atomic():
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .filter(pk=lead_id, assignment_pending=True)
            .first()
        )
        if lead is None:
            return None
        owner = None
        for rule in AssignmentRule.objects.filter(active=True).order_by("position", "id"):
            if rule_matches(rule, lead):
                owner = rule_pick(rule)
                if owner is not None:
                    break
        lead.assignment_pending = False
        fields = ["assignment_pending"]
        if owner is not None and (lead.owner_id, lead.team_id) != (owner.pk, owner.team_id):
            lead.owner, lead.team_id = owner, owner.team_id
            fields += ["owner", "team", "updated_at"]
        lead.save(update_fields=fields)
        if owner is not None:
            notify_owner(lead)
    return owner


def _notifications() -> Any:
    if importlib.util.find_spec(NOTIFICATIONS) is None:
        return None
    return importlib.import_module(NOTIFICATIONS)


def notify_owner(lead: Lead, *, actor: User | None = None) -> bool:
    """Tell a lead's owner it was assigned to them (by the rules, or by `actor`: nobody is told
    of their own doing), in the caller's transaction, through activities' notifications
    (`contacts.activities.notifications.notify`: the bell, and an email after commit through
    the outbox). False when not told, or when that module is not there."""
    notifications = _notifications()
    if notifications is None:
        log.info("leads: no notifications module; lead %s not notified", lead.pk)
        return False
    text = format_lazy(_("Lead {record} was assigned to you"), record=str(lead))
    sent = notifications.notify(
        recipient=lead.owner, kind="assigned", target=lead, actor=actor, text=text
    )
    return sent is not None


def _many_assigned(count: int, actor: User) -> str:
    return ngettext(
        "%(actor)s assigned you %(count)s lead",
        "%(actor)s assigned you %(count)s leads",
        count,
    ) % {"count": number_format(count, force_grouping=True), "actor": actor}


def notify_assigned(*, counts: Mapping[str, int], actor: User) -> int:
    """One notification to each new owner for all the leads `actor` gave them at once (a bulk
    owner change, over every chunk of its job; an import): "Ana assigned you 1,240 leads",
    rendered in the owner's language, leading to the lead list filtered to the owner's own.
    `counts` is leads by owner id (a job's tally: string keys). In the caller's transaction;
    a fixed number of queries per owner. Nobody is told of their own doing, nor of nothing.
    Returns how many were told."""
    notifications = _notifications()
    wanted = {int(owner): int(n) for owner, n in counts.items() if int(n) > 0}
    wanted.pop(actor.pk, None)
    if notifications is None or not wanted:
        return 0
    url = f"{reverse('leads:lead-list')}?owner=me"
    told = 0
    for owner in User.objects.filter(pk__in=wanted, is_active=True).order_by("pk"):
        # The record it hangs on: the owner's most recently changed lead, one of these.
        anchor = Lead.objects.filter(owner=owner).order_by("-updated_at", "-pk").first()
        if anchor is None:
            continue
        text = lazy(_many_assigned, str)(wanted[owner.pk], actor)  # in the owner's language
        sent = notifications.notify(
            recipient=owner, kind="assigned", target=anchor, actor=actor, text=text, url=url
        )
        told += sent is not None
    return told
