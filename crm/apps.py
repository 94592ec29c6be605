from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    """The project package as an app: shared templates tags, checks and management commands."""

    name = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        # mailin connects the anymail inbound-webhook receiver; bulk_actions and jobs hold
        # Celery tasks that a worker (which loads no URL conf) must know.
        from crm import bulk_actions, jobs, mailin  # noqa: F401
