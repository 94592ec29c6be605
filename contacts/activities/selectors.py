"""Reads of interactions and tasks, all through the permission layer.

Scoping (documented in docs/architecture.md), for a user with the role permission to view
interactions (tasks):

- a row linked to a contact or company is visible when one of them is ("a rep sees the
  interactions on the records they may see", whoever logged them); the row's own owner/team does
  not widen that, so a call a team-mate logged on another team's contact stays hidden;
- a row linked to neither (only to a later module's record, through the generic link) follows
  the owner/team rules of the row itself (its owner is who logged it) and explicit shares;
- a task is always visible to its assignee (its owner).

`interaction_scope()` / `task_scope()` are that rule as a queryset (every list and the API start
from them), `visible_row()` the same for one row already loaded. Changing also needs the row's
own owner/team rules: `access.can(user, row, "change")` (the services check both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from accounts.models import Scope
from contacts import timeline
from contacts.activities.models import Channel, Interaction, Task, TaskStatus
from contacts.models import Company, Contact
from crm import pagination

if TYPE_CHECKING:
    from accounts.models import User

    Record = Contact | Company

M = TypeVar("M", Interaction, Task)

# Rows of one record shown at once (newest first); the timeline pages further back.
RECORD_LIMIT = 20


def _may_view(user: User, model: type[Interaction] | type[Task]) -> bool:
    return access.has_model_perm(user, model, "view")


def _sees_all(user: User, model: type[Contact] | type[Company]) -> bool:
    """The role reaches every record of `model` (as `accounts.access` decides for owned ones)."""
    if user.is_superuser:
        return True
    return (
        access.has_model_perm(user, model, "view")
        and access.role_data(user).view_scope == Scope.ALL
    )


def _through_records(user: User, model: type[M]) -> QuerySet[M]:
    """Rows of `model` the user may see (see the module docstring). One query when evaluated:
    the linked-record checks are correlated EXISTS probes on the records' primary keys."""
    unlinked = Q(contact__isnull=True, company__isnull=True)
    if model is Task:
        unlinked |= Q(owner_id=user.pk)  # one's own tasks, whatever they are about
    own = access.scoped(user, model, "view").filter(unlinked)
    if not _may_view(user, model):
        return own  # explicit shares only
    if _sees_all(user, Contact) and _sees_all(user, Company):
        # Sees every contact and company: every linked row; own rules for the rest.
        return model._default_manager.filter(~unlinked) | own
    contacts = access.scoped(user, Contact, "view")
    companies = access.scoped(user, Company, "view")
    via = Q(Exists(contacts.filter(pk=OuterRef("contact_id")))) | Q(
        Exists(companies.filter(pk=OuterRef("company_id")))
    )
    return model._default_manager.filter(via) | own


def interaction_scope(*, user: User) -> QuerySet[Interaction]:
    """Every interaction the user may see (archived ones included)."""
    return _through_records(user, Interaction)


def task_scope(*, user: User) -> QuerySet[Task]:
    """Every task the user may see."""
    return _through_records(user, Task)


def visible_row(user: User, obj: Interaction | Task) -> bool:
    """`obj` is in the user's scope; no query (rules cached on the user, links selected)."""
    if (obj.contact_id is None and obj.company_id is None) or (
        isinstance(obj, Task) and obj.owner_id == user.pk
    ):
        return access.can(user, obj, "view")
    if not _may_view(user, type(obj)):
        return False
    return bool(
        (obj.contact is not None and access.can(user, obj.contact, "view"))
        or (obj.company is not None and access.can(user, obj.company, "view"))
    )


def _get(user: User, model: type[M], pk: Any, action: access.Action) -> M:
    try:
        obj = model._default_manager.select_related("contact", "company", "owner").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such record, or you do not have access to it.")) from exc
    if not visible_row(user, obj):
        raise Http404(_("No such record, or you do not have access to it."))
    if action != "view" and not access.can(user, obj, action):
        raise PermissionDenied(_("You may see this record but not change it."))
    return obj


def interaction_get(*, user: User, pk: Any, action: access.Action = "view") -> Interaction:
    """One interaction through the scope: invisible or missing is a 404, visible but not
    changeable (for `action="change"`) a 403. One query."""
    return _get(user, Interaction, pk, action)


def task_get(*, user: User, pk: Any, action: access.Action = "view") -> Task:
    """One task through the scope; as `interaction_get`."""
    return _get(user, Task, pk, action)


def _record_filter(record: Record) -> Q:
    return Q(contact=record) if isinstance(record, Contact) else Q(company=record)


