"""Staff pages of the knowledge base (signed in): the article list, an article's page (status,
review buttons, versions), the editor with its live preview and image upload, comparing and
restoring versions, categories and the analytics page.

Every article comes through `accounts.access` (`kb.view_article` to read, `change_article` to
edit; publishing also needs `kb.publish_article`); internal articles are read by staff only
because these pages need a sign-in and the public pages read `selectors.public_articles()`.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import access
from crm import history
from crm.errors import DomainError
from crm.http import AuthedHttpRequest
from crm.lists import list_response
from crm.storage import private_storage
from crm.tags import labels_for
from kb import analytics, compare, selectors, services
from kb.forms import IMAGE_FORMATS, ArticleForm, CategoryForm, ImageForm, PreviewForm
from kb.lists import ARTICLES
from kb.models import Article, ArticleVersion, Category, Status
from kb.text import render_markdown


def _denied() -> PermissionDenied:
    return PermissionDenied(_("Your role does not allow this."))


def _article(request: AuthedHttpRequest, pk: int, action: access.Action = "view") -> Article:
    return access.get_for_user_or_404(
        request.user,
        Article,
        pk,
        action=action,
        queryset=Article.objects.select_related("category", "author", "reviewer"),
    )


@login_required
@require_GET
def article_list(request: AuthedHttpRequest) -> HttpResponse:
    return list_response(request, ARTICLES, {"can_add": access.can_add(request.user, Article)})


@login_required
@require_GET
def article_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    user = request.user
    can_change = access.can(user, article, "change")
    versions = list(
        article.versions.select_related("author").order_by("-number")[:50]  # newest first
    )
    context = {
        "article": article,
        "versions": versions,
        "translations": list(
            Article.objects.filter(translation_group=article.translation_group)
            .exclude(pk=article.pk)
            .only("title", "language")
        ),
        "can_change": can_change,
        "can_add": access.can_add(user, Article),
        "can_submit": can_change and article.status in (Status.DRAFT, Status.ARCHIVED),
        "can_publish": can_change
        and article.status == Status.IN_REVIEW
        and user.has_perm("kb.publish_article")
        and (article.author_id != user.pk or user.is_superuser),
        "can_archive": can_change and article.status != Status.ARCHIVED,
        "history_items": history.history_items(
            history.history_entries(article), Article, viewer=user
        ),
        "helpful": analytics.article_helpfulness(article),
        "tag_labels": labels_for(article.tag_ids),
    }
    return render(request, "kb/staff/article_detail.html", context)


def _editor(
    request: AuthedHttpRequest, form: ArticleForm, article: Article | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "kb/staff/article_form.html",
        {"form": form, "article": article, "preview": render_markdown(form["body"].value() or "")},
        status=status,
    )


def _save(request: AuthedHttpRequest, form: ArticleForm, article: Article | None) -> HttpResponse:
    try:
        if article is None:
            source = request.GET.get("translation_of", "")
            original = (
                _article(request, int(source)) if source.isdigit() and len(source) < 12 else None
            )
            saved = services.article_create(
                data=form.to_input(), actor=request.user, translation_of=original
            )
        else:
            saved = services.article_update(
                article=article, data=form.to_input(), actor=request.user
            )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _editor(request, form, article, status=422)
    messages.success(request, _("Article saved."))
    return redirect("kb:article-detail", saved.pk)


@login_required
@require_http_methods(["GET", "POST"])
def article_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Article):
        raise _denied()
    initial = {"language": request.GET.get("language", "en")}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            return _save(request, form, None)
        return _editor(request, form, None, status=422)
    return _editor(request, form, None)


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk, "change")
    form = ArticleForm(request.POST or None, article=article)
    if request.method == "POST":
        if form.is_valid():
            return _save(request, form, article)
        return _editor(request, form, article, status=422)
    return _editor(request, form, article)


@login_required
@require_POST
def article_preview(request: AuthedHttpRequest) -> HttpResponse:
    """The editor's live preview: the posted Markdown rendered exactly as the help centre
    renders it (the same sanitiser), as an HTML fragment."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("The text is too long to preview."), status=422)
    return render(
        request,
        "kb/partials/preview.html",
        {"preview": render_markdown(form.cleaned_data["body"])},
    )


@login_required
@require_POST
def image_upload(request: AuthedHttpRequest) -> HttpResponse:
    """Store an uploaded image; answers JSON with its Markdown (or the reason, status 422)."""
    if not access.can_add(request.user, Article):
        raise _denied()
    form = ImageForm(request.POST, request.FILES)
    if not form.is_valid():
        errors = [str(e) for e in form.errors.get("image", [])] or [_("Choose an image.")]
        return JsonResponse({"error": " ".join(errors)}, status=422)
    data, extension = form.cleaned_data["image"]
    name = services.image_save(data=data, extension=extension, actor=request.user)
    url = reverse("kb:help-image", args=[name.rsplit("/", 1)[-1]])
    return JsonResponse({"url": url, "markdown": f"![]({url})"})


_IMAGE_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|gif|webp)")
_CONTENT_TYPES = dict(IMAGE_FORMATS.values())


@require_GET
def help_image(request: HttpRequest, name: str) -> FileResponse:
    """An article image, public by its random name (articles link them from the help centre)."""
    match = _IMAGE_NAME.fullmatch(name)
    storage = private_storage()
    path = f"{services.IMAGE_FOLDER}/{name}"
    if match is None or not storage.exists(path):
        raise Http404
    response = FileResponse(storage.open(path), content_type=_CONTENT_TYPES[match.group(1)])
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def _status_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    article = _article(request, pk, "change")
    try:
        if action == "submit":
            services.article_submit_for_review(article=article, actor=request.user)
            messages.success(request, _("Article sent for review."))
        elif action == "publish":
            services.article_publish(article=article, actor=request.user)
            messages.success(request, _("Article published."))
        else:
            services.article_archive(article=article, actor=request.user)
            messages.success(request, _("Article archived."))
    except DomainError as exc:
        messages.warning(request, exc.message)
    return redirect("kb:article-detail", article.pk)


