from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("support", _("Support"), None, order=60))
