"""Leads and activities' tracking (contacts/activities/tracking): a web form's site may report
page views, a tracked event rescores the leads it concerns, and a form sent by a tracked visitor
links the lead to that visitor (so their page views, before and after, count).

Which leads an event concerns: an email open or click counts for the lead the email's
interaction is linked to (activities' generic target) and, once a lead is converted, for emails
to its contact; a page view counts for the leads whose web form that visitor sent. The CRM
writes email to contacts only today (the composer is on the contact page), so in practice
opens and clicks count for converted leads, and for a lead as soon as an email is linked to it.
"""

from __future__ import annotations

import uuid

from django.db.models import Q

from contacts.activities.tracking import services as tracking
from crm import outbox
from leads import scoring
from leads.models import Lead, LeadForm

RESCORE_TASK = "leads.tasks.lead_rescore"
MAX_LEADS = 20  # one event rescores at most this many leads (a contact converted from many)
SITE_PREFIX = "form"


def form_origins(slug: str) -> frozenset[str] | None:
    """The origins allowed to report page views for the active web form `slug` (its allowed
    origins, the same that may embed it); None for no such form."""
    form = LeadForm.objects.filter(slug=slug[:60], active=True).only("allowed_origins").first()
    return frozenset(form.origins()) if form is not None else None


def site_key(form: LeadForm) -> str:
    return f"{SITE_PREFIX}:{form.slug}"


def rescore_on_tracked(event: tracking.TrackingEvent) -> None:
    """A tracked event: queue the rescore of the leads it concerns (nothing when no active rule
    counts tracked events). Runs in the tracking task; the rescore is idempotent."""
    if not scoring.uses_tracking(scoring.active_rules()):
        return
    which = Q(pk__in=[])
    if event.target_model == "leads.lead" and event.target_id:
        which |= Q(pk=event.target_id)
    if event.contact_id:
        which |= Q(converted_contact_id=event.contact_id)
    if event.visitor:
        which |= Q(visitor=event.visitor)
    for lead_id in Lead.objects.filter(which).values_list("pk", flat=True)[:MAX_LEADS]:
        outbox.enqueue(RESCORE_TASK, {"lead_id": lead_id})


def rescore_on_pruned(visitors: list[uuid.UUID]) -> None:
    """Page views of these visitors were deleted (tracking's retention): queue the rescore of
    their leads, in the pruning batch's transaction, so no score or breakdown keeps counting a
    view that is gone. Nothing when no active rule counts tracked events."""
    if not visitors or not scoring.uses_tracking(scoring.active_rules()):
        return
    for lead_id in Lead.objects.filter(visitor__in=visitors).values_list("pk", flat=True):
        outbox.enqueue(RESCORE_TASK, {"lead_id": lead_id})


def visitor_link(*, lead: Lead, visitor: uuid.UUID) -> bool:
    """Link a lead captured by a web form to the website visitor who sent it (a lead linked to
    another visitor keeps it). When that visitor has page views already, the lead is rescored
    through the outbox. True when linked."""
    from contacts.activities.models import PageView

    linked = Lead.objects.filter(pk=lead.pk, visitor__isnull=True).update(visitor=visitor) == 1
    if linked and PageView.objects.filter(visitor=visitor).exists():
        outbox.enqueue(RESCORE_TASK, {"lead_id": lead.pk})
    return linked


def register() -> None:
    tracking.sites.register(tracking.TrackingSite(SITE_PREFIX, form_origins, order=10))
    tracking.on_tracked.register(tracking.TrackingHook("leads-rescore", rescore_on_tracked))
    tracking.on_pruned.register(tracking.PruneHook("leads-rescore", rescore_on_pruned))
