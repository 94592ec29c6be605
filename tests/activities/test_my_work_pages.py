""" "My work" pages: each section shows its first rows and its count, "Show more" pages on by
keyset (HTMX fragment from the same URL), a rep sees only their tasks, a manager's team section
only their team's, and a bad cursor gives the first rows (never a 500)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.activities import selectors
from contacts.activities.models import Task
from tests.conftest import login

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
URL = "/activities/my-work/"
SIZE = selectors.MY_WORK_SIZE
TITLE = re.compile(r'class="fw-semibold" href="[^"]*">([^<]+)</a>')
MORE = re.compile(r'hx-get="/activities/my-work/(\?section=(\w+)&amp;after=[^"]+)"')


def _tasks(owner, n, *, prefix, start=None, step=dt.timedelta(hours=1), dated=True):
    """`n` open tasks for `owner`, due `start`, `start + step`, ... (or undated)."""
    start = start or timezone.now() + dt.timedelta(days=2)
    return Task.objects.bulk_create(
        Task(
            title=f"{prefix}{i:03d}",
            owner=owner,
            team=owner.team,
            created_by=owner,
            due_at=start + i * step if dated else None,
        )
        for i in range(n)
    )


def _titles(content: bytes) -> list[str]:
    return TITLE.findall(content.decode())


def _more(content: bytes, section: str) -> str | None:
    for query, key in MORE.findall(content.decode()):
        if key == section:
            return URL + html.unescape(query)
    return None


def _section_html(content: bytes, key: str) -> bytes:
    text = content.decode()
    start = text.index(f'id="work-{key}-rows"')
    return text[start : text.index("</ul>", start)].encode()


def test_sections_show_first_rows_counts_and_page_on_once_each(client, rep):
    _tasks(rep, 30, prefix="late", start=timezone.now() - dt.timedelta(days=40))
    dated = _tasks(rep, 60, prefix="soon")
    undated = _tasks(rep, 30, prefix="someday", dated=False)
    login(client, rep)
    response = client.get(reverse("activities:my-work"))
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    upcoming = _section_html(response.content, "upcoming")
    assert _titles(upcoming) == [t.title for t in dated[:SIZE]]
    assert len(_titles(_section_html(response.content, "overdue"))) == SIZE
    text = response.content.decode()
    assert '<span class="badge text-bg-danger">30</span>' in text  # overdue count
    assert '<span class="badge text-bg-secondary">90</span>' in text  # upcoming count

    seen = _titles(upcoming)
    more = _more(upcoming, "upcoming")
    queries = []
    while more:
        with CaptureQueriesContext(connection) as ctx:
            fragment = client.get(more, **HX)
        assert fragment.status_code == 200
        assert "HX-Request" in fragment["Vary"]
        assert b"<html" not in fragment.content
        queries.append(len(ctx.captured_queries))
        seen += _titles(fragment.content)
        more = _more(fragment.content, "upcoming")
    # Dated soonest first, then the undated by creation, each once, with no empty last page.
    assert seen == [t.title for t in dated] + [t.title for t in sorted(undated, key=lambda t: t.pk)]
    assert len(queries) == 3
    # Session and user, then one query for the rows (two where the dated rows run out).
    assert max(queries) <= min(queries) + 1 <= 4


def test_without_javascript_more_opens_the_page_at_that_point(client, rep):
    dated = _tasks(rep, 40, prefix="soon")
    login(client, rep)
    first = client.get(URL)
    more = _more(_section_html(first.content, "upcoming"), "upcoming")
    page = client.get(more)
    assert b"<html" in page.content
    assert _titles(_section_html(page.content, "upcoming")) == [t.title for t in dated[SIZE:]]


def test_a_rep_sees_only_their_own_tasks(client, rep, rep_teammate):
    _tasks(rep, 3, prefix="mine")
    _tasks(rep_teammate, 30, prefix="theirs")
    login(client, rep)
    for response in (client.get(URL), client.get(URL + "?section=team", **HX)):
        assert response.status_code == 200
        titles = _titles(response.content)
        assert titles
        assert all(t.startswith("mine") for t in titles)
        assert "My team" not in response.content.decode()
    with pytest.raises(PermissionDenied):
        selectors.my_work_page(user=rep, key="team")


def test_a_managers_team_section_holds_only_their_teams_tasks(
    client, manager, rep, rep_teammate, rep_other_team
):
    _tasks(rep, 20, prefix="rep")
    _tasks(rep_teammate, 20, prefix="mate", dated=False)
    _tasks(rep_other_team, 20, prefix="west")
    _tasks(manager, 2, prefix="own")
    login(client, manager)
    response = client.get(URL)
    team = _section_html(response.content, "team")
    assert '<span class="badge text-bg-secondary">40</span>' in response.content.decode()
    seen = _titles(team)
    more = _more(team, "team")
    while more:
        fragment = client.get(more, **HX)
        seen += _titles(fragment.content)
        more = _more(fragment.content, "team")
    assert len(seen) == len(set(seen)) == 40
    assert {t[:3] for t in seen} == {"rep", "mat"}
    assert all(t.startswith("own") for t in _titles(_section_html(response.content, "upcoming")))


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "u.abc",
        "u.²",
        "u.99999999999999999999999999",
        "u.-5",
        "%00",
        "WyJuIixbIlx1MDAwMCIsMV1d",  # ["n",["\u0000",1]]
        "WyJwIixbIjIwMjYtMTEtMzAiLDFdXQ",  # ["p",["2026-11-30",1]]: a backward cursor
        "x" * 5000,
        "测试" * 100,
    ],
)
def test_a_bad_cursor_gives_the_first_rows(client, rep, cursor):
    dated = _tasks(rep, 30, prefix="soon")
    login(client, rep)
    for headers in (HX, {}):
        response = client.get(URL, {"section": "upcoming", "after": cursor}, **headers)
        assert response.status_code == 200
    fragment = client.get(URL, {"section": "upcoming", "after": cursor}, **HX)
    if cursor.startswith("WyJw"):
        return  # a well-formed backward cursor (the page offers none): rows before it, here none
    assert _titles(fragment.content) == [t.title for t in dated[:SIZE]]


def test_unknown_section_gives_the_whole_page(client, rep):
    _tasks(rep, 2, prefix="soon")
    login(client, rep)
    response = client.get(URL, {"section": "nope", "after": "x"}, **HX)
    assert response.status_code == 200
    assert b'id="work-upcoming-rows"' in response.content


def _plans(queries) -> str:
    text = []
    with connection.cursor() as cursor:
        for query in queries:
            if query["sql"].startswith("SELECT") and "activities_task" in query["sql"]:
                cursor.execute(f"EXPLAIN {query['sql']}")
                text.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(text)


def test_later_pages_read_the_indexes_on_20000_tasks(manager, rep, rep_other_team):
    _tasks(rep_other_team, 18_000, prefix="west", step=dt.timedelta(minutes=1))
    _tasks(rep, 1_000, prefix="rep", start=timezone.now() - dt.timedelta(hours=500))
    _tasks(rep, 1_000, prefix="undated", dated=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_task")
    with CaptureQueriesContext(connection) as ctx:
        for user in (rep, manager):
            for key in ("overdue", "upcoming", "team") if user == manager else ("overdue",):
                page = selectors.my_work_page(user=user, key=key)
                for _ in range(3):
                    page = selectors.my_work_page(user=user, key=key, cursor=page.next_cursor)
        upcoming = selectors.my_work_page(user=rep, key="upcoming")
        while upcoming.next_cursor and not upcoming.next_cursor.startswith("u."):
            upcoming = selectors.my_work_page(user=rep, key="upcoming", cursor=upcoming.next_cursor)
        selectors.my_work_page(user=rep, key="upcoming", cursor=upcoming.next_cursor)
    plans = _plans(ctx.captured_queries)
    assert "activities_task" in plans
    assert "Seq Scan on activities_task" not in plans, plans
