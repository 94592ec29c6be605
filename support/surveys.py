"""The customer satisfaction survey: once a ticket is first solved or closed, its requester is
emailed a signed link to rate it (1-5, with an optional comment).

    ticket_set_status(solved) -> survey_start (a SatisfactionSurvey row and an outbox row, in
    the status change's transaction) -> support.tasks.ticket_survey_send -> survey_deliver
    (claims `sent_at`, emails the link) -> the public page (support_public:survey) ->
    survey_answer (kept once; a note on the ticket tells the agents)

One survey per ticket: reopening and solving again asks nothing more; a ticket merged into
another (closed by the merge) is never asked.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import inbound, outbox
from crm.errors import DomainError, TransientError
from support.models import (
    MessageKind,
    SatisfactionSurvey,
    SurveyRating,
    Ticket,
    TicketMessage,
)

SEND_TASK = "support.tasks.ticket_survey_send"
SALT = "support.survey"
# How long the emailed link may be answered.
MAX_AGE = 60 * 60 * 24 * 30
COMMENT_MAX = 2000


def survey_start(*, ticket: Ticket) -> bool:
    """Ask the requester once: create the ticket's survey and queue its email through the
    outbox, in the caller's transaction (the status change). False when the ticket was asked
    before. Idempotent."""
    _survey, created = SatisfactionSurvey.objects.get_or_create(ticket=ticket)
    if created:
        outbox.enqueue(SEND_TASK, {"ticket_id": ticket.pk})
    return created


def survey_token(survey: SatisfactionSurvey) -> str:
    return signing.dumps(survey.pk, salt=SALT)


def survey_from_token(token: str) -> SatisfactionSurvey | None:
    """The survey a link names, or None for a forged, expired or unknown one."""
    try:
        pk = int(signing.loads(token, salt=SALT, max_age=MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return SatisfactionSurvey.objects.select_related("ticket").filter(pk=pk).first()


def survey_deliver(*, ticket_id: int) -> bool:
    """Email the survey link to the ticket's requester. At most once: `sent_at` is claimed
    (committed) before sending and released when the send fails (TransientError: the task
    retries). False when there is nothing to send (sent already, no address, an automatic
    sender)."""
    claimed = SatisfactionSurvey.objects.filter(ticket_id=ticket_id, sent_at__isnull=True).update(
        sent_at=timezone.now()
    )
    if claimed != 1:
        return False
    survey = SatisfactionSurvey.objects.select_related("ticket__requester").get(ticket_id=ticket_id)
    ticket = survey.ticket
    address = ticket.requester.primary_email
    if not address or inbound.is_automatic_sender(address):
        return False
    from support.intake import support_from_address  # intake builds on the services

    link = settings.CRM_BASE_URL.rstrip("/") + reverse(
        "support_public:survey", args=[survey_token(survey)]
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[%(reference)s] How did we do?") % {"reference": ticket.reference}
        body = render_to_string("support/public/survey_email.txt", {"ticket": ticket, "link": link})
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=support_from_address(),
        to=[address],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        email.send()
    except OSError as exc:
        SatisfactionSurvey.objects.filter(pk=survey.pk).update(sent_at=None)
        raise TransientError(str(exc)) from exc
    return True


def survey_answer(*, survey: SatisfactionSurvey, rating: int, comment: str) -> SatisfactionSurvey:
    """Keep the requester's answer, once (a second answer raises DomainError and changes
    nothing), with a note on the ticket for the agents (author: none, "System"). Atomic."""
    if rating not in SurveyRating.values:
        raise DomainError(_("Choose a rating from 1 to 5."), field="rating")
    comment = comment.replace("\x00", "").strip()[:COMMENT_MAX]
    with transaction.atomic():
        now = timezone.now()
        kept = SatisfactionSurvey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
            rating=rating, comment=comment, answered_at=now
        )
        if kept != 1:
            raise DomainError(_("You have already answered this survey. Thank you!"))
        label = SurveyRating(rating).label
        body = _("The customer rated this ticket %(rating)s of 5 (%(label)s).") % {
            "rating": rating,
            "label": label,
        }
        if comment:
            body += "\n\n" + comment
        TicketMessage.objects.create(
            ticket_id=survey.ticket_id, kind=MessageKind.NOTE, author=None, body=body
        )
    survey.refresh_from_db()
    return survey
