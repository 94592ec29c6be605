"""In-process timing of "My work" for a rep with 2,000 open tasks (issue 26).

Run: `... pytest -p no:cacheprovider -q -s bench/mywork_inprocess.py` (test settings, see
/work/helpers/COMMON.md). Times 20 GET requests with Django's test client after 3 warm-up
requests and prints the median, p95 and queries per request. Not part of the test suite.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from contacts.activities.models import Task
from tests.accounts.factories import TeamFactory, UserFactory
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("n", [2_000, 0])
def test_time_my_work_for_a_rep_with_2000_open_tasks(client, n):
    team = TeamFactory(name="East")
    rep = UserFactory(email="rep@example.com", team=team, role=Role.SALES_REP)
    contacts = [ContactFactory(owner=rep) for _ in range(20)]
    now = timezone.now()
    Task.objects.bulk_create(
        [
            Task(
                title=f"Task {i}",
                owner=rep,
                team=team,
                created_by=rep,
                due_at=None if i % 10 == 0 else now + dt.timedelta(hours=i - 1_000),
                contact=contacts[i % len(contacts)],
            )
            for i in range(n)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_task")
    client.force_login(rep)
    url = reverse("activities:my-work")
    for _ in range(3):
        assert client.get(url).status_code == 200
    times = []
    for _ in range(20):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(
        f"\nmy-work {n:,} open tasks: median {statistics.median(times):.1f} ms, "
        f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms, {len(ctx.captured_queries)} queries, "
        f"{len(response.content):,} bytes"
    )
