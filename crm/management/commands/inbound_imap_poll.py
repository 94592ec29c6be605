"""Fetch the CRM mailbox's new mail once (the beat task `crm.mailin.imap_poll` does it every
minute): `manage.py inbound_imap_poll`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm import mailin


class Command(BaseCommand):
    help = "Fetch new mail from the CRM's IMAP mailbox (CRM_INBOUND_IMAP_*) and queue it."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = mailin.imap_poll_configured()
        except Exception as exc:  # imaplib, socket and TLS errors: say what failed
            raise CommandError(f"IMAP poll failed: {exc}") from exc
        if result is None:
            raise CommandError("No IMAP mailbox configured (CRM_INBOUND_IMAP_HOST).")
        self.stdout.write(
            f"{result.seen} message(s) seen, {result.stored} stored, "
            f"{result.duplicates} already stored."
        )
