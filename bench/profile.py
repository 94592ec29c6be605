"""Where one page's time goes: Python vs SQL, and the hottest functions.

    DATABASE_URL=postgres://.../crm_bench .venv/bin/python -m bench.profile \
        /contacts/ "/contacts/?q=smit" --runs 30

Renders each URL in-process through Django's WSGI handler, signed in as the bench rep
(`--user agent@demo.example`: as another user; `--anonymous`: with no cookie, as a visitor of
the public pages), DEBUG off and the production template loaders, after two warm-up requests.
Prints per URL the median wall time, how much of it was spent waiting for SQL (measured around
each query execution: the driver, the network and the server), this process's CPU time, the
queries per request, and the hottest functions from cProfile over a second set of runs. Use it
before and after a change to a page; the load test (`bench.run`) is what the targets are
measured with.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from bench.run import BENCH_STATIC, PROD_ENV, REP, ROOT, setup_django


class _SqlTimer:
    """A connection execute wrapper that adds up the time spent running queries."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.queries = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def _wsgi_get(
    handler: Any, url: str, cookie: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One GET straight through Django's WSGI handler, as gunicorn calls it (the test client
    would add its own signal handlers and context copies to the time); `headers` as WSGI keys
    (`{"HTTP_HX_REQUEST": "true"}`). A query in other characters than ASCII is percent-encoded,
    as a browser sends it."""
    if url.startswith("hx:"):  # as bench.run: a fragment, requested as HTMX requests it
        url, headers = url[3:], {"HTTP_HX_REQUEST": "true", **(headers or {})}
    path, _sep, query = url.partition("?")
    query = urllib.parse.quote(query, safe="=&%+;/:,")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_COOKIE": cookie,
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **(headers or {}),
    }
    status: list[str] = []
    body = b"".join(handler(environ, lambda s, _headers, _exc=None: status.append(s)))
    return int(status[0].split()[0]), body


def profile(
    urls: list[str], runs: int, top: int, *, anonymous: bool = False, email: str = REP
) -> None:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(email=email))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    if anonymous:  # a visitor of the public pages: no cookie at all
        cookie = ""
    handler = WSGIHandler()
    for url in urls:
        for _ in range(2):
            assert _wsgi_get(handler, url, cookie)[0] == 200, url
        walls, cpus, sqls, counts = [], [], [], []
        for _ in range(runs):  # timed without the profiler, which slows Python down
            timer = _SqlTimer()
            with connection.execute_wrapper(timer):
                started, cpu_started = time.perf_counter(), time.process_time()
                status, body = _wsgi_get(handler, url, cookie)
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu_started)
            assert status == 200, url
            sqls.append(timer.seconds)
            counts.append(timer.queries)
        profiler = cProfile.Profile()
        for _ in range(runs):
            profiler.enable()
            _wsgi_get(handler, url, cookie)
            profiler.disable()
        wall, sql = statistics.median(walls) * 1000, statistics.median(sqls) * 1000
        cpu = statistics.median(cpus) * 1000
        slowest = max(range(runs), key=walls.__getitem__)
        print(
            f"\n{url}\n  wall {wall:.1f} ms (median of {runs}), of it waiting for SQL {sql:.1f} ms;"
            f" CPU of this process {cpu:.1f} ms; {max(counts)} queries, {len(body):,} bytes"
            f"\n  slowest run {walls[slowest] * 1000:.1f} ms, of it SQL"
            f" {sqls[slowest] * 1000:.1f} ms, CPU {cpus[slowest] * 1000:.1f} ms"
        )
        calls = pstats.Stats(profiler).total_calls // runs  # type: ignore[attr-defined]
        print(
            f"  {calls:,} Python function calls per request (steadier than times on a shared"
            " machine)"
        )
        for order, restriction in (
            ()
            if top <= 0
            else (
                ("tottime", ""),
                ("cumulative", ""),
                ("cumulative", str(ROOT) + r"/(?!\.venv)"),
            )
        ):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(order)
            stats.print_stats(restriction, top) if restriction else stats.print_stats(top)
            lines = out.getvalue().splitlines()
            start = next(i for i, line in enumerate(lines) if "ncalls" in line)
            what = "our code by cumulative time" if restriction else "all code by own time"
            print(f"  -- {what}, {runs} runs --")
            print("\n".join("  " + line for line in lines[start : start + top + 1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--anonymous", action="store_true", help="not signed in (public pages)")
    parser.add_argument("--user", default=REP, help="signed in as (an email; default the rep)")
    args = parser.parse_args()
    # As the benchmark's server runs: DEBUG off (cached template loader, no query log).
    os.environ.update(PROD_ENV, STATIC_ROOT=str(BENCH_STATIC))
    setup_django()
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
    profile(args.urls, args.runs, args.top, anonymous=args.anonymous, email=args.user)
    return 0


if __name__ == "__main__":
    sys.exit(main())
