from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from crm import nav

        # Greyed out in the navigation until the module has pages.
        nav.register_nav(nav.NavEntry("kb", _("Knowledge base"), None, order=70))
