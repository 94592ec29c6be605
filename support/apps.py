from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "support"
    verbose_name = _("Support")
