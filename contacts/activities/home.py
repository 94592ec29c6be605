"""The signed-in user's home page: today's and overdue tasks, recent records, notifications,
and the cards other modules add (a rep's quarter and deals closing soon, leads to work, tickets).

Reads only, each bounded: one query per task section plus one count, one for the recent audit
entries, one per kind of record among them (at most RECENT_MODELS, each through the permission
layer, so a record the user may no longer see is not shown), one for notifications.

Other modules add cards by registering, never by editing this page (`AppConfig.ready()`)::

    home.register_home_panel(home.HomePanel(
        key="sales-quarter", title=_("My quarter"), url_name="sales:home-quarter", order=10,
        available=lambda user: user.has_perm("sales.add_opportunity"),
    ))

Each card is an htmx fragment the page loads after it is shown, from the module's own view: the
home's own queries stay bounded whatever is registered, and a slow module does not hold up the
page. The view answers a `<section class="card">` (see templates/activities/partials/
home_panel.html for the frame) and checks permissions itself, like any other URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from contacts.activities import notifications
from contacts.activities.collab_models import Notification
from contacts.activities.feed import visible_records
from contacts.activities.models import Task, TaskStatus
from crm.registry import Registry

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from accounts.models import User

SECTION = 10
RECENT = 8
RECENT_ENTRIES = 80
RECENT_MODELS = 5
RECENT_DAYS = 30
NOTIFICATIONS = 6


PANEL_REGIONS = ("main", "side")


@dataclass(frozen=True)
class HomePanel:
    """A card another module adds to the home page (see the module docstring)."""

    key: str
    title: _StrOrPromise
    url_name: str  # answers the card as an htmx fragment
    order: int = 100
    region: str = "main"  # "main" (beside the tasks) or "side" (beside the notifications)
    # Shown only to users for whom it holds (None: everyone signed in). No query: a permission
    # check answered from the cached role data.
    available: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if self.region not in PANEL_REGIONS:
            raise ValueError(f"home panel {self.key!r}: unknown region {self.region!r}")


home_panels: Registry[HomePanel] = Registry(
    "home panels", key=lambda p: p.key, order=lambda p: p.order
)


def register_home_panel(panel: HomePanel) -> HomePanel:
    return home_panels.register(panel)


def panel_response(
    request: HttpRequest, panel: HomePanel, template: str, context: Callable[[], dict[str, Any]]
) -> HttpResponse:
    """A card's fragment: 403 for a user the card is not for (before `context` reads anything),
    else `template` rendered with `panel` and what `context()` returns."""
    if panel.available is not None and not panel.available(request.user):
        raise PermissionDenied
    return render(request, template, {"panel": panel, **context()})


def panels_for(user: User) -> dict[str, list[HomePanel]]:
    """The cards `user` gets, by region, in order."""
    regions: dict[str, list[HomePanel]] = {region: [] for region in PANEL_REGIONS}
    for panel in home_panels:
        if panel.available is None or panel.available(user):
            regions[panel.region].append(panel)
    return regions


@dataclass(frozen=True)
class Home:
    overdue: list[Task]
    today: list[Task]
    counts: dict[str, int]
    recent: list[dict[str, Any]]
    notifications: list[Notification]
    unread: int
    panels: dict[str, list[HomePanel]]


def _day_end(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start + dt.timedelta(days=1)


def work_counts(*, user: User, now: dt.datetime | None = None) -> dict[str, int]:
    """The user's open tasks overdue and due later today (the user's day). One query over
    the index task_owner_status_due."""
    now = now or timezone.now()
    end = _day_end(now)
    counts = Task.objects.filter(owner=user, status=TaskStatus.OPEN, due_at__lt=end).aggregate(
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        today=Count("pk", filter=Q(due_at__gte=now)),
    )
    return {key: value or 0 for key, value in counts.items()}


def recent_records(*, user: User, limit: int = RECENT) -> list[dict[str, Any]]:
    """Records the user changed lately (their audit entries), newest first, each once, only
    those they may still see and that have a page."""
    from auditlog.models import LogEntry

    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    entries = (
        LogEntry.objects.filter(actor=user, timestamp__gte=since)
        .order_by("-timestamp")
        .values_list("content_type_id", "object_id", "timestamp")[:RECENT_ENTRIES]
    )
    order: dict[tuple[int, Any], dt.datetime] = {}
    for ct_id, pk, at in entries:
        order.setdefault((ct_id, pk), at)
    kinds = list(dict.fromkeys(ct_id for ct_id, _pk in order))[:RECENT_MODELS]
    found = visible_records(user, [key for key in order if key[0] in kinds])
    recent = []
    for key, at in order.items():
        obj = found.get(key)
        if obj is not None:
            recent.append({"obj": obj, "at": at, "kind": obj._meta.verbose_name})
            if len(recent) == limit:
                break
    return recent


def home(*, user: User, now: dt.datetime | None = None) -> Home:
    """Everything the home page shows, in bounded queries (see the module docstring)."""
    now = now or timezone.now()
    end = _day_end(now)
    mine = (
        Task.objects.filter(owner=user, status=TaskStatus.OPEN)
        .select_related("contact", "company", "owner")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )
    return Home(
        overdue=list(mine.filter(due_at__lt=now)[:SECTION]),
        today=list(mine.filter(due_at__gte=now, due_at__lt=end)[:SECTION]),
        counts=work_counts(user=user, now=now),
        recent=recent_records(user=user),
        notifications=notifications.inbox(user=user, limit=NOTIFICATIONS)[:NOTIFICATIONS],
        unread=notifications.unread_count(user=user),
        panels=panels_for(user),
    )
