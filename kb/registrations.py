"""What the knowledge base plugs into the shared registries (called once from
`KbConfig.ready()`): the navigation entry, the global search's articles (staff read internal
ones too), how article changes read in the history, the read-only API, and support's ticket
panel and article suggester (`support.plugins`: support does not import kb)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm import history, nav, search
from crm.registry import ApiRoute, api_routes
from kb import selectors
from kb.models import Article
from support import plugins


def suggest(text: str, language: str, limit: int, public: bool) -> Sequence[plugins.Suggestion]:
    """Articles for a customer's text. `public=True` (the public request form): published public
    articles only, linked to the help centre. `public=False` (the agent's ticket page): published
    internal articles too, linked to their staff page (support passes no user; every staff role
    holds `kb.view_article`)."""
    language = "zh-hans" if language.lower().startswith("zh") else "en"
    articles = selectors.suggestions(text=text, language=language, limit=limit, public=public)
    return [
        plugins.Suggestion(
            title=a.title,
            url=reverse("kb:help-article", args=[a.slug])
            if a.is_public
            else reverse("kb:article-detail", args=[a.pk]),
            snippet=a.summary,
            article_id=a.pk,
        )
        for a in articles
    ]


def register() -> None:
    nav.register_nav(
        nav.NavEntry(
            "kb",
            _("Knowledge base"),
            "kb:article-list",
            order=70,
            active_for=("kb:article", "kb:category", "kb:analytics"),
            group="service",
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="kb-articles",
            label=_("Knowledge base"),
            order=60,
            template="kb/search/article.html",
            search=lambda user, q, limit: selectors.staff_search(user=user, text=q, limit=limit),
            see_all=lambda q: f"{reverse('kb:article-list')}?{urlencode({'q': q})}",
        )
    )
    history.register_history(
        Article,
        hidden={
            "body_html",
            "search_title",
            "search_text",
            "search_vector",
            "view_count",
            "version",
            "translation_group",
        },
    )
    api_routes.register(ApiRoute("kb-articles", "kb.api.ArticleViewSet", "kb-article", order=70))
    plugins.register_ticket_panel(
        plugins.TicketPanel(key="kb", template="kb/partials/ticket_panel.html", order=20)
    )
    plugins.register_suggester(plugins.Suggester(key="kb", suggest=suggest, order=20))
