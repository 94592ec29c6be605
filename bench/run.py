"""The benchmark suite: every module's pages at a million records, its bulk work and seeding.

    python3 crm/bootstrap.py bench                 # 1,000,000 records (seeded when missing)
    python3 crm/bootstrap.py bench --contacts 100000 --requests 100

Starts the CRM as in production (gunicorn, DEBUG off, 2 workers) on a free local port, signs in
as a sales rep of the largest team, and drives each page with a bounded client (threads, a fixed
number of requests, loopback only): 1 in flight, 10 users pausing 1-3 s (the target's measure)
and 10 in flight (the server's capacity, reported as pages per second per core). The floor is
/ping on the same server. Also measured: SQL queries per page (in-process through Django's test
client, a signed-in user's second request, as under load), EXPLAIN ANALYZE of the modules' queries,
each module's bulk work (the contacts module: a 100,000-row import through a real Celery worker and
a 10,000-row export) and its seeding when it had to run. What is measured comes from the modules
under bench/modules/ (see its __init__); this file knows no module. Results go to
bench/results/<date>.json and .md.

Growth (issue 31): `--sizes 10000,1000000` runs the suite once per size, each against its own
database (`--database-urls`, or DATABASE_URL's name with `_<size>` appended) and cache prefix,
then writes bench/results/<date>-growth.md: per page, CPU per request and p95 at each size and
the ratio between them (target: CPU per request within 1.5x of the smallest size's).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_STATIC = ROOT / "var" / "bench-static"
REP = os.environ.get("BENCH_USER", "rep@demo.example")  # whom the pages are measured as
PASSWORD = "demo"  # noqa: S105 - the documented demo password
PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "CRM_TESTING": "0",
    "LOG_LEVEL": "WARNING",
}


# The targets of issue 17, checked against every run (`check_targets`). Memory is "flat" when it
# stays within a bound that does not depend on the number of rows.
TARGET_P95_MS = 150.0
TARGET_IMPORT_ROWS_PER_SECOND = 5000
TARGET_IMPORT_PEAK_MB = 250
TARGET_EXPORT_GROWTH_MB = 50
TARGET_SEED_SECONDS = 300
TARGET_CPU_GROWTH = 1.5  # issue 31: CPU per request at the big size / at the small one
# A page URL starting with this is requested as HTMX does (header HX-Request): a fragment.
HTMX_PREFIX = "hx:"
# A page URL starting with this is requested with no cookie at all, as an anonymous visitor of a
# public page (the help centre): not signed in, no session.
ANONYMOUS_PREFIX = "anon:"


@dataclass(frozen=True)
class PostPage:
    """A page whose load is a public form's POST, as an anonymous visitor sends it (a module's
    `pages` returns it in place of a URL). Before each load the client GETs `form_url` once per
    submission and takes the hidden fields of the `<form id=form_id>` (the CSRF token, the form's
    time and submission tokens), adds `fields` (the visible fields; `{key}` in a value becomes a
    key unique to the submission, so that deduplication merges none of them), waits until the
    newest token is `min_seconds` old (the form's time-to-submit check) and then times only the
    posts, with the form's encoding. A post answered 2xx or 3xx is accepted (a redirect is not
    followed), any other answer is an error. `rows()` counts the rows the submissions make in
    PostgreSQL: the run checks that they equal the accepted posts after the loads and after a
    Celery worker ran the tasks they queued ("nothing lost"). `min_rps`: the submissions per
    second the page must sustain at 10 in flight (0: no such target)."""

    form_url: str
    form_id: str
    fields: dict[str, str]
    rows: Callable[[], int]
    min_seconds: float = 0.0
    min_rps: float = 0.0
    action: str = ""  # where the form posts; default: form_url

    @property
    def target(self) -> str:
        return self.action or self.form_url


# A page is a URL (GET) or a form's POST. Tell them apart with `isinstance(page, str)`: run as
# `python -m bench.run` this file is `__main__`, and the modules' PostPage is another class,
# `bench.run`'s.
Page = str | PostPage
_RUN_KEY = uuid.uuid4().hex[:8]
_SUBMISSIONS = count(1)


class _FormFields(HTMLParser):
    """The hidden inputs of one `<form id=...>` of a page, and whether it posts multipart."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.found = self.inside = self.multipart = False
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and attr.get("id") == self.form_id:
            self.found = self.inside = True
            self.multipart = attr.get("enctype", "").lower() == "multipart/form-data"
        elif self.inside and tag == "input" and attr.get("type", "").lower() == "hidden":
            self.hidden[attr.get("name", "")] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> tuple[dict[str, str], bool]:
    """(the hidden fields of the form `form_id` in `html`, whether it posts multipart)."""
    parser = _FormFields(form_id)
    parser.feed(html)
    if not parser.found:
        raise RuntimeError(f"no <form id={form_id!r}> on the page")
    return {k: v for k, v in parser.hidden.items() if k}, parser.multipart


