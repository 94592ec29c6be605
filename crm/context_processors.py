"""Navigation for the base layout: every module the apps registered, marking the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crm import nav


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {
        "nav_modules": nav.nav_entries.all(),
        "nav_section": nav.current_section(getattr(request, "resolver_match", None)),
    }
