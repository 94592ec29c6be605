"""Request checks made once, before any view runs, and the Permissions-Policy header."""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

NUL = "\x00"

# Browser features the CRM never uses; nothing it embeds may use them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "usb",
        "xr-spatial-tracking",
    )
)


def _has_nul(value: Any) -> bool:
    """True if a NUL is in any string of a decoded JSON value (keys included)."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _pairs_have_nul(pairs: Iterable[tuple[str, list[str]]]) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in pairs)


def request_has_nul(request: HttpRequest) -> bool:
    """Whether the path, a query-string key or value, a form field, or a string in a JSON body
    holds a NUL character. PostgreSQL cannot store NUL in text, so such input can only fail
    later, deeper and less clearly. Uploaded files are not read: they are data, not text."""
    if NUL in request.path or _pairs_have_nul(request.GET.lists()):
        return True
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return False
    content_type = request.content_type or ""
    if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        try:
            return _pairs_have_nul(request.POST.lists())
        except MultiPartParserError:
            return False  # the view's own parsing reports it
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return _has_nul(json.loads(request.body or b"null"))
        except ValueError:
            return False  # not JSON: the API answers 400 for it itself
    return False


# Machine endpoints: the API, support's chat webhook, inbound-mail webhooks (crm.mailin).
JSON_PREFIXES = ("/api/", "/support/webhooks/", "/inbound/")


def wants_json(request: HttpRequest) -> bool:
    """Whether an error for `request` should be JSON: a machine endpoint, or a client that
    accepts JSON and not HTML (the web-form embed's fetch)."""
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


class RejectNulMiddleware:
    """Answers 400 with a clear message, before any view, for input that contains NUL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            message = _(
                "The request contains a NUL character (\\0), which is not allowed in text. "
                "Remove it and try again."
            )
            if wants_json(request):
                return JsonResponse({"detail": message}, status=400)
            # An HTMX request gets only the message (htmx swaps 400s into its target).
            fragment = bool(request.headers.get("HX-Request"))
            template = "400.html#message" if fragment else "400.html"
            context = {"message": message, "fragment": fragment}
            return render(request, template, context, status=400)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends the Permissions-Policy header (Django has no setting for it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# --- Big inbound mail ---------------------------------------------------------------------------

INBOUND_PREFIX = "/inbound/"
_INBOUND_CHUNK = 1024 * 1024


class InboundBodyMiddleware:
    """Lets provider inbound-mail webhooks (anymail's views under /inbound/) carry messages up
    to CRM_INBOUND_MAX_BYTES, though Django refuses bodies and form fields over
    DATA_UPLOAD_MAX_MEMORY_SIZE everywhere else (kept: a 10 MB form post is an attack
    elsewhere). For such a POST, the body is read here (413 above the limit) and, for
    multipart forms (Mailgun's body-mime, SendGrid's raw email), parsed without the per-field
    limit; `request.body`, `.POST` and `.FILES` then answer from it. /inbound/raw/ reads its
    stream itself. Must come before anything that reads the body (RejectNulMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.path.startswith(INBOUND_PREFIX)
            and request.path != f"{INBOUND_PREFIX}raw/"
        ):
            refused = _read_inbound_body(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _read_inbound_body(request: HttpRequest) -> HttpResponse | None:
    limit = int(getattr(settings, "CRM_INBOUND_MAX_BYTES", 64 * 1024 * 1024))
    length = str(request.META.get("CONTENT_LENGTH") or "")
    if not length.isdigit() or int(length) <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
        return None  # Django's own reading serves it
    too_big = JsonResponse({"error": _("The message is too large.")}, status=413)
    if int(length) > limit:
        return too_big
    chunks: list[bytes] = []
    size = 0
    while chunk := request.read(_INBOUND_CHUNK):
        size += len(chunk)
        if size > limit:
            return too_big
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body
    request._stream = BytesIO(body)
    if request.content_type == "multipart/form-data":
        try:
            post, files = _parse_multipart(body, (request.content_params or {}).get("boundary", ""))
        except ValueError:
            return JsonResponse({"error": _("The form data could not be read.")}, status=400)
        request._post, request._files = post, files  # type: ignore[attr-defined]
    return None


def _parse_multipart(body: bytes, boundary: str) -> tuple[QueryDict, MultiValueDict]:
    """Fields and files of a multipart/form-data body (RFC 7578), with no size limit per field."""
    if not boundary:
        raise ValueError("no boundary")
    post = QueryDict(mutable=True)
    files: MultiValueDict = MultiValueDict()
    parser = email.parser.BytesHeaderParser(policy=email.policy.HTTP)
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, separator, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("a part without headers")
        headers = parser.parsebytes(head + b"\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = data.removesuffix(b"\r\n")
        filename = headers.get_filename()
        if filename:
            kind = headers.get_content_type()
            files.appendlist(name, SimpleUploadedFile(filename, data, kind))
        else:
            charset = headers.get_content_charset() or "utf-8"
            try:
                post.appendlist(name, data.decode(charset, "replace"))
            except LookupError:  # an unknown charset name
                post.appendlist(name, data.decode("utf-8", "replace"))
    post._mutable = False
    return post, files
