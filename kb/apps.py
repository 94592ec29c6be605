from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KbConfig(AppConfig):
    """The knowledge base (issue 30): see kb/models.py and docs/architecture.md."""

    name = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from kb import registrations
        from kb.models import Article, Category, SlugRedirect

        auditlog.register(
            Article,
            exclude_fields=[
                "updated_at",
                "body_html",
                "search_title",
                "search_text",
                "search_vector",
                "view_count",
                "version",
            ],
        )
        auditlog.register(Category, exclude_fields=["updated_at"])
        auditlog.register(SlugRedirect)
        registrations.register()
