"""The public web-to-lead form: /forms/<slug>/ (no sign-in), hosted or posted from another site.

- GET: the hosted page (HTML), or with `Accept: application/json` / `?format=json` the form's
  fields, labels and a fresh token for the embed script (`static/js/leadform_embed.js`).
- POST: form-encoded or JSON. A valid submission is written to PostgreSQL in the request
  (`services.lead_create`, source web form, UTM fields, consent wording/time/address) before
  anything is queued; assignment and notification follow through the outbox. Invalid input
  answers 422 with the errors (beside the fields on the hosted page, as JSON for the embed).
- CORS: a request with an `Origin` other than this site's must come from one of the form's
  allowed origins (answered with `Access-Control-Allow-Origin` for that origin); any other origin
  is refused (403) before anything is read. OPTIONS answers the browser's preflight.
- Tracking: a `visitor` value (the signed id `static/js/crm_track.js` keeps) links the new
  lead to that website visitor (`leads/tracking.py`). The embed sends it with the post; the
  hosted page gets it in its address (`?visitor=`: crm_track.js adds it to the site's links to
  this page) and carries it in a hidden field, so a hosted submission links the same way. A
  value that is not a valid signed id is dropped.
- Spam: honeypot (answered like a success, nothing written), time-to-submit and signed token,
  a per-address rate limit (429), a body size limit (413).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.lockout import client_address
from contacts.activities.tracking.services import VISITOR
from crm.errors import DomainError
from leads import services, tracking, webforms
from leads.models import LeadForm

log = logging.getLogger(__name__)

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Content-Type, Accept"
VISITOR_FIELD = "visitor"


def _origin_allowed(request: HttpRequest, form: LeadForm) -> tuple[bool, str]:
    """(allowed, the origin to echo in CORS headers or "" for a same-site request). The hosted
    page's own posts match by host (behind a TLS proxy the request's scheme may differ)."""
    origin = request.headers.get("Origin", "").strip().rstrip("/").lower()
    if not origin or urlsplit(origin).netloc == request.get_host().lower():
        return True, ""
    return origin in form.origins(), origin


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _wants_json(request: HttpRequest) -> bool:
    return (
        request.content_type == "application/json"
        or "application/json" in request.headers.get("Accept", "")
        or request.GET.get("format") == "json"
    )


def _json_body(request: HttpRequest) -> QueryDict | None:
    """The JSON object posted, as a QueryDict of strings; None when it is not one."""
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    out = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, bool):
            value = "on" if value else ""
        elif value is None:
            value = ""
        elif not isinstance(value, str | int | float):
            return None
        text = str(value)
        if "\x00" in text or "\x00" in str(key):
            return None
        out[str(key)[:100]] = text
    return out


def _error(request: HttpRequest, origin: str, message: str, status: int) -> HttpResponse:
    if _wants_json(request) or origin:
        return _cors(JsonResponse({"ok": False, "detail": message}, status=status), origin)
    return render(request, "400.html", {"message": message}, status=status)


def _page(
    request: HttpRequest,
    form: LeadForm,
    submission: webforms.SubmissionForm,
    status: int = 200,
    visitor: str = "",
) -> HttpResponse:
    context = {
        "lead_form": form,
        "form": submission,
        "title": webforms.title(form),
        "honeypot": submission[webforms.HONEYPOT],
        "hidden": [submission[webforms.TOKEN], *(submission[n] for n in webforms.UTM)],
        "visitor_field": VISITOR_FIELD,
        "visitor": visitor,
    }
    response = render(request, "leads/public_form.html", context, status=status)
    if form.redirect_url:
        # The browser enforces form-action on the redirect after the post too.
        target = urlsplit(form.redirect_url)
        response._csp_update = {"form-action": [f"{target.scheme}://{target.netloc}"]}  # type: ignore[attr-defined]
    return response


def _done(request: HttpRequest, form: LeadForm, origin: str) -> HttpResponse:
    message = webforms.thank_you(form)
    if _wants_json(request) or origin:
        body = {"ok": True, "message": message, "redirect": form.redirect_url}
        return _cors(JsonResponse(body, status=201), origin)
    if form.redirect_url:
        return redirect(form.redirect_url, permanent=False)
    return render(
        request,
        "leads/public_form_done.html",
        {"lead_form": form, "title": webforms.title(form), "message": message},
    )


@csrf_exempt  # posted from other sites by design; the token and origin checks stand in
@require_http_methods(["GET", "POST", "OPTIONS"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    form = LeadForm.objects.filter(slug=slug[:60], active=True).select_related("owner").first()
    if form is None:
        raise Http404
    allowed, origin = _origin_allowed(request, form)
    if not allowed:
        return _error(request, "", _("This site may not use this form."), 403)
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response["Access-Control-Max-Age"] = "600"
        return _cors(response, origin)
    if request.method == "GET":
        initial = {webforms.TOKEN: webforms.issue_token(form)}
        initial.update({n: request.GET.get(n, "")[:100] for n in webforms.UTM})
        submission = webforms.SubmissionForm(lead_form=form, initial=initial)
        if _wants_json(request):
            body = {
                "title": webforms.title(form),
                "fields": submission.describe(),
                "token": initial[webforms.TOKEN],
                "token_field": webforms.TOKEN,
                "honeypot": webforms.HONEYPOT,
                "submit": _("Send"),
                "failed": _("The form could not be sent. Please try again."),
            }
            return _cors(JsonResponse(body), origin)
        return _page(request, form, submission, visitor=_visitor_value(request.GET))
    return _submit(request, form, origin)


def _visitor_value(data: QueryDict) -> str:
    """The signed visitor id in `data` when it is a valid one, else ""."""
    value = str(data.get(VISITOR_FIELD, "") or "")[:200]
    return value if VISITOR.parse(value) is not None else ""


def _submit(request: HttpRequest, form: LeadForm, origin: str) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > webforms.MAX_BODY:
        return _error(request, origin, _("The submission is too large."), 413)
    ip = client_address(request)
    if webforms.over_rate_limit(ip):
        message = _("Too many submissions. Please try again in a minute.")
        return _error(request, origin, message, 429)
    if request.content_type == "application/json":
        data = _json_body(request)
        if data is None:
            return _error(request, origin, _("Send the form's fields as a JSON object."), 400)
    else:
        data = request.POST
    submission = webforms.SubmissionForm(data, lead_form=form)
    if submission.is_spam():
        log.info("leads: honeypot filled on form %s from %s", form.slug, ip)
        return _done(request, form, origin)  # a bot learns nothing
    if submission.is_valid():
        page = origin or request.headers.get("Referer", "")
        try:
            lead = services.lead_create(data=submission.lead_input(ip=ip, page=page), actor=None)
        except DomainError as exc:
            submission.add_error(exc.field if exc.field in submission.fields else None, exc.message)
        else:
            # The tracking script's visitor id (leadform_embed.js sends it along): the lead's
            # page views on the site, before and after, count for scoring.
            visitor = VISITOR.parse(str(data.get(VISITOR_FIELD, "") or ""))
            if visitor is not None:
                tracking.visitor_link(lead=lead, visitor=visitor)
            return _done(request, form, origin)
    if _wants_json(request) or origin:
        errors = {k: [str(m) for m in v] for k, v in submission.errors.items()}
        body: dict[str, Any] = {"ok": False, "errors": errors}
        if webforms.TOKEN in submission.data or "__all__" in errors:
            body["token"] = webforms.issue_token(form)
        return _cors(JsonResponse(body, status=422), origin)
    fresh = data.copy()
    fresh[webforms.TOKEN] = webforms.issue_token(form)  # a fresh one for the retry
    submission.data = fresh
    return _page(request, form, submission, status=422, visitor=_visitor_value(data))
