"""What sales plugs into the shared registries (called once from `SalesConfig.ready()`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm import nav


def register() -> None:
    nav.register_nav(nav.NavEntry("sales", _("Deals"), None, order=40))
