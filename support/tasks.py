"""Background work for support. Thin: load by id, run the service, retry transient errors."""

from __future__ import annotations

from celery import shared_task

from crm.errors import TransientError
from support import services


@shared_task(
    name="support.tasks.ticket_reply_send",
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def ticket_reply_send(*, message_id: int) -> bool:
    """Email a public reply to the requester; a second delivery of the task sends nothing."""
    return services.ticket_reply_deliver(message_id=message_id)


@shared_task(name="support.tasks.sla_check", acks_late=True)
def sla_check() -> int:
    """Warn and escalate SLA targets; safe to run late, twice or at once (claim rows)."""
    return services.sla_check()


@shared_task(
    name="support.tasks.ticket_confirmation_send",
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def ticket_confirmation_send(*, ticket_id: int, language: str = "", in_reply_to: str = "") -> bool:
    """Email the requester the ticket number once; a second delivery sends nothing."""
    from support import intake

    return intake.ticket_confirmation_deliver(
        ticket_id=ticket_id, language=language, in_reply_to=in_reply_to
    )


@shared_task(name="support.tasks.tickets_retier", acks_late=True)
def tickets_retier(*, company_id: int | None) -> int:
    """Open tickets take their company's tier now (`company_id` None: every company's);
    idempotent, so a repeated delivery changes nothing."""
    if company_id is None:
        return services.tickets_retier_all()
    return services.tickets_retier(company_id=company_id)


@shared_task(
    name="support.tasks.ticket_survey_send",
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def ticket_survey_send(*, ticket_id: int) -> bool:
    """Email the requester the satisfaction survey once; a second delivery sends nothing."""
    from support import surveys

    return surveys.survey_deliver(ticket_id=ticket_id)
