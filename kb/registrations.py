"""What the knowledge base plugs into the shared registries (called once from
`KbConfig.ready()`): the public pages' cache (`crm.pagecache`), the navigation entry, the global
search's articles (staff read internal ones too), how article changes read in the history, the
read-only API, the ticket page's panel (`contacts.panels`, for "support.ticket") and support's
article suggester (`support.plugins`): support does not import kb."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts import panels
from crm import history, nav, pagecache, search
from crm.registry import ApiRoute, api_routes
from kb import counters, selectors, services
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


# Where crm/urls.py mounts kb.urls (tests/kb/test_fast_path.py checks it).
PUBLIC_PREFIX = "/kb/"


def register() -> None:
    # Anonymous visitors' cached help-centre pages are answered before the session, auth and
    # CSRF middleware, with one Redis round trip (`crm.pagecache`; kb.views marks the pages).
    pagecache.register(
        pagecache.PublicPages(
            key="kb",
            prefix=PUBLIC_PREFIX,
            version_key=services.PUBLIC_CACHE_VERSION_KEY,
            version=services.public_cache_version,
            hit_header="X-KB-Cache",
            counter=counters.pending_key,  # article views and searches (kb.counters)
        )
    )
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
    # The ticket page's side panels are contacts.panels' "side" panels for "support.ticket".
    panels.register_panel(
        panels.RecordPanel(
            key="kb",
            template="kb/partials/ticket_panel.html",
            order=20,
            subjects=("support.ticket",),
        )
    )
    plugins.register_suggester(plugins.Suggester(key="kb", suggest=suggest, order=20))
