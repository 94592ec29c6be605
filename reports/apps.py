from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("reports", _("Reports"), None, order=80))
