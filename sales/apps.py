from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("sales", _("Deals"), None, order=40))
