"""Load exchange rates from a CSV file (date, currency, to_currency, rate): the app never fetches
rates itself. A rate already stored for the same currencies and day is replaced; a bad line
stops the load with its line number and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.errors import DomainError
from sales.currency import exchange_rates_load, parse_rates_csv


class Command(BaseCommand):
    help = "Load exchange rates from a CSV file with the columns date, currency, to_currency, rate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            rows = parse_rates_csv(text)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        created, updated = exchange_rates_load(rows=rows)
        self.stdout.write(f"{created} rates added, {updated} replaced.")
