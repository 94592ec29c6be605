"""The public web-to-lead form under load (issue 27: 50 submissions a second, nothing lost).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_leads \\
        .venv/bin/python bench/lead_forms.py --workers 4 --seconds 20 --in-flight 8 --rate 50

Creates the bench database when missing and migrates it, makes a form owner and a web form
(`bench-forms`, with consent wording, using assignment rules as a real form does), then starts
gunicorn as in production (`bench.run.Server`: DEBUG off, `--workers` sync workers) on a free
loopback port behind one trusted proxy (AXES_PROXY_COUNT=1), so each simulated visitor has its
own address in X-Forwarded-For (addresses from 127.0.0.0/8; the per-address rate limit stays on).

Like a browser, each submission first GETs the hosted page and takes the signed token from its
hidden field; the tokens are fetched before the timed part (a form is filled in for more than
the 3 s the time-to-submit check asks, so they are then old enough). Two timed loads, each
`--seconds` long, bounded in count and time, loopback only:

- *capacity*: `--in-flight` POSTs at a time, no pause: submissions a second the server takes;
- *at the target*: POSTs started at `--rate` a second (open loop, as visitors arrive): p50/p95
  of each post and whether the server kept up.

Then every accepted post is checked against the database: one lead per post (by the run's
marker in the email), none missing, none twice. Prints the results as JSON and, with --write,
writes them to bench/results/<date>-lead-forms-<HHMM>.json.

`--profile N` instead posts N submissions in this process, straight through Django's WSGI
handler with the server's settings (DEBUG off), and prints where one post's time goes: wall,
SQL and CPU time (medians), the queries of one post in order, and the hottest functions.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import itertools
import json
import os
import re
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ would come first on the path and its profile.py hide the standard
# library's (which cProfile imports).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/crm_bench_leads"
SLUG = "bench-forms"
TOKEN_RE = re.compile(
    r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"'
)
MAX_POSTS = 20_000  # a hard bound on what one run sends


def ensure_database(url: str) -> None:
    """Create the bench database (on the same server) when it does not exist."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')  # name from our own URL


def prepare() -> dict[str, Any]:
    """The form's owner and the form (idempotent)."""
    from accounts.models import User
    from leads.models import LeadForm, LeadFormField

    owner = User.objects.filter(email="forms-owner@bench.example").first()
    if owner is None:
        owner = User.objects.create_user(
            email="forms-owner@bench.example", first_name="Forms", last_name="Owner"
        )
    form, created = LeadForm.objects.get_or_create(
        slug=SLUG,
        defaults={
            "name": "Bench: contact us",
            "owner": owner,
            "consent_text": "I agree to be contacted.",
            "use_assignment_rules": True,
        },
    )
    if created:
        for position, (name, required) in enumerate(
            (("given_name", True), ("family_name", False), ("email", True),
             ("company_name", False), ("notes", False))
        ):  # fmt: skip
            LeadFormField.objects.create(
                form=form, field=name, required=required, position=position
            )
    return {"form": form.slug, "owner": owner.email}


