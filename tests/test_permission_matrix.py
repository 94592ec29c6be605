"""The permission matrix: every URL of the URL conf, every role, own, team's and others' records.

Nothing here lists URLs: they come from the URL conf, what each needs from the declarations in
`tests/matrix.py` and `tests/<app>/matrix.py`, and the expected answers from the roles' declared
grants and scopes. A URL nobody declared fails with what to declare; so does a view that lets
the wrong user in, or that answers 403 where a 404 must hide a record.

Each request runs in a savepoint that is rolled back, so an allowed write does not change what
the next case sees; a refused write must change nothing (audit entries and records counted).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, include, path, reverse
from rest_framework.views import APIView

from accounts import access
from accounts.api import ScopedViewSetMixin
from accounts.models import User
from contacts.models import Contact
from tests import matrix
from tests.conftest import login_verified

matrix.discover()

CAST = (
    "admin_user", "manager", "rep", "rep_teammate", "rep_other_team", "agent", "marketer",
    "read_only", "no_role",
)  # fmt: skip
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ALL_URLS = matrix.urls()
CHECKED = [u for u in ALL_URLS if not matrix.is_public(u)]

pytestmark = pytest.mark.django_db


def _api_view(url: matrix.Url) -> type[APIView] | None:
    cls = getattr(url.callback, "cls", None)
    return cls if isinstance(cls, type) and issubclass(cls, APIView) else None


class Undeclared(Exception):
    """The matrix cannot classify or fill a URL; the message says what to declare."""


def classify(url: matrix.Url) -> matrix.Route:
    """The URL's declaration, or the one its ScopedViewSetMixin viewset implies."""
    if url.name in matrix.ROUTES:
        return matrix.ROUTES[url.name]
    cls = _api_view(url)
    if cls is not None and issubclass(cls, ScopedViewSetMixin):
        actions: dict[str, str] = getattr(url.callback, "actions", {}) or {}
        detail = "pk" in url.kwargs
        by_action = {
            "list": "login", "create": "add", "retrieve": "view", "update": "change",
            "partial_update": "change", "destroy": "delete",
        }  # fmt: skip
        checks = {m.upper(): by_action.get(a, "?") for m, a in actions.items()}
        if "?" in checks.values() or (detail and checks.get("GET") != "view"):
            raise Undeclared(f"extra viewset actions {actions}: declare the URL with matrix.route")
        return matrix.Route(cls.scoped_model, checks)
    raise Undeclared(
        "unknown to the permission matrix. Declare what it needs in tests/<app>/matrix.py, "
        f"e.g. matrix.route({url.name!r}, Model, get='view', post='change'), or list it as "
        "public in tests/matrix.py; an API viewset can use accounts.api.ScopedViewSetMixin."
    )


def _make_cast(request: pytest.FixtureRequest) -> dict[str, User]:
    return {name: request.getfixturevalue(name) for name in CAST}


def _records(model: type[Model], cast: dict[str, User]) -> dict[str, Model]:
    spec = matrix.MODELS.get(model)
    if spec is None:
        raise Undeclared(
            f"cannot make a {model.__name__}: declare matrix.records({model.__name__}, "
            "make=lambda owner, admin: ...) in tests/<app>/matrix.py"
        )
    admin = cast["admin_user"]
    return {name: spec.make(user, admin) for name, user in cast.items()}


def _cases(cast: dict[str, User], records: dict[str, Model] | None) -> list[tuple[str, str]]:
    """(user name, owner name of the record) pairs: own, a team-mate's, another team's."""
    if records is None:
        return [("anonymous", "")] + [(name, "") for name in cast]
    cases = [("anonymous", "rep")]
    for name, user in cast.items():
        cases.append((name, name))
        mates = [
            n for n, u in cast.items() if n != name and user.team_id and u.team_id == user.team_id
        ]
        if mates:
            cases.append((name, mates[0]))
        cases.append((name, "rep" if name == "rep_other_team" else "rep_other_team"))
    return cases


