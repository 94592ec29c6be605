from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    """Interactions (calls, meetings, notes, ...) and tasks on contacts and companies.

    A second app inside the contacts folder: it depends on contacts (and accounts), and the
    modules to its right (leads, sales, support) link their records to it generically."""

    name = "contacts.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from contacts.activities import collab, registrations
        from contacts.activities.models import Interaction, Task

        auditlog.register(Interaction, exclude_fields=["updated_at"])
        auditlog.register(Task, exclude_fields=["updated_at"])
        registrations.register()
        collab.ready()
