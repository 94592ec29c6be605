from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    """The project package as an app: shared templates tags, checks and management commands."""

    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from crm import mailin  # noqa: F401  (connects the anymail inbound-webhook receiver)
