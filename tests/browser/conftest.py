"""Helpers for browser tests: real Chromium (Debian's, through Playwright) against pytest-django's
live server. The `browser` and `page` fixtures live in tests/conftest.py, so that browser tests in
any folder share ONE Playwright instance (a second sync Playwright in the same thread fails)."""

from __future__ import annotations

import os
from pathlib import Path

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves (fixtures, assertions) are safe because nothing else uses that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.width}.png"), full_page=True)


def sign_in(page, live_server, email: str, password: str = "secret-pass-123") -> None:  # noqa: S107
    # Straight to the contact list, where these tests start (the home page is the user's day).
    page.goto(f"{live_server.url}/accounts/login/?next=/contacts/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/contacts/")