class Visitors:
    """Requests as browsers make them: a session each, its own forwarded address."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.url = f"{base}/forms/{SLUG}/"
        self.local = threading.local()
        self.requests = requests
        self.addresses = (f"127.{a}.{b}.{c}" for a, b, c in itertools.product(
            range(10, 250), range(1, 250), range(1, 250)))  # fmt: skip
        self.lock = threading.Lock()

    def session(self) -> Any:
        if not hasattr(self.local, "session"):
            self.local.session = self.requests.Session()
        return self.local.session

    def address(self) -> str:
        with self.lock:
            return next(self.addresses)

    def token(self) -> str:
        response = self.session().get(self.url, timeout=30)
        response.raise_for_status()
        match = TOKEN_RE.search(response.text)
        if match is None:
            raise RuntimeError("no form_token on the hosted page")
        return match.group(1) or match.group(2)

    def post(self, token: str, marker: str, n: int) -> tuple[float, int]:
        data = {
            "form_token": token,
            "nickname": "",  # the honeypot, left empty as people do
            "given_name": f"Visitor {n}",
            "family_name": "Bench",
            "email": f"{marker}-{n}@bench.example",
            "company_name": f"Company {n % 500}",
            "notes": "Please call me about pricing.",
            "consent": "on",
        }
        started = time.perf_counter()
        response = self.session().post(
            self.url,
            data=data,
            headers={"X-Forwarded-For": self.address(), "Referer": self.url},
            timeout=60,
            allow_redirects=False,
        )
        return (time.perf_counter() - started) * 1000, response.status_code


def fetch_tokens(visitors: Visitors, count: int, in_flight: int) -> list[str]:
    with concurrent.futures.ThreadPoolExecutor(in_flight) as pool:
        return list(pool.map(lambda _i: visitors.token(), range(count)))


def summary(times: list[float], codes: list[int], seconds: float) -> dict[str, Any]:
    ok = [t for t, c in zip(times, codes, strict=True) if c in (200, 302)]
    ordered = sorted(ok)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else 0.0

    return {
        "posts": len(codes),
        "accepted": len(ok),
        "errors": {str(c): codes.count(c) for c in sorted(set(codes)) if c not in (200, 302)},
        "posts_per_second": round(len(ok) / seconds, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered), 1) if ordered else 0.0,
    }


def capacity(visitors: Visitors, tokens: list[str], marker: str, in_flight: int,
             seconds: float) -> dict[str, Any]:  # fmt: skip
    """`in_flight` posts at a time for `seconds` (or until the tokens run out)."""
    feed = iter(enumerate(tokens))
    lock = threading.Lock()
    times: list[float] = []
    codes: list[int] = []
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(feed, None)
            if item is None:
                return
            n, token = item
            elapsed, code = visitors.post(token, marker, n)
            with lock:
                times.append(elapsed)
                codes.append(code)

    started = time.monotonic()
    threads = [threading.Thread(target=loop) for _ in range(in_flight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(times, codes, time.monotonic() - started)


def at_rate(visitors: Visitors, tokens: list[str], marker: str, rate: float,
            seconds: float) -> dict[str, Any]:  # fmt: skip
    """Posts started at `rate` a second for `seconds` (open loop); lateness is reported."""
    count = min(len(tokens), int(rate * seconds))
    times: list[float] = [0.0] * count
    codes: list[int] = [0] * count
    started = time.monotonic()
    late = 0

    def one(i: int) -> None:
        times[i], codes[i] = visitors.post(tokens[i], marker, i)

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        futures = []
        for i in range(count):
            due = started + i / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.05:
                late += 1
            futures.append(pool.submit(one, i))
        concurrent.futures.wait(futures)
    result = summary(times, codes, max(seconds, time.monotonic() - started))
    result["offered_per_second"] = rate
    result["sent_late"] = late  # the client itself could not keep the pace (shared CPU)
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


def verify(marker: str, accepted: int) -> dict[str, Any]:
    """Every accepted post is one lead: counted by the run's marker, none twice."""
    from django.db.models import Count

    from leads.models import Lead

    rows = Lead.objects.filter(email__startswith=f"{marker}-")
    leads = rows.count()
    doubled = rows.values("email").annotate(n=Count("id")).filter(n__gt=1).count()
    return {
        "accepted_posts": accepted,
        "leads": leads,
        "emails_twice": doubled,
        "lost": max(0, accepted - leads),
        "every_post_a_lead": leads == accepted and not doubled,
    }


def _wsgi_post(handler: Any, path: str, body: bytes, address: str) -> int:
    """One form-encoded POST through Django's WSGI handler, as gunicorn calls it."""
    import io

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": address,
        "HTTP_REFERER": f"http://127.0.0.1{path}",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    b"".join(handler(environ, lambda s, _headers, _exc=None: status.append(s)))
    return int(status[0].split()[0])


