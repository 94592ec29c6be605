"""Navigation for the base layout: every module, marking the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (url name or None while the module is not built yet, label, url namespace)
MODULES = [
    ("contacts:contact-list", _("Contacts"), "contacts"),
    ("contacts:company-list", _("Companies"), "companies"),
    (None, _("Leads"), "leads"),
    (None, _("Deals"), "sales"),
    (None, _("Marketing"), "marketing"),
    (None, _("Support"), "support"),
    (None, _("Knowledge base"), "kb"),
    (None, _("Reports"), "reports"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    section = ""
    if match is not None:
        url_name = match.url_name or ""
        section = "companies" if url_name.startswith("company") else (match.namespace or "")
    return {"nav_modules": MODULES, "nav_section": section}