def _path(url: matrix.Url, route: matrix.Route, record: Model | None) -> str:
    values = {**matrix.KWARGS, **route.kwargs}
    kwargs: dict[str, Any] = {}
    for name in url.kwargs:
        if name == "pk" and record is not None and route.data is None:
            kwargs[name] = record.pk
        elif name in values:
            kwargs[name] = values[name]
        else:
            raise Undeclared(
                f"cannot fill URL kwarg {name!r}: add kwargs={{{name!r}: ...}} to "
                f"matrix.route({url.name!r}, ...)"
            )
    try:
        return reverse(url.name or "", kwargs=kwargs)
    except NoReverseMatch as exc:
        raise Undeclared(f"cannot be reversed with {kwargs}: name it and declare it") from exc


def _fingerprint(models: list[type[Model]]) -> tuple[Any, ...]:
    """Audit entries, and each watched table's row count and latest change, in one query."""
    parts = ["(SELECT count(*) FROM auditlog_logentry)"]
    for model in models:
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"(SELECT count(*) FROM {table})")  # noqa: S608 (table names, not input)
        if any(f.name == "updated_at" for f in model._meta.fields):
            parts.append(f"(SELECT max(updated_at) FROM {table})")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone() or ())


def _observe(response: HttpResponse, api: bool) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308) or (status == 204 and "HX-Redirect" in response):
        location = response.get("Location") or response.get("HX-Redirect", "")
        if location.startswith(resolve_url(settings.LOGIN_URL)):
            return "login redirect"
        storage = getattr(response.wsgi_request, "_messages", None)
        queued = getattr(storage, "_queued_messages", [])
        if any(m.level >= messages.WARNING for m in queued):
            return "redirect with a warning"
        return f"redirect {status}"
    return str(status)


def _matches(outcome: str, observed: str, method: str, api: bool) -> bool:
    ok_codes = {str(c) for c in range(200, 300)}
    if outcome == matrix.LOGIN:
        return observed in ({"401", "403"} if api else {"login redirect"}) or observed == "405"
    if outcome == matrix.HIDDEN:
        return observed == "404"
    if outcome == matrix.FORBIDDEN:
        return observed in {"403", "redirect with a warning"}
    if outcome == matrix.DENIED:
        return observed in {"403", "404", "redirect with a warning"}
    if outcome == matrix.NO_METHOD:
        return observed == "405"
    allowed = observed in ok_codes or (
        observed.startswith("redirect") and observed != "redirect with a warning"
    )
    # The matrix posts no meaningful input: a form or serializer error, or a business rule's
    # refusal shown as a message, is the door letting the user in.
    refusals = {"400", "422", "redirect with a warning"}
    return allowed or (method in WRITES and observed in refusals)


def _login(user: User) -> Client:
    # Two-factor sign-in is tested on its own (tests/accounts/test_twofactor.py); here every
    # user has passed it, so the administrator's pages are reached.
    return login_verified(Client(), user)


def _send(client: Client, method: str, path: str, body: dict[str, Any], api: bool) -> HttpResponse:
    if method == "GET":
        return client.get(path)
    if method == "POST" and not api:
        return client.post(path, body)
    return client.generic(method, path, json.dumps(body), content_type="application/json")


@pytest.fixture(autouse=True)
def _no_api_throttling(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": dict.fromkeys(
            settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        ),
    }


def _key(user: User | None, owner: User | None) -> tuple[Any, ...]:
    """What decides a case: the user's roles, and whose record it is to them."""
    if user is None:
        return ("anonymous",)
    roles = getattr(user, "_matrix_roles", None)
    if roles is None:
        roles = frozenset(g.name for g in user.groups.all())
        user._matrix_roles = roles  # type: ignore[attr-defined]
    if owner is None:
        relation = ""
    elif owner.pk == user.pk:
        relation = "own"
    elif user.team_id and owner.team_id == user.team_id:
        relation = "team"
    else:
        relation = "other"
    return (roles, user.is_superuser, relation)