def profile_posts(count: int, top: int = 25) -> dict[str, Any]:
    """`count` posts in this process (plus 3 to warm up): medians of wall, SQL and CPU time,
    the queries of the last post, and cProfile's hottest functions over a second set."""
    import cProfile
    import io
    from urllib.parse import urlencode

    from django.core import signing
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from leads import webforms
    from leads.models import LeadForm

    form = LeadForm.objects.get(slug=SLUG)
    handler = WSGIHandler()
    marker = f"p{uuid.uuid4().hex[:10]}"
    path = f"/forms/{SLUG}/"
    addresses = iter(f"127.{a}.{b}.{c}" for a, b, c in itertools.product(
        range(10, 250), range(1, 250), range(1, 250)))  # fmt: skip

    def body(n: int) -> bytes:
        token = signing.dumps(
            {"f": form.pk, "n": uuid.uuid4().hex[:16], "t": time.time() - 10},
            salt=webforms.TOKEN_SALT,
        )
        return urlencode({
            "form_token": token, "nickname": "", "given_name": f"Visitor {n}",
            "family_name": "Bench", "email": f"{marker}-{n}@bench.example",
            "company_name": f"Company {n % 500}", "notes": "Please call me about pricing.",
            "consent": "on",
        }).encode()  # fmt: skip

    queries: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(f"{(time.perf_counter() - started) * 1000:6.2f} ms  {sql[:160]}")
            sql_seconds[0] += time.perf_counter() - started

    for n in range(3):
        assert _wsgi_post(handler, path, body(n), next(addresses)) in (200, 302)
    walls, cpus, sqls, counts = [], [], [], []
    for n in range(count):
        queries.clear()
        sql_seconds = [0.0]
        data = body(100 + n)
        with connection.execute_wrapper(record):
            started, cpu = time.perf_counter(), time.process_time()
            status = _wsgi_post(handler, path, data, next(addresses))
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        assert status in (200, 302), status
        sqls.append(sql_seconds[0])
        counts.append(len(queries))
    profiler = cProfile.Profile()
    for n in range(count):
        data = body(10_000 + n)
        profiler.enable()
        _wsgi_post(handler, path, data, next(addresses))
        profiler.disable()
    import pstats

    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        str(ROOT) + r"/(?!\.venv)", top
    )
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return {
        "posts": count,
        "wall_ms_median": round(statistics.median(walls) * 1000, 2),
        "sql_ms_median": round(statistics.median(sqls) * 1000, 2),
        "cpu_ms_median": round(statistics.median(cpus) * 1000, 2),
        "queries_per_post": max(counts),
        "queries_of_one_post": list(queries),
        "calls_per_post": pstats.Stats(profiler).total_calls // count,  # type: ignore[attr-defined]
        "profile": out.getvalue(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument(
        "--write", action="store_true", help="write bench/results/<date>-lead-forms-<HHMM>.json"
    )
    parser.add_argument("--profile", type=int, default=0, help="posts to profile in-process")
    args = parser.parse_args()
    seconds = min(args.seconds, 120.0)

    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("CELERY_QUEUE", "crm-bench-leads")
    os.environ["AXES_PROXY_COUNT"] = "1"  # behind one proxy: X-Forwarded-For is the visitor
    os.environ["WEB_CONCURRENCY"] = str(args.workers)
    ensure_database(os.environ["DATABASE_URL"])

    from bench import run

    if args.profile:  # as the server runs: DEBUG off, the manifest's static files
        os.environ.update(run.PROD_ENV, STATIC_ROOT=str(run.BENCH_STATIC))
    run.setup_django()
    run.manage("migrate", "--noinput", "-v", "0")
    if args.profile:
        run.manage("collectstatic", "--noinput", "-v", "0")
    facts = prepare()
    if args.profile:
        found = profile_posts(min(args.profile, 2000))
        print(found.pop("profile"))
        print(json.dumps(found, indent=2))
        _drop_queued_tasks()
        return 0
    marker = f"b{uuid.uuid4().hex[:10]}"
    load_before = os.getloadavg()
    with run.Server() as server:
        visitors = Visitors(server.url)
        visitors.token()  # warm both workers' caches a little
        wanted = min(MAX_POSTS, int(seconds * (args.rate + 80)))
        fetch_started = time.monotonic()
        tokens = fetch_tokens(visitors, wanted, args.in_flight)
        fetch_seconds = time.monotonic() - fetch_started
        time.sleep(3.2)  # the time-to-submit check: a person takes longer than this
        split = int(seconds * args.rate)
        paced = at_rate(visitors, tokens[:split], marker, args.rate, seconds)
        full = capacity(visitors, tokens[split:], marker + "c", args.in_flight, seconds)
    results = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "gunicorn_workers": args.workers,
        "setup": facts,
        "form_page_gets": {
            "count": len(tokens),
            "seconds": round(fetch_seconds, 1),
            "per_second": round(len(tokens) / fetch_seconds, 1),
        },
        "at_target_rate": paced,
        "at_target_rate_check": verify(marker, paced["accepted"]),
        "capacity": full,
        "capacity_check": verify(marker + "c", full["accepted"]),
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    _drop_queued_tasks()
    print(json.dumps(results, indent=2))
    if args.write:
        out = (
            ROOT
            / "bench"
            / "results"
            / f"{time.strftime('%Y-%m-%d')}-lead-forms-{time.strftime('%H%M')}.json"
        )
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out}")
    ok = (
        results["at_target_rate_check"]["every_post_a_lead"]
        and results["capacity_check"]["every_post_a_lead"]
    )
    return 0 if ok else 1


def _drop_queued_tasks() -> None:
    """The assignment tasks the posts queued (through the outbox) for a worker this run does
    not start: drop them from the bench's own queue."""
    import redis
    from django.conf import settings

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(os.environ["CELERY_QUEUE"])


if __name__ == "__main__":
    raise SystemExit(main())