@login_required
@require_POST
def article_submit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, "submit")


@login_required
@require_POST
def article_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("kb.publish_article"):
        raise _denied()
    return _status_action(request, pk, "publish")


@login_required
@require_POST
def article_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _status_action(request, pk, "archive")


def _version(article: Article, raw: str | None) -> ArticleVersion | None:
    if not raw or not raw.isdigit() or len(raw) > 9:
        return None
    return article.versions.select_related("category").filter(number=int(raw)).first()


@login_required
@require_GET
def article_compare(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side (`?a=1&b=3`; by default the last two)."""
    article = _article(request, pk)
    numbers = list(article.versions.order_by("-number").values_list("number", flat=True)[:2])
    left = _version(article, request.GET.get("a") or (str(numbers[-1]) if numbers else None))
    right = _version(article, request.GET.get("b") or (str(numbers[0]) if numbers else None))
    context = {
        "article": article,
        "numbers": list(article.versions.order_by("-number").values_list("number", flat=True)),
        "left": left,
        "right": right,
        "can_change": access.can(request.user, article, "change"),
    }
    if left is None or right is None:
        context["error"] = _("Pick two versions of this article to compare.")
        return render(request, "kb/staff/article_compare.html", context, status=400)
    context["fields"] = compare.field_changes(left, right)
    context["rows"] = compare.body_rows(left.body, right.body)
    return render(request, "kb/staff/article_compare.html", context)


@login_required
@require_POST
def article_restore(request: AuthedHttpRequest, pk: int, number: int) -> HttpResponse:
    article = _article(request, pk, "change")
    version = get_object_or_404(article.versions.select_related("category"), number=number)
    try:
        services.article_restore(article=article, version=version, actor=request.user)
    except DomainError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(
            request, _("Version %(number)s restored as a new version.") % {"number": number}
        )
    return redirect("kb:article-detail", article.pk)


@login_required
@require_http_methods(["GET", "POST"])
def category_list(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    can_add = access.can_add(user, Category)
    form = CategoryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can_add:
            raise _denied()
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.category_create(
                    name_zh=data["name_zh"],
                    name=data["name"],
                    slug=data["slug"],
                    parent=data["parent"],
                    position=data["position"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Category added."))
                return redirect("kb:category-list")
        status = 422
    categories = (
        access.scoped(user, Category)
        .select_related("parent")
        .order_by("parent__position", "position", "name")
    )
    return render(
        request,
        "kb/staff/category_list.html",
        {
            "categories": selectors.category_tree(categories),
            "form": form,
            "can_add": can_add,
            "can_change": access.has_model_perm(user, Category, "change"),
        },
        status=status,
    )


def _category_page(
    request: AuthedHttpRequest, category: Category, form: CategoryForm, status: int = 200
) -> HttpResponse:
    template = "kb/staff/category_edit.html"
    if request.htmx and not request.htmx.boosted:
        template += "#articles"
    articles = access.scoped(request.user, Article).filter(
        pk__in=services.category_articles(category).values("pk")
    )
    return render(
        request,
        template,
        {
            "category": category,
            "form": form,
            "articles": articles.only(
                "title", "language", "status", "visibility", "is_faq", "position"
            ).order_by("language", "position", "title", "id"),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def category_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A category's names, slug, parent and position, and the order of its articles (up and
    down buttons per language, HTMX; plain forms without JS)."""
    category = access.get_for_user_or_404(
        request.user,
        Category,
        pk,
        action="change",
        queryset=Category.objects.select_related("parent"),
    )
    initial = {
        "name": category.name,
        "name_zh": category.name_zh,
        "slug": category.slug,
        "parent": category.parent_id,
        "position": category.position,
    }
    form = CategoryForm(request.POST or None, initial=initial, editing=category)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.category_update(
                    category=category,
                    name=data["name"],
                    name_zh=data["name_zh"],
                    slug=data["slug"],
                    parent=data["parent"],
                    position=data["position"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Category saved."))
                return redirect("kb:category-list")
        return _category_page(request, category, form, status=422)
    return _category_page(request, category, form)


@login_required
@require_POST
def article_move(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Move an article up or down in its category; answers the category's article list
    (HTMX) or goes back to the category page."""
    article = _article(request, pk, "change")
    try:
        services.article_move(
            article=article, direction=request.POST.get("direction", ""), actor=request.user
        )
    except DomainError as exc:
        if request.htmx:
            return HttpResponse(exc.message, status=422)
        messages.warning(request, exc.message)
        if article.category_id is None:
            return redirect("kb:article-detail", article.pk)
    category = article.category
    if category is None:  # no category to go back to
        return redirect("kb:article-detail", article.pk)
    if request.htmx:
        response = _category_page(request, category, CategoryForm())
        return response
    return redirect("kb:category-edit", category.pk)


@login_required
@require_GET
def panel_search(request: AuthedHttpRequest) -> HttpResponse:
    """The ticket panel's search results (internal articles too: agents read them)."""
    text = request.GET.get("q", "").strip()[:200]
    hits = selectors.staff_search(user=request.user, text=text, limit=8) if text else []
    return render(request, "kb/partials/panel_results.html", {"hits": hits, "q": text})


@login_required
@require_GET
def analytics_page(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Article):
        raise _denied()
    return render(request, "kb/staff/analytics.html", analytics.overview(request.GET.get("days")))
