"""Errors the service layer raises. Views turn them into messages, never into a 500."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. `message` is translated and safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class TransientError(Exception):
    """A failure worth retrying (network, lock, provider rate limit). Celery tasks retry on it."""