def submissions(
    fetch: Callable[[str], str], post: PostPage, number: int
) -> tuple[list[dict[str, str]], bool, float]:
    """`number` bodies for `post`, each from a fresh GET of its form (`fetch(path)` returns the
    page's HTML) plus its own fields; whether they go multipart; and the monotonic time at which
    the last of them has waited the form's minimum time."""
    bodies: list[dict[str, str]] = []
    multipart = False
    for _ in range(number):
        hidden, multipart = form_fields(fetch(post.form_url), post.form_id)
        key = f"{_RUN_KEY}-{next(_SUBMISSIONS)}"
        bodies.append({**hidden, **{k: v.format(key=key) for k, v in post.fields.items()}})
    return bodies, multipart, time.monotonic() + post.min_seconds


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def accepted(status: int) -> bool:
    """Whether a form post's answer counts as accepted (2xx or a redirect)."""
    return 200 <= status < 400


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("CRM_TESTING", "0")
    os.environ.setdefault("DEBUG", "1")  # this process only reads; the server runs DEBUG off
    # Tasks the benchmark queues go to its own worker, not to one serving another database.
    os.environ.setdefault("CELERY_QUEUE", "crm-bench")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def manage(*args: str, env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, env=env)
    return time.monotonic() - started


def ensure_data(size: int, modules: list[ModuleType]) -> dict[str, Any]:
    """The database is migrated, every module has its `size` records (seeded when it had not:
    timed) and its fixtures, and the modules' tables are freshly vacuumed."""
    result: dict[str, Any] = {}
    manage("migrate", "--noinput", "-v", "0")
    seeded = seed_modules(modules, size)
    if seeded:
        result["seed"] = seeded
    from accounts.models import User

    rep = User.objects.get(email=REP)
    if not rep.check_password(PASSWORD):  # e.g. seeded under test settings (another hasher)
        rep.set_password(PASSWORD)
        rep.save(update_fields=["password"])
    for module in modules:
        if hasattr(module, "prepare"):
            result.update(module.prepare(rep))
    vacuum(modules)  # every run starts from vacuumed tables
    return result


def page_modules(package: str = "bench.modules") -> list[ModuleType]:
    """The modules under `package` (bench/modules/), in name order; see its docstring for what
    each may define."""
    import importlib
    import pkgutil

    path = importlib.import_module(package).__path__
    return [
        importlib.import_module(f"{package}.{info.name}")
        for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]


def module_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def select_modules(modules: list[ModuleType], names: str) -> list[ModuleType]:
    """The modules named in `names` (comma-separated; empty: all of them)."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = set(wanted) - {module_name(m) for m in modules}
    if unknown:
        raise SystemExit(f"no bench module named {', '.join(sorted(unknown))}")
    return [m for m in modules if not wanted or module_name(m) in wanted]


def seed_modules(modules: list[ModuleType], size: int) -> dict[str, Any]:
    """Each module's `seed(size)`, timed: module name -> what it reported, for the modules that
    had to seed (a module returns None when it already had its records)."""
    seeded: dict[str, Any] = {}
    for module in modules:
        if not hasattr(module, "seed"):
            continue
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.monotonic()
        facts = module.seed(size)
        if facts is None:
            continue
        seconds = time.monotonic() - started
        rows = facts.get("rows", size)
        seeded[module_name(module)] = {
            **facts,
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds) if seconds else 0,
            "peak_rss_mb": round(
                max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            ),
        }
    return seeded


def vacuum_tables(modules: list[ModuleType]) -> list[str]:
    """The tables the modules ask to have vacuumed (`VACUUM`), each once, in order."""
    return list(dict.fromkeys(t for m in modules for t in getattr(m, "VACUUM", ())))


def never_seq_scan_tables(modules: list[ModuleType]) -> list[str]:
    """The tables no plan may read sequentially (the modules' `NEVER_SEQ_SCAN`)."""
    return list(dict.fromkeys(t for m in modules for t in getattr(m, "NEVER_SEQ_SCAN", ())))


def vacuum(modules: list[ModuleType]) -> None:
    """VACUUM (ANALYZE) the modules' tables: bulk work's deleted rows and the index entries
    waiting in GIN pending lists otherwise slow the next measurements (20-40 ms a search)."""
    from django.db import connection

    tables = vacuum_tables(modules)
    if tables:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(tables))


def select_pages(urls: dict[str, Page], words: str) -> dict[str, Page]:
    """The floor and the pages whose name holds one of `words` (comma-separated; empty: all)."""
    wanted = [w.strip() for w in words.split(",") if w.strip()]
    return {
        name: url
        for name, url in urls.items()
        if not wanted or name.startswith("floor") or any(w in name for w in wanted)
    }


def server_env(modules: list[ModuleType]) -> dict[str, str]:
    """The settings the modules' `SERVER_ENV` ask the benchmark's processes to run with (e.g. a
    public form's per-address rate limit raised: every post comes from 127.0.0.1)."""
    return {k: str(v) for m in modules for k, v in getattr(m, "SERVER_ENV", {}).items()}


def targets(modules: list[ModuleType]) -> dict[str, Page]:
    """The floor, then every module's pages, picked from the data the rep can see."""
    from accounts.models import User

    rep = User.objects.get(email=REP)
    urls: dict[str, Page] = {"floor (/ping)": "/ping"}
    for module in modules:
        urls.update(module.pages(rep))
    return urls


