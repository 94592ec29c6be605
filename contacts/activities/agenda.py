"""The calendar of tasks and meetings (day, week, month; mine or my team's), rescheduling a task
to another day, and a per-user secret iCalendar feed.

Days are the user's (the request's active time zone). A range costs two queries (tasks by due
time through task_owner_status_due / task_team_status_due, meetings by when they happen), each
capped at MAX_ITEMS. The .ics feed's URL carries a token derived from the user's id and password
hash with the site's secret (`feed_token`): it needs no table, and changing one's password
revokes every copy of the old URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts.activities import services
from contacts.activities.models import Channel, Interaction, Task, TaskStatus
from contacts.activities.notifications import record_url
from contacts.activities.selectors import interaction_scope, task_scope
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

VIEWS = ("month", "week", "day")
MAX_ITEMS = 500
FEED_PAST = dt.timedelta(days=30)
FEED_FUTURE = dt.timedelta(days=365)


@dataclass(frozen=True)
class Item:
    kind: str  # "task" or "meeting"
    pk: int
    title: str
    at: dt.datetime
    url: str
    done: bool
    who: str
    movable: bool


@dataclass(frozen=True)
class Range:
    view: str
    day: dt.date
    start: dt.date
    end: dt.date  # exclusive
    previous: dt.date
    next: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days)]

    @property
    def weeks(self) -> list[list[dt.date]]:
        days = self.days
        return [days[i : i + 7] for i in range(0, len(days), 7)]


def date_range(view: str, day: dt.date) -> Range:
    """The days a view shows around `day`: its Monday-to-Sunday week, the whole weeks of its
    month, or the day."""
    if view == "day":
        one = dt.timedelta(days=1)
        return Range(view, day, day, day + one, day - one, day + one)
    if view == "week":
        start = day - dt.timedelta(days=day.weekday())
        week = dt.timedelta(days=7)
        return Range(view, day, start, start + week, day - week, day + week)
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    start = first - dt.timedelta(days=first.weekday())
    end = following + dt.timedelta(days=(7 - following.weekday()) % 7)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    return Range(view, day, start, end, previous, following)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end, dt.time.min, tzinfo=tz),
    )


def _tasks(user: User, team: bool) -> QuerySet[Task]:
    if team and user.team_id:
        return task_scope(user=user).filter(team_id=user.team_id)
    return Task.objects.filter(owner=user)


def _meetings(user: User, team: bool) -> QuerySet[Interaction]:
    qs = Interaction.objects.filter(channel=Channel.MEETING, archived_at__isnull=True)
    if team and user.team_id:
        return interaction_scope(user=user).filter(
            channel=Channel.MEETING, archived_at__isnull=True, team_id=user.team_id
        )
    return qs.filter(owner=user)


def _attending(user: User, low: dt.datetime, high: dt.datetime) -> list[Interaction]:
    """Meetings from `low` to `high` a colleague invited the user to (an attendee, not taken
    off) that they still may see. One query (index meetingattendee_user_current, then
    primary keys)."""
    from contacts.activities.meetings.models import MeetingAttendee
    from contacts.activities.selectors import visible_row

    invited = MeetingAttendee.objects.filter(user=user, removed_at__isnull=True).values(
        "meeting__interaction_id"
    )
    rows = (
        Interaction.objects.filter(pk__in=Subquery(invited), channel=Channel.MEETING)
        .filter(archived_at__isnull=True, occurred_at__gte=low, occurred_at__lt=high)
        .exclude(owner=user)
        .select_related("owner", "contact", "company", "meeting")
        .order_by("occurred_at", "id")[:MAX_ITEMS]
    )
    return [m for m in rows if visible_row(user, m)]


def _meeting_url(interaction: Interaction) -> str:
    """A scheduled meeting's page (contacts/activities/meetings/), else its record's."""
    if getattr(interaction, "meeting", None) is not None:
        return reverse("activities:meeting", args=[interaction.meeting.pk])
    return record_url(interaction)


def items(
    *, user: User, start: dt.date, end: dt.date, team: bool = False
) -> dict[dt.date, list[Item]]:
    """Tasks (by due time) and meetings (by when they happen) from `start` to `end` (exclusive,
    the user's days), by day, in time order; the user's own meetings and those they are
    invited to. Three queries."""
    low, high = _bounds(start, end)
    tasks = (
        _tasks(user, team)
        .filter(due_at__gte=low, due_at__lt=high)
        .select_related("owner", "contact", "company")
        .order_by("due_at", "id")[:MAX_ITEMS]
    )
    own = (
        _meetings(user, team)
        .filter(occurred_at__gte=low, occurred_at__lt=high)
        .select_related("owner", "contact", "company", "meeting")  # its invitations' page
        .order_by("occurred_at", "id")[:MAX_ITEMS]
    )
    meetings = [*own, *(_attending(user, low, high) if not team else [])]
    by_day: dict[dt.date, list[Item]] = defaultdict(list)
    for task in tasks:
        assert task.due_at is not None
        movable = task.status == TaskStatus.OPEN and access.can(user, task, "change")
        by_day[timezone.localtime(task.due_at).date()].append(
            Item(
                "task",
                task.pk,
                task.title,
                task.due_at,
                reverse("activities:task-edit", args=[task.pk]),
                task.status == TaskStatus.DONE,
                str(task.owner),
                movable,
            )
        )
    for meeting in meetings:
        by_day[timezone.localtime(meeting.occurred_at).date()].append(
            Item(
                "meeting",
                meeting.pk,
                str(meeting),
                meeting.occurred_at,
                _meeting_url(meeting),
                meeting.occurred_at < timezone.now(),
                str(meeting.owner),
                False,
            )
        )
    for day_items in by_day.values():
        day_items.sort(key=lambda item: (item.at, item.kind, item.pk))
    return dict(by_day)


def task_reschedule(*, task: Task, day: dt.date, actor: User) -> Task:
    """Move an open task to `day`, keeping its time of day in the assignee's time zone (9:00
    for a task without one). Through `services.task_update`: its checks, one transaction,
    audited."""
    if task.status != TaskStatus.OPEN:
        raise DomainError(_("A done task cannot be moved."), field="date")
    tz = zoneinfo.ZoneInfo(task.owner.time_zone or "UTC")
    at = timezone.localtime(task.due_at, tz).time() if task.due_at else dt.time(9, 0)
    due = dt.datetime.combine(day, at, tzinfo=tz)
    data = services.TaskInput(
        title=task.title,
        assignee=task.owner,
        notes=task.notes,
        due_at=due,
        priority=task.priority,
        contact=task.contact,
        company=task.company,
        target=task.target if task.target_id else None,
    )
    return services.task_update(task=task, data=data, actor=actor)


# --- the iCalendar feed ------------------------------------------------------------------------


def feed_token(user: User) -> str:
    """The secret of `user`'s feed URL; changes when their password does."""
    message = f"calendar-feed:{user.pk}:{user.password}".encode()
    key = hashlib.sha256(f"activities.agenda:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def feed_user(pk: int, token: str) -> User | None:
    """The active user whose feed `token` is, else None."""
    from accounts.models import User as UserModel

    user = UserModel.objects.filter(pk=pk, is_active=True).first()
    if user is None or not hmac.compare_digest(feed_token(user).encode(), token.encode()):
        return None
    return user


def feed_ics(*, user: User) -> bytes:
    """The user's open tasks with a due time, their meetings and those they are invited to,
    from 30 days back to a year ahead, as iCalendar (RFC 5545). Three queries."""
    from icalendar import Calendar, Event, Todo

    now = timezone.now()
    calendar = Calendar()
    calendar.add("prodid", "-//CRM//Tasks and meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("CRM: tasks and meetings"))
    base = settings.CRM_BASE_URL.rstrip("/")
    tasks = (
        Task.objects.filter(owner=user, status=TaskStatus.OPEN)
        .filter(due_at__gte=now - FEED_PAST, due_at__lt=now + FEED_FUTURE)
        .order_by("due_at", "id")[:MAX_ITEMS]
    )
    for task in tasks:
        todo = Todo()
        todo.add("uid", f"task-{task.pk}@crm")
        todo.add("summary", task.title)
        todo.add("dtstamp", task.updated_at)
        todo.add("due", task.due_at)
        if task.notes:
            todo.add("description", task.notes)
        todo.add("url", f"{base}{reverse('activities:task-edit', args=[task.pk])}")
        calendar.add_component(todo)
        # Most calendar apps show events, not to-dos: each task is also a 15-minute event.
        event = Event()
        event.add("uid", f"task-event-{task.pk}@crm")
        event.add("summary", task.title)
        event.add("dtstamp", task.updated_at)
        assert task.due_at is not None
        event.add("dtstart", task.due_at)
        event.add("dtend", task.due_at + dt.timedelta(minutes=15))
        calendar.add_component(event)
    own = (
        _meetings(user, team=False)
        .filter(occurred_at__gte=now - FEED_PAST, occurred_at__lt=now + FEED_FUTURE)
        .select_related("contact", "company", "meeting")
        .order_by("occurred_at", "id")[:MAX_ITEMS]
    )
    for meeting in [*own, *_attending(user, now - FEED_PAST, now + FEED_FUTURE)]:
        event = Event()
        # A scheduled meeting keeps its invitation's UID, so a calendar that imported the
        # invitation and subscribes to the feed shows it once.
        planned = getattr(meeting, "meeting", None)
        event.add("uid", planned.uid if planned is not None else f"meeting-{meeting.pk}@crm")
        event.add("summary", str(meeting))
        event.add("dtstamp", meeting.updated_at)
        event.add("dtstart", meeting.occurred_at)
        event.add("dtend", meeting.occurred_at + (meeting.duration or dt.timedelta(minutes=30)))
        if meeting.body:
            event.add("description", meeting.body)
        event.add("url", f"{base}{record_url(meeting)}")
        calendar.add_component(event)
    return calendar.to_ical()
