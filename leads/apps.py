from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("leads", _("Leads"), None, order=30))