def query_counts(urls: dict[str, Page]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(email=REP))
    visitor = Client(SERVER_NAME="127.0.0.1")
    counts = {}
    for name, url in urls.items():
        if not isinstance(url, str):
            counts[name] = post_query_count(url)
            continue
        path, headers = request_of(url)
        browser = visitor if is_anonymous(url) else client
        # The first request after the login fills per-user caches (role data, owner options,
        # saved views, the lazy count's estimate); the load runs see the second one's count.
        browser.get(path, headers=headers)
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(path, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


def post_query_count(post: PostPage) -> int:
    """The queries of one accepted post of `post`'s form (the second of two: the first fills
    caches), in-process and anonymous, as `drive` sends it."""
    from urllib.parse import urlencode

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    visitor = Client(SERVER_NAME="127.0.0.1")
    bodies, multipart, ready = submissions(lambda path: visitor.get(path).content.decode(), post, 2)
    wait_until(ready)
    statuses = []
    for body in bodies:
        with CaptureQueriesContext(connection) as captured:
            if multipart:
                response = visitor.post(post.target, body)
            else:
                response = visitor.post(
                    post.target, urlencode(body), content_type="application/x-www-form-urlencoded"
                )
        statuses.append(response.status_code)
    assert all(accepted(s) for s in statuses), (post.target, statuses)
    return len(captured.captured_queries)


def relay_outbox(since: dt.datetime, timeout: float = 900) -> dict[str, Any]:
    """Run a Celery worker until every task queued through the outbox since `since` (the form
    posts' assignment, confirmation mail, ...) has started, as the worker relay does after the
    posts: how many there were, how many ran, and how long that took."""
    from crm.models import OutboxMessage, OutboxStatus

    queued = OutboxMessage.objects.filter(created_at__gte=since)
    waiting = queued.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT])
    started = time.monotonic()
    with Worker():
        while waiting.exists() and time.monotonic() - started < timeout:
            time.sleep(0.5)
    # Leaving the worker's block waits for its running task (a warm shutdown).
    total = queued.count()
    return {
        "tasks": total,
        "ran": total - waiting.count(),
        "seconds": round(time.monotonic() - started, 1),
    }


def explain_plans(modules: list[ModuleType]) -> dict[str, str]:
    """Every module's query plans (EXPLAIN ANALYZE), as the rep."""
    from accounts.models import User

    rep = User.objects.get(email=REP)
    plans: dict[str, str] = {}
    for module in modules:
        if hasattr(module, "plans"):
            plans.update(module.plans(rep))
    return plans


def list_plans(spec: Any, user: Any, queries: dict[str, str]) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a kit list's counting query (crm.pagination's one query:
    matches, count and the page's ids) for each query string, first page, built as
    crm.lists.list_results builds it: the spec's FilterSet over its selector, the sort's keys,
    a search's planner settings and the spec's count cap. Any list declared for the kit gets its
    plans this way."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import RequestFactory

    from crm.lists import filtered
    from crm.pagination import count_and_page_sql

    plans: dict[str, str] = {}
    for name, query in queries.items():
        request = RequestFactory().get("/?" + query)
        request.user = user
        filterset = filtered(spec, request)
        form = filterset.form
        assert form.is_valid(), (name, form.errors)
        chosen = spec.sorts[spec.sort_key(form.cleaned_data.get("sort"))]
        qs = filterset.qs
        if chosen.annotations:
            qs = qs.annotate(**chosen.annotations)
        sql, params = count_and_page_sql(
            qs,
            ordering=list(chosen.ordering),
            cursor=None,
            size=spec.page_size or settings.CRM_PAGE_SIZE,
            limit=(spec.count_cap or settings.CRM_COUNT_CAP) + 1,
        )
        searching = bool(form.cleaned_data.get(spec.search_param))
        with transaction.atomic(), connection.cursor() as cursor:
            for setting, value in ((searching and spec.search_planner) or {}).items():
                cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


class Server:
    """gunicorn with production settings on a free loopback port."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **PROD_ENV, "STATIC_ROOT": str(BENCH_STATIC)}

    def __enter__(self) -> Server:
        manage("collectstatic", "--noinput", "-v", "0", env=self.env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "crm.wsgi", "-c", "python:crm.gunicorn_conf"],
            cwd=ROOT,
            env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_ACCESS_LOG": "0",
                 "GUNICORN_LOG_LEVEL": "warning"},
        )  # fmt: skip
        import requests

        for _ in range(100):
            try:  # the socket accepts before the workers have booted: wait for an answer
                requests.get(self.url + "/ping", timeout=5)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of its master process."""
        pid = self.process.pid
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def serving_pids(self) -> list[int]:
        """Every process that works for a request: the gunicorn workers and the PostgreSQL
        backends connected to this database (the workers keep theirs, DB_CONN_MAX_AGE), other
        than this process's own. Their CPU time is what a page costs the machine."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        return self.worker_pids() + backends

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(20)


def is_anonymous(url: str) -> bool:
    """Whether a page's URL is requested by an anonymous visitor (`anon:/path`)."""
    return url.startswith(ANONYMOUS_PREFIX)


def request_of(url: str) -> tuple[str, dict[str, str]]:
    """(path, headers) of a page's URL: `hx:/path` is requested as HTMX requests a fragment,
    `anon:/path` as a plain GET (with no cookie: see `is_anonymous`)."""
    url = url.removeprefix(ANONYMOUS_PREFIX)
    if url.startswith(HTMX_PREFIX):
        return url[len(HTMX_PREFIX) :], {"HX-Request": "true"}
    return url, {}


_SESSIONS: dict[str, list[Any]] = {}


def signed_in_sessions(base: str, users: int) -> list[Any]:
    """`users` signed-in sessions on `base`, kept for the next pages: signing in (a password
    hash each) cost more than the loads themselves on a busy machine."""
    pool = _SESSIONS.setdefault(base, [])
    while len(pool) < users:
        pool.append(signed_in_session(base))
    return pool[:users]


