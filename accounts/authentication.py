"""API authentication by personal token, its scopes, and the API's throttles."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, throttling
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.models import ApiToken, User
from accounts.tokens import token_authenticate

KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <token>` or `Authorization: Bearer <token>`.

    A read token is refused (403) for anything but GET, HEAD and OPTIONS, whatever the view's
    own permissions say: the scope is checked here, once, for every API view."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <token>.")
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if request.method not in SAFE_METHODS and not token.can_write:
            raise exceptions.PermissionDenied(
                _("This token may only read. Create a read and write token to make changes.")
            )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def _live_rate(scope: str | None) -> str | None:
    """DRF reads its rates once, when the class is defined; these read them per request, so a
    changed setting (or a test's override) applies."""
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope or "")
    return str(rate) if rate else None


class AnonThrottle(throttling.AnonRateThrottle):
    """Per address, for calls without valid credentials."""

    def get_rate(self) -> str | None:
        return _live_rate(self.scope)


class UserThrottle(throttling.UserRateThrottle):
    """Per user, whether by session or by any of their tokens."""

    def get_rate(self) -> str | None:
        return _live_rate(self.scope)


class TokenThrottle(throttling.SimpleRateThrottle):
    """Per token, so one script cannot use up its user's whole allowance."""

    scope = "token"

    def get_rate(self) -> str | None:
        return _live_rate(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
