from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Registered and empty until its issue lands; see docs/architecture.md."""

    name = "leads"
    verbose_name = _("Leads")
