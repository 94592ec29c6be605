"""crm.visitors: the signed anonymous visitor cookie shared by the help centre and support's
public request form."""

from __future__ import annotations

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from crm.visitors import VisitorCookie

COOKIE = VisitorCookie("t_visitor", salt="tests.visitor", max_age=60)


def test_a_new_visitor_keeps_the_id_it_was_given_and_forgeries_are_new_visitors() -> None:
    factory = RequestFactory()
    first, new = COOKIE.read(factory.get("/"))
    assert new
    response = COOKIE.remember(factory.get("/"), HttpResponse(), first, new=True)
    morsel = response.cookies["t_visitor"]
    assert morsel["httponly"]
    assert morsel["samesite"] == "Lax"
    assert morsel["max-age"] == 60

    again = factory.get("/")
    again.COOKIES["t_visitor"] = morsel.value
    assert COOKIE.read(again) == (first, False)
    assert not COOKIE.remember(again, HttpResponse(), first, new=False).cookies

    for forged in ("not-signed", morsel.value + "x", "\x00", "é" * 5000):
        request = factory.get("/")
        request.COOKIES["t_visitor"] = forged
        visitor, new = COOKIE.read(request)
        assert new
        assert visitor != first
    # Another salt (another feature's cookie) does not pass for this one.
    other = VisitorCookie("t_visitor", salt="tests.other", max_age=60)
    assert other.read(again)[1]


@pytest.mark.django_db
def test_a_first_time_visitor_opening_a_suggestion_is_recorded_under_its_cookie(client) -> None:
    from support import public_views
    from support.models import SuggestionClick

    link = signing.dumps({"u": "/kb/a/x/", "t": "X"}, salt=public_views.SUGGESTION_SALT)
    opened = client.get(reverse("support_public:request-suggestion"), {"s": link})
    assert opened.status_code == 302
    request = RequestFactory().get("/")
    request.COOKIES[public_views.VISITOR_COOKIE] = opened.cookies[public_views.VISITOR_COOKIE].value
    visitor, new = public_views.VISITOR.read(request)
    assert not new
    assert SuggestionClick.objects.get().visitor == visitor  # the one the cookie keeps