def record_interactions(
    *, user: User, record: Record, limit: int = RECORD_LIMIT
) -> list[Interaction]:
    """The newest active interactions of a contact or company the caller fetched through
    `accounts.access` (so the user sees it, and with it all its interactions). A company's
    include its people's calls, which are linked to it when logged. One query."""
    if not _may_view(user, Interaction):
        return []
    qs = (
        Interaction.objects.filter(_record_filter(record), archived_at__isnull=True)
        .select_related("logged_by", "contact")
        .order_by("-occurred_at", "-id")
    )
    return list(qs[:limit])


def record_open_tasks(*, user: User, record: Record, limit: int = RECORD_LIMIT) -> list[Task]:
    """A record's open tasks, soonest due first (undated last). One query."""
    if not _may_view(user, Task):
        return []
    qs = (
        Task.objects.filter(_record_filter(record), status=TaskStatus.OPEN)
        .select_related("owner")
        .order_by(_soonest_first("due_at"), "id")
    )
    return list(qs[:limit])


def _soonest_first(field: str) -> OrderBy:
    return F(field).asc(nulls_last=True)


def assignable_users(*, user: User) -> QuerySet[User]:
    """Active users the user may assign a task to (`access.can_assign` for tasks): everyone with
    an all-records change scope, the team with a team scope, else only themselves."""
    from accounts.models import User as UserModel

    users = UserModel.objects.filter(is_active=True).order_by("first_name", "last_name", "email")
    if user.is_superuser:
        return users
    data = access.role_data(user)
    may_change = access.has_model_perm(user, Task, "change")
    if may_change and data.change_scope == Scope.ALL:
        return users
    if may_change and data.change_scope == Scope.TEAM and user.team_id:
        return users.filter(Q(team_id=user.team_id) | Q(pk=user.pk))
    return users.filter(pk=user.pk)


# --- My work ---------------------------------------------------------------------------------

# Rows per "My work" section on a page and per "more" fragment (the counts say how many exist).
MY_WORK_SIZE = 25
MY_WORK_SECTIONS = ("overdue", "today", "upcoming", "team")
# Sections that end with undated tasks (after the dated ones, by id).
_UNDATED_LAST = frozenset({"upcoming", "team"})
_UNDATED_CURSOR = "u."


@dataclass(frozen=True)
class MyWork:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    team: list[Task]
    counts: dict[str, int]
    show_team: bool
    next_cursors: dict[str, str | None]


