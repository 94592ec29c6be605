"""The public "submit a request" page at /support/request/ (no sign-in).

Abuse checks, cheapest first: the request's size (413), a per-address rate limit in the cache
(429; fail-open: with Redis down every request is let through, the other checks still apply), a
honeypot field and a signed "form shown at" time (a bot posting at once or replaying an old form
gets 400). Then the form's checks (lengths, NUL bytes, attachments by size, count, extension and
content), and the request is written to PostgreSQL in this request (`intake.ticket_from_web`)
before the confirmation email is queued. As the customer types the subject an HTMX fragment shows
article suggestions (`support.plugins.suggest(..., public=True)`); opening one is recorded and
counts as a deflection until the same visitor submits a request.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.lockout import client_address
from crm.errors import DomainError
from crm.visitors import VisitorCookie
from support import intake, plugins, surveys
from support.models import SurveyRating, Ticket

MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_REQUEST_BYTES = 12 * 1024 * 1024
MIN_SECONDS = 3  # a person takes longer than this to fill the form in
FORM_MAX_AGE = 24 * 3600
SUGGEST_RATE = (60, 60)  # suggestion lookups per address per minute
STARTED_SALT = "support.request.started"
DONE_SALT = "support.request.done"
SUGGESTION_SALT = "support.request.suggestion"
VISITOR_COOKIE = "support_visitor"
VISITOR = VisitorCookie(VISITOR_COOKIE, salt="support.request.visitor", max_age=30 * 24 * 3600)
# Extension -> the bytes a file of that type starts with ("" = text: no NUL byte allowed).
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".zip": (b"PK\x03\x04",),
    ".txt": (),
    ".csv": (),
    ".log": (),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _check_file(upload: UploadedFile) -> None:
    name = upload.name or ""
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_TYPES:
        raise forms.ValidationError(
            _("%(name)s: this type of file cannot be attached."), params={"name": name}
        )
    if (upload.size or 0) > MAX_FILE_BYTES:
        raise forms.ValidationError(
            _("%(name)s is larger than %(limit)s MB."),
            params={"name": name, "limit": MAX_FILE_BYTES // (1024 * 1024)},
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    signatures = ALLOWED_TYPES[suffix]
    looks_right = head.startswith(signatures) if signatures else b"\x00" not in head
    if not looks_right:
        raise forms.ValidationError(
            _("%(name)s does not look like a %(type)s file."),
            params={"name": name, "type": suffix.lstrip(".").upper()},
        )
    upload.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"


class RequestForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("How can we help?"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 6})
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Up to 5 files of 5 MB each: PDF, images, text, Word, Excel or ZIP."),
    )
    # Honeypot: hidden from people; bots fill every field in.
    # Named so that browsers do not autofill it (they would fill "website" or "url").
    leave_empty = forms.CharField(required=False, label=_("Leave this empty"))
    started = forms.CharField(widget=forms.HiddenInput)

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Attach at most %(count)s files."), params={"count": MAX_FILES}
            )
        for upload in files:
            _check_file(upload)
        return files


class Refused(Exception):
    """A submission turned away before the form is read (status and the message shown)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _started_token() -> str:
    return signing.dumps(time.time(), salt=STARTED_SALT)


