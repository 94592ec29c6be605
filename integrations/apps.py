from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "integrations"
    verbose_name = _("Integrations")
