"""Typed requests, so views and helpers agree on what a request carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from accounts.models import User


class AuthedHttpRequest(HttpRequest):
    """A request behind `@login_required`, after HtmxMiddleware."""

    user: User
    htmx: HtmxDetails


class AuthedRequest(Request):
    """A REST framework request behind IsAuthenticated, the API's default permission."""

    user: User


def is_fragment_request(request: AuthedHttpRequest) -> bool:
    """True when HTMX asks for a region of the page rather than the whole page."""
    return bool(request.htmx) and not request.htmx.boosted