class World:
    """The role cast, their records, a signed-in client each (made once for every URL)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.cast = _make_cast(request)
        self.records: dict[type[Model], dict[str, Model]] = {}
        self.clients: dict[str, Client] = {"anonymous": Client()}
        self.keys = {name: _key(user, None) for name, user in self.cast.items()}
        # Every declared model's records exist from the start, so that every list, search and
        # fragment is checked for links to records its user may not see.
        for model in matrix.MODELS:
            self.records_of(model)
        self._hidden: dict[int, dict[str, str]] = {}

    def hidden_links(self, user: User) -> dict[str, str]:
        """Detail URLs of the records `user` may not see -> which record it is."""
        if user.pk not in self._hidden:
            self._hidden[user.pk] = {
                obj.get_absolute_url(): f"{model.__name__} of {owner}"
                for model, by_owner in self.records.items()
                for owner, obj in by_owner.items()
                if hasattr(obj, "get_absolute_url") and not matrix.may(user, obj, "view")
            }
        return self._hidden[user.pk]

    def hidden_ids(self, user: User, model: type[Model]) -> set[Any]:
        return {
            obj.pk
            for obj in self.records.get(model, {}).values()
            if not matrix.may(user, obj, "view")
        }

    def records_of(self, model: type[Model]) -> dict[str, Model]:
        if model not in self.records:
            self.records[model] = _records(model, self.cast)
        return self.records[model]

    def client(self, name: str) -> Client:
        if name not in self.clients:
            self.clients[name] = _login(self.cast[name])
        return self.clients[name]

    def relogin_if_signed_out(self, name: str) -> None:
        """A write that rotated the session (rolled back with the savepoint) left the client
        with a session key that no longer exists."""
        client = self.clients.get(name)
        if name != "anonymous" and client is not None:
            key = client.cookies.get(settings.SESSION_COOKIE_NAME)
            if key is None or not client.session.exists(key.value):
                self.clients[name] = _login(self.cast[name])


def check_url(world: World, url: matrix.Url, *, light: bool = False) -> list[str]:
    """Every case of one URL; returns what went wrong. `light`: the same view under another
    pattern (an API format suffix) was checked in full: anonymous and a rep's cases only."""
    route = classify(url)
    api = _api_view(url) is not None
    records = world.records_of(route.model) if route.model and route.needs_record() else None
    watched = list(matrix.MODELS)
    wrong: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    for user_name, owner_name in _cases(world.cast, records):
        user = world.cast.get(user_name)
        record = records[owner_name] if records is not None else None
        key = _key(user, world.cast.get(owner_name))
        if key in seen or (light and user_name not in ("anonymous", "rep")):
            continue  # e.g. rep_teammate: the same role and relations as rep
        seen.add(key)
        path = _path(url, route, record)
        body = route.data(record) if route.data and record is not None else {}
        probes = [(method, "", route.checks.get(method)) for method in METHODS]
        for variant, check in route.variants.items():
            method, query = variant.split(" ", 1)
            probes.append((method, query, check))
        for method, query, check in probes:
            declared = check is not None
            if not declared and not api and method not in ("GET", "POST"):
                continue  # HTML views: undeclared PUT/PATCH/DELETE need no 405 check
            if not declared and (user_name != "admin_user" or owner_name not in ("", "admin_user")):
                continue  # a 405 is the method's, not the user's: checked once
            outcome = matrix.expected(route, check, user, record)
            refused = outcome not in (matrix.ALLOW, matrix.NO_METHOD)
            before = _fingerprint(watched) if method in WRITES and refused else None
            client = world.client(user_name)
            with transaction.atomic():
                response = _send(client, method, path + query, body, api)
                observed = _observe(response, api)
                changed = before is not None and _fingerprint(watched) != before
                transaction.set_rollback(True)
            if method in WRITES:
                world.relogin_if_signed_out(user_name)
            relation = f" on {owner_name}'s record" if record is not None else ""
            case = f"{method} {path}{query} as {user_name}{relation}"
            if not _matches(outcome, observed, method, api):
                wrong.append(f"{case}: expected {outcome}, got {observed}")
            elif changed:
                wrong.append(f"{case}: refused but wrote")
            elif user is not None and method == "GET" and observed == "200":
                for leak in _leaks(world, user, route, response, api):
                    wrong.append(f"{case}: shows {leak}")
    return wrong


def _leaks(
    world: World, user: User, route: matrix.Route, response: HttpResponse, api: bool
) -> list[str]:
    """Records the user may not see that an allowed page or API list still shows: their detail
    links in HTML, their ids in an API list."""
    content_type = response.get("Content-Type", "")
    if getattr(response, "streaming", False):
        return []
    if api and route.model is not None and content_type.startswith("application/json"):
        results = json.loads(response.content).get("results")
        if not isinstance(results, list):
            return []
        hidden = world.hidden_ids(user, route.model)
        ids = {row.get("id") for row in results if isinstance(row, dict)}
        return [f"{route.model.__name__} #{pk}, which it may not see" for pk in ids & hidden]
    if not content_type.startswith("text/html"):
        return []
    text = response.content.decode()
    return [
        f"a link to {what}, which it may not see"
        for url, what in world.hidden_links(user).items()
        if f'"{url}"' in text
    ]


