"""A signed, anonymous visitor id in a cookie, for public pages that count what one visitor did
(the help centre's votes, support's deflected requests) without an account.

    VISITOR = VisitorCookie("kb_visitor", salt="kb.visitor", max_age=365 * 24 * 3600)
    visitor, new = VISITOR.read(request)
    ...
    VISITOR.remember(request, response, visitor, new=new)

A missing, forged or garbled cookie reads as a new random id (never an error)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class VisitorCookie:
    name: str
    salt: str
    max_age: int

    def read(self, request: HttpRequest) -> tuple[uuid.UUID, bool]:
        """The visitor's id and whether it is new (no valid cookie yet)."""
        visitor = self.parse(request.COOKIES.get(self.name, ""))
        return (visitor, False) if visitor is not None else (uuid.uuid4(), True)

    def parse(self, raw: str) -> uuid.UUID | None:
        """The id in a signed value (a cookie's, or one a script kept and sent back); None when
        missing, forged or garbled."""
        try:
            return uuid.UUID(signing.loads(raw[:200], salt=self.salt))
        except (signing.BadSignature, ValueError, TypeError):
            return None

    def value(self, visitor: uuid.UUID) -> str:
        """The signed value for `visitor` (what the cookie holds)."""
        return signing.dumps(str(visitor), salt=self.salt)

    def remember(
        self, request: HttpRequest, response: HttpResponse, visitor: uuid.UUID, *, new: bool
    ) -> HttpResponse:
        """Set the cookie on `response` when the id is new (the same id the caller used)."""
        if new:
            response.set_cookie(
                self.name,
                self.value(visitor),
                max_age=self.max_age,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