def _day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the current day in the active time zone (the user's)."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def my_work_shows_team(user: User) -> bool:
    """ "My team's" is for those who oversee a team: a team, and a role that sees every record
    (managers). A rep's team scope shares records, not the team's to-do lists."""
    if not user.team_id or not _may_view(user, Task):
        return False
    return user.is_superuser or access.role_data(user).view_scope == Scope.ALL


def _section_tasks(user: User, key: str, now: dt.datetime) -> QuerySet[Task]:
    """A section's open tasks (unordered): the user's own, or their team's others (`team`)."""
    _start, end = _day_bounds(now)
    if key == "team":
        qs = Task.objects.filter(Q(team_id=user.team_id), status=TaskStatus.OPEN).exclude(
            owner=user
        )
    else:
        qs = Task.objects.filter(owner=user, status=TaskStatus.OPEN)
    if key == "overdue":
        qs = qs.filter(due_at__lt=now)
    elif key == "today":
        qs = qs.filter(due_at__gte=now, due_at__lt=end)
    elif key == "upcoming":
        qs = qs.filter(Q(due_at__gte=end) | Q(due_at__isnull=True))
    return qs.select_related("contact", "company", "owner")


def my_work_page(
    *,
    user: User,
    key: str,
    cursor: str | None = None,
    now: dt.datetime | None = None,
    size: int = MY_WORK_SIZE,
) -> pagination.Page[Task]:
    """One keyset page of a "My work" section, soonest due first, undated last (by id).

    The dated rows page with `crm.pagination.keyset_page` on (due_at, id) (ascending puts NULLs
    last, as the indexes task_owner_status_due / task_team_status_due store them, so the first
    page reads both in one query); once the dated rows are used up, an "u.<id>" cursor pages
    the undated ones by id. One query a page (two on the page where dated rows end). A
    tampered cursor gives the first page. Raises PermissionDenied for an unknown section or
    "team" for a user who is not shown it."""
    if key not in MY_WORK_SECTIONS or (key == "team" and not my_work_shows_team(user)):
        raise PermissionDenied
    qs = _section_tasks(user, key, now or timezone.now())
    undated = qs.filter(due_at__isnull=True).order_by("id")
    after = (cursor or "").removeprefix(_UNDATED_CURSOR)
    if cursor and cursor != after and key in _UNDATED_LAST:
        if not (after.isascii() and after.isdigit() and len(after) < 19):
            return my_work_page(user=user, key=key, now=now, size=size)  # tampered: first page
        last = int(after)
        rows = list(undated.filter(id__gt=last)[: size + 1])
        return pagination.Page(
            items=rows[:size],
            next_cursor=f"{_UNDATED_CURSOR}{rows[size - 1].pk}" if len(rows) > size else None,
            prev_cursor=None,
            is_first=False,
        )
    page = pagination.keyset_page(qs, ordering=["due_at", "id"], cursor=cursor, size=size)
    items = page.items
    if page.has_next and items[-1].due_at is None:
        # The first page reached the undated rows: go on by id.
        return replace(page, next_cursor=f"{_UNDATED_CURSOR}{items[-1].pk}")
    if page.has_next or page.is_first or key not in _UNDATED_LAST:
        return page
    # A later page that used up the dated rows (its cursor skips NULLs): fill it with undated.
    room = size - len(items)
    extra = list(undated[: room + 1])
    filled = [*items, *extra[:room]]
    if len(extra) <= room:
        return replace(page, items=filled, next_cursor=None)
    last_undated = extra[room - 1].pk if room else 0
    return replace(page, items=filled, next_cursor=f"{_UNDATED_CURSOR}{last_undated}")


def my_work(*, user: User, now: dt.datetime | None = None, size: int = MY_WORK_SIZE) -> MyWork:
    """The user's open tasks: overdue, due later today, upcoming (and undated), and for a user
    with a team whose role sees all records (a manager), the team's other open tasks.

    The first `size` rows of each section (one query each, through the index
    task_owner_status_due / task_team_status_due) and one counting query, whatever the number of
    tasks; `next_cursors` continue each section (`my_work_page`). "Today" is the user's day
    (the request's active time zone)."""
    now = now or timezone.now()
    _start, end = _day_bounds(now)
    show_team = my_work_shows_team(user)
    keys = MY_WORK_SECTIONS if show_team else MY_WORK_SECTIONS[:3]
    pages = {key: my_work_page(user=user, key=key, now=now, size=size) for key in keys}
    counting = Task.objects.filter(status=TaskStatus.OPEN).filter(
        Q(owner=user) | Q(team_id=user.team_id) if show_team else Q(owner=user)
    )
    counts = counting.aggregate(
        overdue=Count("pk", filter=Q(owner=user, due_at__lt=now)),
        today=Count("pk", filter=Q(owner=user, due_at__gte=now, due_at__lt=end)),
        upcoming=Count("pk", filter=Q(owner=user) & (Q(due_at__gte=end) | Q(due_at__isnull=True))),
        team=Count("pk", filter=~Q(owner=user)),
    )

    def items(key: str) -> list[Task]:
        return pages[key].items if key in pages else []

    return MyWork(
        overdue=items("overdue"),
        today=items("today"),
        upcoming=items("upcoming"),
        team=items("team"),
        counts={k: v or 0 for k, v in counts.items()},
        show_team=show_team,
        next_cursors={key: page.next_cursor for key, page in pages.items()},
    )


# --- timeline sources ------------------------------------------------------------------------


def interaction_timeline_entries(
    user: User, subject: Record, before: timeline.Before | None, limit: int, facet: str = ""
) -> list[timeline.TimelineEntry]:
    """The subject's active interactions older than `before`, newest first, of one channel
    when `facet` names one (the timeline's channel filter). One query (index
    interaction_contact_time / interaction_company_time)."""
    if not _may_view(user, Interaction):
        return []
    qs = Interaction.objects.filter(_record_filter(subject), archived_at__isnull=True)
    if facet in Channel.values:
        qs = qs.filter(channel=facet)
    qs = timeline.keyset_before(qs, before, time_field="occurred_at")
    rows = qs.select_related("logged_by", "contact").annotate(**_tracking_counts())[:limit]
    return [timeline.TimelineEntry("interaction", i.occurred_at, i.pk, i) for i in rows]


def _tracking_counts() -> dict[str, Case]:
    """An email's opens and clicks (tracking) for its timeline row, in the timeline's own query:
    a subquery per email row on the index emailevent_mail_kind_at, none for other channels."""
    from contacts.activities.tracking.models import EmailEvent

    def count(kind: str) -> Case:
        events = (
            EmailEvent.objects.filter(mail__interaction_id=OuterRef("pk"), kind=kind)
            .order_by()
            .values("kind")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )
        return Case(
            When(channel=Channel.EMAIL, then=Coalesce(Subquery(events), 0)),
            default=Value(0),
        )

    return {"mail_opens": count("open"), "mail_clicks": count("click")}


def task_timeline_entries(
    user: User, subject: Record, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """The subject's tasks by creation time, newest first (open and done). One query."""
    if not _may_view(user, Task):
        return []
    qs = Task.objects.filter(_record_filter(subject))
    qs = timeline.keyset_before(qs, before, time_field="created_at")
    # The row names the task's contact or company: fetched with it, not once a row.
    rows = qs.select_related("owner", "contact", "company")[:limit]
    return [timeline.TimelineEntry("task", t.created_at, t.pk, t) for t in rows]
