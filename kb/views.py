"""The public help centre at /kb/ (no sign-in). Pages are cached per URL and language under
the public cache version (`kb.services.public_cache_version`), which publishing, changing a
published article or archiving bumps; the cache backend fails soft, so with Redis down pages
render live. An anonymous visitor's GET of a cached page is answered earlier still, before the
session, auth and CSRF middleware, by `crm.pagecache` (kb/registrations.py registers /kb/,
`public_cached` marks the pages it may keep)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crm import pagecache
from crm.visitors import VisitorCookie
from kb import counters, selectors, services
from kb.models import Category, CategorySlugRedirect, Language, SlugRedirect

VISITOR = VisitorCookie("kb_visitor", salt="kb.visitor", max_age=365 * 24 * 3600)
CACHE_SECONDS = 600
CATEGORY_PAGE_SIZE = 50  # articles on a category page
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

View = Callable[..., HttpResponse]


def public_cached(view: View) -> View:
    """Serve a GET from the cache when this URL, in this UI language, was rendered under the
    current public cache version; store successful renders. A page that counts a view (an
    article's) names the article in `response.counts_view`: a cached copy counts it too, so a
    hit costs two cache reads and the counter, no query. Both are marked `pagecache.cacheable`
    (with the article counted): for anonymous visitors the middleware keeps and serves them."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        # "kb:page2": entries carry the counted article since 2026-11-30 (a new key, so a
        # process of the previous release never reads one).
        version = services.public_cache_version()
        key = f"kb:page2:{version}:{get_language()}:{request.get_full_path()}"
        hit = cache.get(key)
        if hit is not None:
            content, content_type, counted = hit
            if counted:
                services.article_record_view(article_id=counted)
            response = HttpResponse(content, content_type=content_type)
            response["X-KB-Cache"] = "hit"
            return pagecache.cacheable(response, count=counted)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies:
            counted = getattr(response, "counts_view", None)
            cache.set(key, (response.content, response["Content-Type"], counted), CACHE_SECONDS)
            pagecache.cacheable(response, count=counted)
        return response

    return wrapper


def _ui_language() -> str:
    return Language.ZH_HANS if (get_language() or "").lower().startswith("zh") else Language.EN


@require_GET
@public_cached
def help_home(request: HttpRequest) -> HttpResponse:
    language = _ui_language()
    return render(
        request,
        "kb/public/home.html",
        {
            "categories": selectors.public_categories(),
            "popular": selectors.popular_articles(language=language),
        },
    )


@require_GET
@public_cached
def help_category(request: HttpRequest, slug: str) -> HttpResponse:
    category = Category.objects.select_related("parent").filter(slug=slug).first()
    if category is None:
        moved = CategorySlugRedirect.objects.filter(old_slug=slug).select_related("category")
        found = moved.first()
        if found is None:
            raise Http404
        return HttpResponsePermanentRedirect(
            reverse("kb:help-category", args=[found.category.slug])
        )
    number = page_number(request.GET.get("page"))
    if number is None:
        return _refusal(request, _("A page number is a whole number from 1."), status=400)
    url = reverse("kb:help-category", args=[category.slug])
    if request.GET.get("page") == "1":  # one address per page: page 1 is the category's own
        return HttpResponsePermanentRedirect(url)
    page = selectors.category_page(
        category=category, language=_ui_language(), number=number, size=CATEGORY_PAGE_SIZE
    )
    if page is None:
        return _refusal(request, _("This category has no page %(page)s.") % {"page": number})

    def address(n: int | None) -> str | None:
        return None if n is None else (url if n == 1 else f"{url}?page={n}")

    return render(
        request,
        "kb/public/category.html",
        {
            "category": category,
            "trail": selectors.breadcrumbs(category.parent),
            "children": category.children.all(),
            "page": page,
            "previous_url": address(page.previous),
            "next_url": address(page.next),
            "canonical": request.build_absolute_uri(address(page.number)),
        },
    )


def page_number(raw: str | None) -> int | None:
    """A `?page=` value as a page number (1 when absent); None when it is not one."""
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) < 1:
        return None
    return int(raw)


def _refusal(request: HttpRequest, message: str, *, status: int = 404) -> HttpResponse:
    """A help-centre page that says what was wrong (bad input or a page that does not exist)."""
    return render(request, "kb/public/refusal.html", {"message": message}, status=status)