def _check_started(token: str) -> None:
    try:
        started = float(signing.loads(token, salt=STARTED_SALT, max_age=FORM_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise Refused(
            400, str(_("This form has expired. Please check your request and send it again."))
        ) from exc
    if time.time() - started > FORM_MAX_AGE:
        raise Refused(
            400, str(_("This form has expired. Please check your request and send it again."))
        )
    if time.time() - started < MIN_SECONDS:
        raise Refused(
            400, str(_("That was very fast. Please check your request and send it again."))
        )


def over_limit(request: HttpRequest, scope: str, limit: int, window: int) -> bool:
    """Count this request against the client address's budget for `scope`; True when over.
    Fail-open: when the cache cannot count (Redis down), nobody is limited."""
    bucket = int(time.time() // window)
    key = f"support:rate:{scope}:{client_address(request)}:{bucket}"
    cache.add(key, 0, window + 5)
    try:
        count = cache.incr(key)
    except ValueError:
        return False
    return count > limit


def _with_visitor(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    visitor, new = VISITOR.read(request)
    return VISITOR.remember(request, response, visitor, new=new)


def _kb_language() -> str:
    return "zh-hans" if (get_language() or "").lower().startswith("zh") else "en"


def _page(
    request: HttpRequest, form: RequestForm, *, status: int = 200, refused: str = ""
) -> HttpResponse:
    # A form shown again keeps offering the articles for the subject typed.
    subject = str(form.data.get("subject", "")).strip()[:200] if form.is_bound else ""
    response = render(
        request,
        "support/public/request.html",
        {"form": form, "refused": refused, "suggestions": _suggestions(request, subject)},
        status=status,
    )
    return _with_visitor(request, response)


@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, RequestForm(initial={"started": _started_token()}))
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
        form = RequestForm(initial={"started": _started_token()})
        return _page(
            request,
            form,
            status=413,
            refused=str(_("Your request is too large. Attach smaller files.")),
        )
    data = request.POST.copy()
    data["started"] = _started_token()  # the re-shown form starts a new clock
    try:
        limit, window = settings.SUPPORT_REQUEST_RATE
        if over_limit(request, "request", limit, window):
            raise Refused(
                429, str(_("Too many requests from your network. Please try again later."))
            )
        if request.POST.get("leave_empty"):
            raise Refused(400, str(_("Your request could not be sent.")))
        _check_started(request.POST.get("started", ""))
    except Refused as refused:
        shown = RequestForm(data)
        shown.errors.clear()  # show what they typed; the refusal is the message
        return _page(request, shown, status=refused.status, refused=refused.message)
    form = RequestForm(request.POST, request.FILES)
    if not form.is_valid():
        form.data = data
        return _page(request, form, status=400)
    visitor, _new = VISITOR.read(request)
    try:
        ticket = intake.ticket_from_web(
            data=intake.WebRequest(
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                files=form.cleaned_data["attachments"],
                language=get_language() or settings.LANGUAGE_CODE,
                visitor=visitor,
            )
        )
    except DomainError as exc:
        form.data = data
        form.add_error(None, exc.message)
        return _page(request, form, status=400)
    token = signing.dumps(ticket.pk, salt=DONE_SALT)
    return redirect("support_public:request-done", token=token)


@require_GET
def request_done(request: HttpRequest, token: str) -> HttpResponse:
    try:
        pk = int(signing.loads(token, salt=DONE_SALT, max_age=FORM_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return render(request, "support/public/done.html", {"expired": True}, status=404)
    ticket = Ticket.objects.select_related("requester").filter(pk=pk).first()
    if ticket is None:
        return render(request, "support/public/done.html", {"expired": True}, status=404)
    return render(request, "support/public/done.html", {"ticket": ticket})


@require_GET
@vary_on_headers("HX-Request")
def request_suggestions(request: HttpRequest) -> HttpResponse:
    """The suggestions fragment for what the customer typed as the subject."""
    text = request.GET.get("subject", "").replace("\x00", "").strip()[:200]
    return render(
        request,
        "support/public/request.html#suggestions",
        {"suggestions": _suggestions(request, text), "query": text},
    )


def _suggestions(request: HttpRequest, text: str) -> list[dict[str, str]]:
    """Articles for `text`, each linked through `request_suggestion_open` (which records it)."""
    suggestions: list[dict[str, str]] = []
    if len(text) < 3 or over_limit(request, "suggest", *SUGGEST_RATE):
        return suggestions
    language = _kb_language()
    for found in plugins.suggest(text, language=language, limit=5, public=True):
        token = signing.dumps(
            {"u": found.url, "t": found.title, "a": found.article_id, "q": text, "l": language},
            salt=SUGGESTION_SALT,
            compress=True,
        )
        open_url = reverse("support_public:request-suggestion") + f"?s={token}"
        suggestions.append({"title": found.title, "snippet": found.snippet, "url": open_url})
    return suggestions


@require_GET
def request_suggestion_open(request: HttpRequest) -> HttpResponse:
    """Record that the visitor opened a suggestion, then go to the article."""
    try:
        found = signing.loads(request.GET.get("s", ""), salt=SUGGESTION_SALT, max_age=FORM_MAX_AGE)
        url = str(found["u"])
    except (signing.BadSignature, TypeError, ValueError, KeyError):
        return render(request, "support/public/done.html", {"expired": True}, status=400)
    # Signed by us from a suggester's answer; still, only a web address goes in a redirect.
    if not url.startswith(("/", "https://", "http://")) or url.startswith("//"):
        return render(request, "support/public/done.html", {"expired": True}, status=400)
    # The id recorded is the one the cookie keeps (a first-time visitor's new id included).
    visitor, new = VISITOR.read(request)
    article_id = found.get("a")
    intake.suggestion_click_record(
        visitor=visitor,
        title=str(found.get("t", "")),
        url=url,
        article_id=article_id if isinstance(article_id, int) else None,
        query=str(found.get("q", "")),
        language=str(found.get("l", "")),
    )
    return VISITOR.remember(request, HttpResponseRedirect(url), visitor, new=new)


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with our answer?"),
        choices=SurveyRating.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=surveys.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The satisfaction survey a solved ticket's requester is emailed (support/surveys.py):
    the signed link is the only key (forged or expired: 404); one answer is kept, a second is
    thanked and changes nothing; bad input is a 400 with the form's messages."""
    found = surveys.survey_from_token(token)
    template = "support/public/survey.html"
    if found is None:
        return render(request, template, {"expired": True}, status=404)
    if found.answered_at is not None:
        return render(request, template, {"survey": found, "answered": True})
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                found = surveys.survey_answer(
                    survey=found,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except DomainError:  # answered meanwhile: the first answer stays
                found.refresh_from_db()
            return render(request, template, {"survey": found, "answered": True})
        return render(request, template, {"survey": found, "form": form}, status=400)
    return render(request, template, {"survey": found, "form": form})
