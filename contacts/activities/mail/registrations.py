"""What email plugs in (called from contacts/activities/registrations.py): the last inbound-mail
handler, the contact page's email panel, its Celery tasks and admin."""

from __future__ import annotations

from contacts import panels
from crm import inbound


def register() -> None:
    from contacts.activities.mail import admin, services, tasks  # noqa: F401  (tasks, admin)

    inbound.register_handler(
        inbound.InboundHandler(key=services.HANDLER_KEY, order=100, handle=services.inbound_handle)
    )
    panels.register_panel(
        panels.RecordPanel("mail", "activities/mail/panel.html", 12, ("contacts.contact",))
    )
    from crm.celery import app as celery_app

    celery_app.conf.beat_schedule["activities-mailboxes-sync"] = {
        # Personal mailboxes: mail exchanged with known contacts onto their timelines.
        "task": "contacts.activities.mail.tasks.mailboxes_sync_due",
        "schedule": 300.0,
    }
