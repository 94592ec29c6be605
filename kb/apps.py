import os

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def warm_up_wanted() -> bool:
    """Whether this process should load jieba's dictionary at start: `KB_WARM_UP` (1/0) when
    set; otherwise only under gunicorn (it sets SERVER_SOFTWARE in its processes), never in
    tests or management commands. Celery workers warm up through `worker_process_init`."""
    value = getattr(settings, "KB_WARM_UP", None)
    if value is not None:
        return bool(value)
    return not settings.TESTING and os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")


class KbConfig(AppConfig):
    """The knowledge base (issue 30): see kb/models.py and docs/architecture.md."""

    name = "kb"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from celery.signals import worker_process_init

        from crm import nav
        from crm.celery import app as celery_app
        from crm.tags import register_taggable
        from kb import registrations, tasks, text
        from kb.models import Article, Category, CategorySlugRedirect, SlugRedirect

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
                "position",
            ],
        )
        auditlog.register(Category, exclude_fields=["updated_at"])
        auditlog.register(SlugRedirect)
        auditlog.register(CategorySlugRedirect)
        # Tag changes are audited as changes of tag_ids (crm.tags).
        register_taggable(Article)
        registrations.register()
        # Error pages send a visitor who is not signed in to the help centre (crm.nav).
        nav.register_public_home(
            nav.PublicHome("help-centre", "kb:help-home", _("Go to the help centre"))
        )
        # Declared here, not in crm/celery.py: crm/ names no app (tests/crm/test_registries.py).
        # View counts wait in Redis until this adds them to PostgreSQL (kb/counters.py).
        celery_app.conf.beat_schedule["kb-flush-views"] = {
            "task": tasks.FLUSH_VIEWS,
            "schedule": 60.0,
        }
        # jieba's dictionary takes 1-2 s to load: pay it when a worker starts, not on the first
        # Chinese search or article save it serves.
        worker_process_init.connect(text.warm_up_signal, weak=False, dispatch_uid="kb-warm-up")
        if warm_up_wanted():
            text.warm_up()
