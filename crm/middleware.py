"""Request checks made once, before any view runs, and the Permissions-Policy header."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
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
            if request.path.startswith("/api/"):
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