def signed_in_session(base: str) -> Any:
    import requests

    session = requests.Session()
    session.get(base + "/accounts/login/", timeout=10)
    token = session.cookies["csrftoken"]
    response = session.post(
        base + "/accounts/login/",
        data={"username": REP, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
        timeout=10,
    )
    assert "/accounts/login/" not in response.url, "login failed"
    return session


# How a virtual user behaves: (name, pause range in seconds between its requests).
# "users" is the target's measure: each user reads the page, then pauses 1-3 s before the next
# request (locust's `between(1, 3)`), as people do. "in flight" has no pause: N requests are
# always waiting, which measures the server's capacity rather than what a user waits.
USERS = ("users", (1.0, 3.0))
IN_FLIGHT = ("in flight", (0.0, 0.0))


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each process's CPU time so far (user + system), from /proc; gone processes are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            # The command name (2nd field) is in parentheses and may hold spaces.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def capacity(requests: int, cpu_before: dict[int, float], cpu_after: dict[int, float]) -> dict:
    """Pages per second per core: the requests served per CPU-second the serving processes used
    (a process that appeared during the run counts from zero). On a shared machine this is
    steadier than requests per wall second, which other people's work on the cores lowers."""
    used = sum(after - cpu_before.get(pid, 0.0) for pid, after in cpu_after.items())
    return {
        "server_cpu_s": round(used, 2),
        "pages_per_core_s": round(requests / used, 1) if used > 0 else None,
        # The same, per request: what a page costs the machine, whatever else runs on it.
        "cpu_ms_per_request": round(used * 1000 / requests, 1) if requests else None,
    }


def drive(
    base: str,
    url: Page,
    users: int,
    requests_total: int,
    model: tuple[str, tuple[float, float]],
    serving_pids: Any = None,
) -> dict[str, Any]:
    """`users` threads, each with its own signed-in session (a fresh anonymous one for an
    `anon:` URL or a form's post), share `requests_total` requests. With `serving_pids` (a
    callable), the CPU those processes used gives the capacity."""
    import random

    import requests

    mode, (pause_min, pause_max) = model
    if not isinstance(url, str) or is_anonymous(url):
        sessions = [requests.Session() for _ in range(users)]
    else:
        sessions = signed_in_sessions(base, users)
    send = _poster(base, url, sessions, requests_total) if not isinstance(url, str) else None
    path, headers = request_of(url) if isinstance(url, str) else (url.target, {})
    if send is None:
        for s in sessions:
            s.get(base + path, headers=headers, timeout=30)  # warm-up
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    remaining = [requests_total]

    def worker(session: Any, rng: random.Random) -> None:
        nonlocal errors
        time.sleep(rng.uniform(0, pause_max))  # users arrive spread out, not all at once
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                number = remaining[0]
            started = time.perf_counter()
            try:
                if send is not None:
                    ok = accepted(send(session, number))
                else:
                    ok = session.get(base + path, headers=headers, timeout=30).status_code == 200
            except Exception:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
            time.sleep(rng.uniform(pause_min, pause_max))

    cpu_before = cpu_seconds(serving_pids()) if serving_pids else {}
    started = time.perf_counter()
    threads = [
        threading.Thread(target=worker, args=(s, random.Random(i))) for i, s in enumerate(sessions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu = capacity(len(latencies), cpu_before, cpu_seconds(serving_pids())) if serving_pids else {}
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "users": users,
        "mode": mode,
        "pause_s": [pause_min, pause_max],
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "rps": round(len(latencies) / wall, 1),
        **cpu,
    }


def _poster(
    base: str, post: PostPage, sessions: list[Any], number: int
) -> Callable[[Any, int], int]:
    """Fetch `number` submissions of `post` (untimed: the visitor reading the form), give every
    session the cookies they were fetched with (the CSRF cookie), wait out the form's minimum
    time, and return `send(session, n)`: the n-th submission's post, its status."""
    import requests

    reader = requests.Session()

    def fetch(path: str) -> str:
        response = reader.get(base + path, timeout=30)
        response.raise_for_status()
        return response.text

    bodies, multipart, ready = submissions(fetch, post, number)
    for session in sessions:
        session.cookies.update(reader.cookies)
    wait_until(ready)

    def send(session: Any, n: int) -> int:
        body = bodies[n]
        if multipart:
            files = {k: (None, v) for k, v in body.items()}
            response = session.post(
                base + post.target, files=files, allow_redirects=False, timeout=30
            )
        else:
            response = session.post(
                base + post.target, data=body, allow_redirects=False, timeout=30
            )
        return int(response.status_code)

    return send


class Worker:
    """A Celery worker with production settings (DEBUG off) on the bench's own queue, solo pool:
    the tasks run in this one process, so its peak RSS is theirs."""

    def __enter__(self) -> Worker:
        import socket

        from crm.celery import app

        self.name = f"bench-{os.getpid()}@{socket.gethostname()}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo",
             "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-n", self.name],
            cwd=ROOT,
            # The bench may run as root, as on CI machines; the tasks take JSON, not pickle.
            env={**os.environ, **PROD_ENV,
                 "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges"},
            stdout=subprocess.DEVNULL,  # the banner; warnings and errors still go to stderr
        )  # fmt: skip
        for _ in range(120):
            if self.process.poll() is not None:
                raise RuntimeError("the Celery worker exited")
            if app.control.ping(destination=[self.name], timeout=0.5):
                self.idle_rss_mb = round(_memory_kb(self.process.pid, "VmRSS") / 1024)
                return self
        raise RuntimeError("the Celery worker did not answer")

    def peak_rss_mb(self) -> int:
        return round(_memory_kb(self.process.pid, "VmHWM") / 1024)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()  # a warm shutdown: a running task finishes first
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for(job: Any, statuses: set[str], timeout: float = 1800) -> Any:
    """`job` (a model instance with a `status`) once its status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise RuntimeError(f"job {job.pk} still {job.status} after {timeout:.0f} s")


def bench_export(server: Server, path: str, rows_wanted: int) -> dict[str, Any]:
    """The first `rows_wanted` rows of the export at `path` streamed over HTTP: the time, and the
    memory of the gunicorn worker serving it (RSS sampled every 20 ms, against its RSS before)."""
    session = signed_in_session(server.url)
    workers = server.worker_pids()
    before = {pid: _memory_kb(pid) for pid in workers}
    peak = dict(before)
    streaming = threading.Event()
    streaming.set()

    def sample() -> None:
        while streaming.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], _memory_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    lines = 0
    try:
        url = server.url + path
        with session.get(url, stream=True, timeout=300) as response:
            for _line in response.iter_lines():
                lines += 1
                if lines > rows_wanted:
                    break
        seconds = time.perf_counter() - started
    finally:
        streaming.clear()
        sampler.join()
    serving = max(workers, key=lambda pid: peak[pid] - before[pid])
    return {
        "kind": "export",
        "rows": lines - 1,
        "seconds": round(seconds, 2),
        "rows_per_second": round((lines - 1) / seconds),
        "peak_rss_mb": round(peak[serving] / 1024),
        "growth_mb": round((peak[serving] - before[serving]) / 1024),
    }


def _memory_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        # Machines of the same name differ in speed: a fixed piece of Python work, best of 5
        # (lower is faster), to compare runs taken on different machines.
        "python_probe_ms": _python_probe_ms(),
    }


def _python_probe_ms() -> float:
    def work() -> int:
        return sum(len(str(i * 7919)) for i in range(300_000))

    best = min(_timed(work) for _ in range(5))
    return round(best * 1000, 1)


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def postgres_settings() -> str:
    """The server's version and the settings that decide these numbers."""
    from django.db import connection

    names = ["shared_buffers", "effective_cache_size", "work_mem", "random_page_cost", "jit"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        parts = [f"{cursor.fetchone()[0]}"]
        for name in names:
            cursor.execute(f"SHOW {name}")
            parts.append(f"{name}={cursor.fetchone()[0]}")
    return ", ".join(parts)


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with whether this run met it and what was measured."""
    checks: list[dict[str, Any]] = []

    def check(target: str, met: bool, measured: str) -> None:
        checks.append({"target": target, "met": met, "measured": measured})

    for name, page in results["pages"].items():
        if name.startswith("floor"):
            continue
        for run in page["load"]:
            if run.get("mode") == USERS[0] and run["users"] == 10:
                check(
                    f"{name}: p95 < {TARGET_P95_MS:.0f} ms at 10 users",
                    run["p95_ms"] < TARGET_P95_MS,
                    f"{run['p95_ms']} ms",
                )
    errors = sum(run["errors"] for page in results["pages"].values() for run in page["load"])
    check("no errors", errors == 0, f"{errors} errors")
    for name, page in results["pages"].items():
        if "post" in page:
            checks.extend(post_checks(name, page))
    relay = results.get("relay")
    if relay:
        check(
            "every task the form posts queued ran",
            relay["ran"] == relay["tasks"],
            f"{relay['ran']} of {relay['tasks']} in {relay['seconds']} s",
        )
    for table in results.get("never_seq_scan", []):
        scan = re.compile(rf"Seq Scan on {re.escape(table)}(?!\w)")
        scans = [name for name, plan in results["plans"].items() if scan.search(plan)]
        check(f"no sequential scan of {table} in the plans", not scans, ", ".join(scans) or "none")
    for name, work in results.get("bulk", {}).items():
        if work.get("kind") == "import":
            check(
                f"{name} >= {TARGET_IMPORT_ROWS_PER_SECOND:,} rows/s",
                work.get("status") == "done"
                and work["rows_per_second"] >= TARGET_IMPORT_ROWS_PER_SECOND,
                f"{work['rows_per_second']:,} rows/s ({work.get('status')})",
            )
            check(
                f"{name} peak memory <= {TARGET_IMPORT_PEAK_MB} MB",
                work["peak_rss_mb"] <= TARGET_IMPORT_PEAK_MB,
                f"{work['peak_rss_mb']} MB",
            )
        elif work.get("kind") == "export":
            check(
                f"{name} memory growth <= {TARGET_EXPORT_GROWTH_MB} MB",
                work["growth_mb"] <= TARGET_EXPORT_GROWTH_MB,
                f"{work['growth_mb']} MB for {work['rows']:,} rows",
            )
    for module, seeded in results.get("seed", {}).items():
        check(
            f"{module} seeding < {TARGET_SEED_SECONDS // 60} minutes",
            seeded["seconds"] < TARGET_SEED_SECONDS,
            f"{seeded['seconds']} s",
        )
    return checks


def post_checks(name: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    """A form post's own targets: nothing lost (the rows it made, after the loads and after the
    worker's relay, equal the accepted posts) and, when it has one, the submissions per second
    it sustains at 10 in flight (accepted posts per wall second)."""
    post = page["post"]
    rows = [post["rows_after_load"], post.get("rows_after_relay", post["rows_after_load"])]
    relayed = post.get("rows_after_relay", "not run")
    found = [
        {
            "target": f"{name}: nothing lost",
            "met": rows == [post["accepted"]] * 2,
            "measured": f"{post['accepted']} posts accepted; new rows: {rows[0]} after the "
            f"loads, {relayed} after the relay",
        }
    ]
    if post.get("min_rps"):
        run = _load_run(page, IN_FLIGHT[0], 10)
        done = run.get("requests", 0)
        rate = run.get("rps", 0) * (done - run.get("errors", 0)) / done if done else 0
        found.append(
            {
                "target": f"{name}: >= {post['min_rps']:g} submissions/s at 10 in flight",
                "met": rate >= post["min_rps"],
                "measured": f"{rate:.1f}/s",
            }
        )
    return found


def posts_markdown(results: dict[str, Any]) -> list[str]:
    """The form posts' section of the results: what was accepted and what PostgreSQL holds,
    and the settings the run raised."""
    posts = {name: page for name, page in results["pages"].items() if "post" in page}
    if not posts:
        return []
    lines = ["", "## Form posts", "",
             "Each post is a fresh submission: its form fetched beforehand (untimed) for the "
             "CSRF and time tokens, unique data so that no two are merged; a post answered 2xx "
             "or 3xx is accepted, anything else is an error. Rows are counted in PostgreSQL "
             "after the three loads and again after a Celery worker ran what the posts queued.",
             "", "| page | posts accepted | new rows after the loads | after the relay |",
             "|---|---|---|---|"]  # fmt: skip
    for name, page in posts.items():
        post = page["post"]
        lines.append(
            f"| {name} | {post['accepted']} | {post['rows_after_load']} | "
            f"{post.get('rows_after_relay', '')} |"
        )
    relay = results.get("relay")
    if relay:
        lines += ["", f"Relay: {relay['ran']} of {relay['tasks']} queued tasks ran in "
                  f"{relay['seconds']} s (one solo worker)."]  # fmt: skip
    if results.get("server_env"):
        raised = ", ".join(f"`{k}={v}`" for k, v in results["server_env"].items())
        lines += ["", f"Raised for this run only (every post comes from 127.0.0.1): {raised}; "
                  "the production defaults are unchanged."]  # fmt: skip
    return lines


def write_results(results: dict[str, Any], name: str = "") -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = name or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))

    def load_name(run: dict[str, Any]) -> str:
        return f"{run['users']} {run.get('mode', 'in flight')}"

    floor = {load_name(r): r["p95_ms"] for r in results["pages"]["floor (/ping)"]["load"]}
    lines = [
        f"# Benchmark {stamp}", "",
        *([results["note"], ""] if results.get("note") else []),
        f"Machine: {results['machine']}; size: {results['size']:,} records per module. "
        "Server: gunicorn "
        "(crm/gunicorn_conf.py: 2 sync workers), DEBUG off. Client: bounded threads on "
        "loopback, on the same cores. PostgreSQL: " + results.get("postgres", "?") + ". "
        f"Load average (1, 5, 15 min) before: {results.get('load_before', '?')}; "
        f"after: {results.get('load_after', '?')}.", "",
        "Load: *1 in flight* is one user with no pause; *10 users* pause 1-3 s between requests "
        "(the target's measure); *10 in flight* never pause (the server's capacity). "
        "*pages/s per core*: requests served per CPU-second of the gunicorn workers and their "
        "PostgreSQL backends (from /proc), so other work on the machine does not lower it.", "",
        "| page | load | p50 ms | p95 ms | p99 ms | req/s | errors | queries | p95 / floor "
        "| pages/s per core |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, page in results["pages"].items():
        for run in page["load"]:
            base = floor.get(load_name(run))
            ratio = run["p95_ms"] / base if base else 0
            lines.append(
                f"| {name} | {load_name(run)} | {run['p50_ms']} | {run['p95_ms']} | "
                f"{run['p99_ms']} | {run['rps']} | {run['errors']} | {page['queries']} | "
                f"{ratio:.1f} | {run.get('pages_per_core_s') or ''} |"
            )
    lines += ["", "## Capacity (10 in flight)", "", "| page | pages/s per core | req/s (wall) |",
              "|---|---|---|"]  # fmt: skip
    for name, page in results["pages"].items():
        for run in page["load"]:
            if run.get("mode") == IN_FLIGHT[0] and run["users"] == 10:
                lines.append(f"| {name} | {run.get('pages_per_core_s')} | {run['rps']} |")
    lines += posts_markdown(results)
    lines += ["", "## Targets", "", "| target | met | measured |", "|---|---|---|"]
    lines += [
        f"| {c['target']} | {'yes' if c['met'] else '**no**'} | {c['measured']} |"
        for c in results.get("targets", [])
    ]
    lines += ["", "## Bulk work", "", "```json",
              json.dumps({k: results.get(k) for k in ("seed", "bulk")}, indent=2,
                         ensure_ascii=False), "```", "", "## Query plans", ""]  # fmt: skip
    for name, plan in results["plans"].items():
        lines += [f"### {name}", "", "```", plan, "```", ""]
    path.with_suffix(".md").write_text("\n".join(lines))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--contacts", "--size", dest="size", type=int, default=1_000_000,
        help="records each module seeds (contacts: contacts)",
    )  # fmt: skip
    parser.add_argument(
        "--requests", type=int, default=200, help="per page, 10 in flight (1 user: a fifth)"
    )
    parser.add_argument(
        "--user-requests", type=int, default=100, help="per page, 10 users pausing 1-3 s"
    )
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=10_000)
    parser.add_argument(
        "--modules", default="", help="only these modules, comma-separated (e.g. contacts)"
    )
    parser.add_argument("--no-bulk", action="store_true", help="pages only, no import/export")
    parser.add_argument(
        "--pages", default="", help="only the pages whose name holds one of these (e.g. post)"
    )
    parser.add_argument(
        "--sizes", default="", help="e.g. 10000,1000000: one run per size and their growth"
    )
    parser.add_argument(
        "--database-urls", default="", help="with --sizes: one database URL per size, in order"
    )
    parser.add_argument("--name", default="", help="the results files' name (default: the time)")
    parser.add_argument("--note", default="", help="a remark written into the results")
    parser.add_argument(
        "--growth-of", default="", help="names of earlier runs (comma-separated): their growth"
    )
    args, _rest = parser.parse_known_args()
    if args.growth_of:
        names = [n.strip() for n in args.growth_of.split(",") if n.strip()]
        runs = [{"name": n, **json.loads((RESULTS / f"{n}.json").read_text())} for n in names]
        return write_growth(runs, args.name or names[0] + "-growth", args.note)
    if args.sizes:
        return growth_run(args)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    modules = select_modules(page_modules(), args.modules)
    # The modules' settings for this run (a value set in the environment wins), in this process
    # too, before Django reads them: the in-process query counts post as the server is posted to.
    raised = {k: os.environ.setdefault(k, v) for k, v in server_env(modules).items()}
    setup_django()
    results: dict[str, Any] = {"machine": machine(), "size": args.size, "note": args.note}
    results["server_env"] = raised
    results["load_before"] = load_average()
    results.update(ensure_data(args.size, modules))
    results["never_seq_scan"] = never_seq_scan_tables(modules)
    urls = select_pages(targets(modules), args.pages)
    counts = query_counts(urls)
    results["postgres"] = postgres_settings()
    results["plans"] = explain_plans(modules)
    results["pages"] = {}
    results["bulk"] = {}
    posts_since = dt.datetime.now(dt.UTC)
    rows_before: dict[str, int] = {}
    with Server() as server:
        for name, url in urls.items():
            if not isinstance(url, str):
                rows_before[name] = url.rows()
            load = [
                drive(server.url, url, 1, max(20, args.requests // 5), IN_FLIGHT,
                      server.serving_pids),
                drive(server.url, url, 10, args.user_requests, USERS, server.serving_pids),
                drive(server.url, url, 10, args.requests, IN_FLIGHT, server.serving_pids),
            ]  # fmt: skip
            shown = url if isinstance(url, str) else f"POST {url.target}"
            results["pages"][name] = {"url": shown, "queries": counts[name], "load": load}
            if not isinstance(url, str):
                results["pages"][name]["post"] = {
                    "accepted": sum(r["requests"] - r["errors"] for r in load),
                    "rows_after_load": url.rows() - rows_before[name],
                    "min_rps": url.min_rps,
                }
            print(f"{name:36} q={counts[name]:>3}  " + "  ".join(
                f"{r['users']:>2} {r['mode']:9} p95={r['p95_ms']:>7}ms rps={r['rps']:>6} "
                f"cap={r.get('pages_per_core_s')}/core err={r['errors']}" for r in load),
                flush=True)  # fmt: skip
        if rows_before:  # nothing lost once the worker has run what the posts queued
            results["relay"] = relay_outbox(posts_since)
            print("relay", results["relay"], flush=True)
            for name in rows_before:
                post = urls[name]
                assert not isinstance(post, str)
                results["pages"][name]["post"]["rows_after_relay"] = post.rows() - rows_before[name]
        options = {"import_rows": args.import_rows, "export_rows": args.export_rows}
        for module in [] if args.no_bulk else modules:
            if hasattr(module, "bulk"):
                for work, facts in module.bulk(server, options).items():
                    results["bulk"][work] = facts
                    print(work, facts, flush=True)
    vacuum(modules)  # leave the tables as the next run expects them
    results["load_after"] = load_average()
    results["targets"] = check_targets(results)
    path = write_results(results, args.name)
    missed = [c for c in results["targets"] if not c["met"]]
    for c in missed:
        print(f"target missed: {c['target']}: {c['measured']}")
    print(f"results: {path} and {path.with_suffix('.md')}")
    print(f"{len(results['targets']) - len(missed)} of {len(results['targets'])} targets met")
    return 1 if missed else 0


def growth_run(args: argparse.Namespace) -> int:
    """The suite at each of `--sizes`, each in a process of its own against its own database and
    cache prefix, then the growth between the smallest and each larger size (`growth_report`)."""
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    urls = [u for u in args.database_urls.split(",") if u.strip()]
    if urls and len(urls) != len(sizes):
        raise SystemExit("--database-urls needs one URL per size")
    if not urls:
        base = os.environ.get("DATABASE_URL", "")
        if not base:
            raise SystemExit("--sizes needs DATABASE_URL or --database-urls")
        urls = [f"{base.rstrip('/')}_{size}" for size in sizes]
    stamp = args.name or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
    passed = ["--requests", str(args.requests), "--user-requests", str(args.user_requests),
              "--import-rows", str(args.import_rows), "--export-rows", str(args.export_rows),
              "--modules", args.modules, "--pages", args.pages, "--note", args.note]  # fmt: skip
    runs: list[dict[str, Any]] = []
    for size, url in zip(sizes, urls, strict=True):
        name = f"{stamp}-{size}"
        env = {**os.environ, "DATABASE_URL": url, "CACHE_KEY_PREFIX": f"crm-bench-{size}"}
        command = [sys.executable, "-m", "bench.run", "--size", str(size), "--name", name, *passed]
        if args.no_bulk:
            command.append("--no-bulk")
        subprocess.run(command, cwd=ROOT, env=env, check=False)
        path = RESULTS / f"{name}.json"
        if not path.exists():
            raise SystemExit(f"the run at {size:,} wrote no results")
        runs.append({"name": name, **json.loads(path.read_text())})
    return write_growth(runs, f"{stamp}-growth", args.note)


def write_growth(runs: list[dict[str, Any]], name: str, note: str) -> int:
    """bench/results/<name>.json and .md from `runs` (results with their names); prints the
    table and exits 1 when a page's CPU per request grew more than the target."""
    report = growth_report(runs)
    text = growth_markdown(report, note)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (RESULTS / f"{name}.md").write_text(text)
    for line in text.splitlines():
        if line.startswith("|"):
            print(line)
    missed = [row for row in report["pages"] if row["met"] is False]
    print(f"growth: {RESULTS / f'{name}.md'}; {len(missed)} pages over the target")
    return 1 if missed else 0


def _load_run(page: dict[str, Any], mode: str, users: int) -> dict[str, Any]:
    for run in page["load"]:
        if run.get("mode") == mode and run["users"] == users:
            return run
    return {}


def growth_report(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per page: CPU ms per request (10 in flight: the most requests, from /proc) and p95 at 10
    users at each size, and the ratio of each larger size to the smallest."""
    runs = sorted(runs, key=lambda r: r["size"])
    small = runs[0]
    pages = []
    for name, _page in small["pages"].items():
        row: dict[str, Any] = {"page": name, "sizes": {}, "met": None}
        for run in runs:
            found = run["pages"].get(name)
            if found is None:
                continue
            row["sizes"][run["size"]] = {
                "cpu_ms": _load_run(found, IN_FLIGHT[0], 10).get("cpu_ms_per_request"),
                "cpu_ms_1": _load_run(found, IN_FLIGHT[0], 1).get("cpu_ms_per_request"),
                "p95_ms": _load_run(found, USERS[0], 10).get("p95_ms"),
            }
        base = row["sizes"].get(small["size"], {}).get("cpu_ms")
        biggest = row["sizes"].get(runs[-1]["size"], {}).get("cpu_ms")
        if base and biggest and not name.startswith("floor"):
            row["cpu_growth"] = round(biggest / base, 2)
            row["met"] = row["cpu_growth"] <= TARGET_CPU_GROWTH
        pages.append(row)
    return {
        "sizes": [r["size"] for r in runs],
        "runs": [r["name"] for r in runs],
        "load": {r["size"]: [r.get("load_before"), r.get("load_after")] for r in runs},
        "postgres": small.get("postgres"),
        "pages": pages,
    }


def growth_markdown(report: dict[str, Any], note: str = "") -> str:
    sizes = report["sizes"]
    head = (
        " | ".join(f"CPU ms {s:,}" for s in sizes) + " | " + " | ".join(f"p95 {s:,}" for s in sizes)
    )
    lines = [
        f"# Growth from {sizes[0]:,} to {sizes[-1]:,} records", "",
        note, "",
        "CPU ms per request: the gunicorn workers' and their PostgreSQL backends' CPU time (from "
        "/proc) over a load of 10 requests in flight, divided by the requests; it hardly moves "
        "with other work on the machine, unlike p95 (10 users pausing 1-3 s). Target (issue "
        f"31): CPU per request at the biggest size within {TARGET_CPU_GROWTH}x of the smallest's.",
        "", "Runs: " + ", ".join(f"`{n}`" for n in report["runs"]) + "; load average (before, "
        "after): " + "; ".join(f"{s:,}: {v}" for s, v in report["load"].items()) + ".",
        f" PostgreSQL: {report.get('postgres')}.", "",
        f"| page | {head} | CPU growth | met |",
        "|---|" + "---|" * (2 * len(sizes) + 2),
    ]  # fmt: skip
    for row in report["pages"]:
        cells = [str(row["sizes"].get(s, {}).get("cpu_ms", "")) for s in sizes]
        cells += [str(row["sizes"].get(s, {}).get("p95_ms", "")) for s in sizes]
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(
            f"| {row['page']} | {' | '.join(cells)} | {row.get('cpu_growth', '')} | {met} |"
        )
    return "\n".join(lines) + "\n"


def load_average() -> str:
    """The machine's load (1, 5, 15 minutes) and the time: on a shared machine, other people's
    work competes for the same cores, and the results say how much."""
    with contextlib.suppress(OSError):
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
        return f"{dt.datetime.now(dt.UTC):%H:%M} UTC: {one} {five} {fifteen}"
    return "?"


if __name__ == "__main__":
    sys.exit(main())