def test_every_url_gives_every_role_what_the_declarations_say(request: pytest.FixtureRequest):
    """One test for all URLs, so the cast, their records and their sign-ins are made once."""
    world = World(request)
    problems: list[str] = []
    views_checked: set[tuple[str | None, Any]] = set()
    for url in CHECKED:
        view = (url.name, getattr(url.callback, "cls", url.callback))
        try:
            wrong = check_url(world, url, light=view in views_checked)
            views_checked.add(view)
        except Undeclared as exc:
            wrong = [str(exc)]
        if wrong:
            lines = "\n    ".join(wrong)
            problems.append(f"{url.name or '(unnamed)'} ({url.route}):\n    {lines}")
    assert not problems, f"{len(problems)} of {len(CHECKED)} URLs:\n" + "\n".join(problems)


def test_every_url_is_checked_or_declared_public():
    """The walk finds the URL conf's patterns (a guard against a walk that finds nothing)."""
    names = {u.name for u in ALL_URLS}
    assert {"contacts:contact-detail", "contacts:contact-edit", "accounts:login"} <= names
    assert any(matrix.is_public(u) for u in ALL_URLS)
    assert len(CHECKED) >= 20


# --- the matrix itself catches what it is for -----------------------------------------------------


@login_required
def _leaky_contact(request: HttpRequest, pk: int) -> HttpResponse:
    contact = Contact.objects.get(pk=pk)  # the bug the matrix is for: no door
    return HttpResponse(contact.display_name)


@login_required
def _writes_then_refuses(request: HttpRequest, pk: int) -> HttpResponse:
    contact = access.get_for_user_or_404(request.user, Contact, pk)
    if request.method == "POST":
        contact.job_title = "Written"
        contact.save(update_fields=["job_title", "updated_at"])
        if not access.can(request.user, contact, "change"):
            raise PermissionDenied
    return HttpResponse("ok")


@login_required
def _leaky_list(request: HttpRequest) -> HttpResponse:
    links = "".join(f'<a href="{c.get_absolute_url()}">{c}</a>' for c in Contact.objects.all())
    return HttpResponse(f"<ul>{links}</ul>", content_type="text/html; charset=utf-8")


def _undeclared(request: HttpRequest) -> HttpResponse:
    return HttpResponse("who checks me?")


urlpatterns = [
    path("leaky/<int:pk>/", _leaky_contact, name="leaky-contact"),
    path("writes/<int:pk>/", _writes_then_refuses, name="writes-then-refuses"),
    path("leaky-list/", _leaky_list, name="leaky-list"),
    path("undeclared/", _undeclared, name="undeclared"),
    path("", include("crm.urls")),
]


@pytest.mark.urls("tests.test_permission_matrix")
def test_the_matrix_fails_a_view_without_a_check(request: pytest.FixtureRequest):
    matrix.route("leaky-contact", Contact, get="view")
    matrix.route("writes-then-refuses", Contact, get="view", post="change")
    matrix.route("leaky-list", get="login")
    try:
        world = World(request)
        found = {u.name: u for u in matrix.urls()}
        leaky = check_url(world, found["leaky-contact"])
        writes = check_url(world, found["writes-then-refuses"])
        listed = check_url(world, found["leaky-list"])
    finally:
        for name in ("leaky-contact", "writes-then-refuses", "leaky-list"):
            del matrix.ROUTES[name]
    assert any(
        "as rep on rep_other_team's record: expected hidden (404), got 200" in line
        for line in leaky
    ), leaky
    assert any("as read_only on read_only's record: refused but wrote" in line for line in writes)
    assert any(
        "as rep: shows a link to Contact of rep_other_team, which it may not see" in line
        for line in listed
    ), listed
    with pytest.raises(Undeclared, match=r"matrix\.route\('undeclared'"):
        check_url(world, found["undeclared"])
