from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("marketing", _("Marketing"), None, order=50))
