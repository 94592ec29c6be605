"""Navigation for the base layout: every module the apps registered, marking the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crm import nav


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        # Lazy: error pages and public pages (no bar) never build it.
        "nav_items": SimpleLazyObject(lambda: nav.nav_items(user)),
        "nav_section": nav.current_section(getattr(request, "resolver_match", None)),
        # Error pages send a visitor who is not signed in here (an app's public home).
        "public_home": nav.public_home(),
    }