@require_GET
@public_cached
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    # The search columns (the largest after the body) are not shown.
    article = (
        selectors.public_articles().defer("search_text", "search_vector").filter(slug=slug).first()
    )
    if article is None:
        moved = SlugRedirect.objects.filter(old_slug=slug).select_related("article").first()
        if moved is not None and moved.article.is_public:
            return HttpResponsePermanentRedirect(
                reverse("kb:help-article", args=[moved.article.slug])
            )
        raise Http404
    services.article_record_view(article_id=article.pk)
    voted = request.GET.get("voted")
    response = render(
        request,
        "kb/public/article.html",
        {
            "article": article,
            "trail": selectors.breadcrumbs(article.category),
            "related": selectors.related_articles(article=article),
            "translations": selectors.translations(article=article),
            "voted": voted if voted in ("yes", "no", "thanks") else None,
            "canonical": request.build_absolute_uri(
                reverse("kb:help-article", args=[article.slug])
            ),
        },
    )
    response.counts_view = article.pk  # type: ignore[attr-defined]
    return response


@require_GET
@never_cache
def help_article_feedback(request: HttpRequest, slug: str) -> HttpResponse:
    """The "was this helpful?" form, never cached: the cached article page cannot carry a
    visitor's CSRF token, so its script loads this fragment (`?fragment=1`), which sets the
    CSRF cookie and holds the matching token; without JavaScript it is a small page."""
    article = get_object_or_404(selectors.public_articles().only("title", "slug"), slug=slug)
    voted = request.GET.get("voted")
    context = {"article": article, "voted": voted if voted in ("yes", "no", "thanks") else None}
    template = (
        "kb/public/_feedback.html" if request.GET.get("fragment") else "kb/public/feedback.html"
    )
    return render(request, template, context)


# CSRF-checked like every POST (Django's middleware): the token comes from the uncached
# feedback fragment above.
@require_POST
def help_article_vote(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(selectors.public_articles(), slug=slug)
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return HttpResponse(status=400)
    visitor, new = VISITOR.read(request)
    services.feedback_record(
        article=article,
        visitor=visitor,
        helpful=answer == "yes",
        comment=request.POST.get("comment", ""),
    )
    shown = "thanks" if "comment" in request.POST else answer
    response = redirect(f"{reverse('kb:help-article', args=[article.slug])}?voted={shown}")
    return VISITOR.remember(request, response, visitor, new=new)


def search_text(raw: str) -> str:
    """A search as typed, normalised: control characters (NUL too) read as spaces, runs of
    spaces as one, at most 200 characters."""
    return " ".join(_CONTROL.sub(" ", raw).split())[:200]


def _record_search(*, text: str, language: str, results: int) -> None:
    """Count the search in Redis (`kb.counters`, flushed to `SearchLog` every minute); with
    Redis away, write its row now so none is lost."""
    if not counters.record_search(query=text, language=language, results=results):
        services.search_record(query=text, language=language, results=results)


@require_GET
def help_search(request: HttpRequest) -> HttpResponse:
    """Search results, cached like the pages (per search text, UI language and public cache
    version) with the number of hits. Every search is counted for the analytics: here in
    Redis, and when `crm.pagecache` answers an anonymous visitor's repeated search, by its
    lookup script (the page's count names the search's field, `counters.search_field`)."""
    text = search_text(request.GET.get("q", ""))
    language = _ui_language()
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    key = f"kb:search:{services.public_cache_version()}:{get_language()}:{digest}"
    hit = cache.get(key) if text else None
    if hit is not None:
        content, results = hit
        response = HttpResponse(content)
        response["X-KB-Cache"] = "hit"
    else:
        hits = selectors.public_search(text=text, language=language) if text else []
        results = len(hits)
        response = render(request, "kb/public/search.html", {"q": text, "hits": hits})
        if text:
            cache.set(key, (response.content, results), CACHE_SECONDS)
    if not text:
        return pagecache.cacheable(response)
    _record_search(text=text, language=language, results=results)
    field = counters.search_field(query=text, language=language, results=results)
    return pagecache.cacheable(response, count=field)


@require_GET
@public_cached
def help_faq(request: HttpRequest) -> HttpResponse:
    faqs = (
        selectors.public_articles()
        .filter(is_faq=True, language=_ui_language())
        # Categories in their order, then the order editors set within each (`article_move`).
        .order_by("category__position", "category_id", "position", "title", "id")
    )
    return render(request, "kb/public/faq.html", {"faqs": faqs})


@require_GET
@public_cached
def help_sitemap(request: HttpRequest) -> HttpResponse:
    articles = selectors.public_articles().only("slug", "updated_at").order_by("id")
    return render(
        request,
        "kb/public/sitemap.xml",
        {"articles": articles, "categories": Category.objects.only("slug")},
        content_type="application/xml",
    )
