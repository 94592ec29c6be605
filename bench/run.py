"""The benchmark suite: contact pages at a million contacts, imports, exports, seeding.

    python3 crm/bootstrap.py bench                 # 1,000,000 contacts (seeded when missing)
    python3 crm/bootstrap.py bench --contacts 100000 --requests 100

Starts the CRM as in production (gunicorn, DEBUG off, 2 workers) on a free local port, signs in
as a sales rep of the largest team, and drives each page with a bounded client (threads, a fixed
number of requests, loopback only) at 1 and 10 concurrent users. The floor is /ping on the same
server. Also measured: SQL queries per page (in-process, through Django's test client), EXPLAIN
ANALYZE of the list and search queries, a 100,000-row import through a real Celery worker, a
10,000-row export, and seed_demo itself when it had to run. Results go to
bench/results/<date>.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_STATIC = ROOT / "var" / "bench-static"
REP = "rep@demo.example"
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
_CONTACTS_SEQ_SCAN = re.compile(r"Seq Scan on contacts_contact(?!\w)")


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


def ensure_data(contacts: int) -> dict[str, Any]:
    """The database holds `contacts` contacts (seeding them if not) and each module's fixtures."""
    from contacts.models import Contact

    result: dict[str, Any] = {}
    manage("migrate", "--noinput", "-v", "0")
    have = Contact.objects.count()
    if have < contacts * 0.95:
        print(f"seeding {contacts:,} contacts (have {have:,})…", flush=True)
        manage("seed_demo")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        seconds = manage("seed_demo", "--reset", "--contacts", str(contacts))
        result["seed"] = {
            "contacts": contacts,
            "seconds": round(seconds, 1),
            "rows_per_second": round(contacts / seconds),
            "peak_rss_mb": round(
                max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            ),
        }
    from accounts.models import User

    rep = User.objects.get(email=REP)
    if not rep.check_password(PASSWORD):  # e.g. seeded under test settings (another hasher)
        rep.set_password(PASSWORD)
        rep.save(update_fields=["password"])
    for module in page_modules():
        if hasattr(module, "prepare"):
            result.update(module.prepare(rep))
    from django.db import connection

    with connection.cursor() as cursor:  # every run starts from vacuumed tables
        cursor.execute(f"VACUUM (ANALYZE) {VACUUMED}")
    return result


def page_modules() -> list[ModuleType]:
    """The modules under bench/modules/, in name order: each gives `pages(rep)` (name -> URL),
    and may give `prepare(rep)` (fixtures; returns facts for the results) and `plans(rep)`
    (name -> EXPLAIN ANALYZE text of the queries behind its pages)."""
    import importlib
    import pkgutil

    from bench import modules

    return [
        importlib.import_module(f"bench.modules.{info.name}")
        for info in sorted(pkgutil.iter_modules(modules.__path__), key=lambda i: i.name)
    ]


def targets() -> dict[str, str]:
    """The floor, then every module's pages, picked from the data the rep can see."""
    from accounts.models import User

    rep = User.objects.get(email=REP)
    urls = {"floor (/ping)": "/ping"}
    for module in page_modules():
        urls.update(module.pages(rep))
    return urls


def query_counts(urls: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(email=REP))
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


def explain_plans() -> dict[str, str]:
    """Every module's query plans (EXPLAIN ANALYZE), as the rep."""
    from accounts.models import User

    rep = User.objects.get(email=REP)
    plans: dict[str, str] = {}
    for module in page_modules():
        if hasattr(module, "plans"):
            plans.update(module.plans(rep))
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

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(20)


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
    assert response.url.endswith("/contacts/"), "login failed"
    return session


# How a virtual user behaves: (name, pause range in seconds between its requests).
# "users" is the target's measure: each user reads the page, then pauses 1-3 s before the next
# request (locust's `between(1, 3)`), as people do. "in flight" has no pause: N requests are
# always waiting, which measures the server's capacity rather than what a user waits.
USERS = ("users", (1.0, 3.0))
IN_FLIGHT = ("in flight", (0.0, 0.0))


def drive(
    base: str, url: str, users: int, requests_total: int, model: tuple[str, tuple[float, float]]
) -> dict[str, Any]:
    """`users` threads, each with its own signed-in session, share `requests_total` requests."""
    import random

    mode, (pause_min, pause_max) = model
    sessions = [signed_in_session(base) for _ in range(users)]
    for s in sessions:
        s.get(base + url, timeout=30)  # warm-up
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
            started = time.perf_counter()
            try:
                ok = session.get(base + url, timeout=30).status_code == 200
            except Exception:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1
            time.sleep(rng.uniform(pause_min, pause_max))

    started = time.perf_counter()
    threads = [
        threading.Thread(target=worker, args=(s, random.Random(i))) for i, s in enumerate(sessions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
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
    }


VACUUMED = (
    "contacts_contact, contacts_company, contacts_contactemail, contacts_contactphone, "
    "contacts_contact_tags"
)


def bench_import(rows: int) -> dict[str, Any]:
    """Import `rows` CSV rows as a user does: uploaded and mapped here, then checked and committed
    by a real Celery worker (the tasks the pages queue), whose peak RSS is the memory figure.
    The times run from queueing each task until the job's status says it finished."""
    from django.core.files import File

    from accounts.models import User
    from contacts import imports
    from contacts.models import ImportStatus

    path = Path(tempfile.mkdtemp()) / "bench-import.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone", "Company", "Title", "Tags"])
        for i in range(rows):
            email = f"bench{i}.{time.time_ns()}@import.example"
            company = f"Bench Import Co {i % 500}"
            writer.writerow([f"Bench Person{i}", email, f"+1 555 {i:07d}", company, "Buyer", ""])
    rep = User.objects.get(email=REP)
    with Worker() as worker:
        with path.open("rb") as handle:
            job = imports.import_upload(file=File(handle, name=path.name), actor=rep)
        job = imports.import_set_mapping(
            job=job, mapping=job.mapping, skip_duplicates=False, tag_names="", actor=rep
        )
        started = time.monotonic()
        imports.import_check(job=job, actor=rep)
        job = _wait_for(job, {ImportStatus.VALID, ImportStatus.INVALID, ImportStatus.FAILED})
        checked = time.monotonic()
        if job.status == ImportStatus.VALID:
            imports.import_queue(job=job, actor=rep)
            job = _wait_for(job, {ImportStatus.DONE, ImportStatus.FAILED})
        done = time.monotonic()
        idle_mb, peak_mb = worker.idle_rss_mb, worker.peak_rss_mb()
    _remove_imported()
    path.unlink()
    return {
        "status": job.status,
        "created": job.created_count,
        "message": job.message,
        "check_seconds": round(checked - started, 2),
        "commit_seconds": round(done - checked, 2),
        "worker_idle_rss_mb": idle_mb,
        "peak_rss_mb": peak_mb,
        "rows": rows,
        "rows_per_second": round(rows / (done - started)),
    }


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


def _wait_for(job: Any, statuses: set[str], timeout: float = 1800) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise RuntimeError(f"import {job.pk} still {job.status} after {timeout:.0f} s")


def _remove_imported() -> None:
    """Leave the database as it was, so the next run measures the same data."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "CREATE TEMP TABLE gone AS SELECT id FROM contacts_contact "
            "WHERE primary_email LIKE '%@import.example'"
        )
        for table in ("contacts_contactemail", "contacts_contactphone", "contacts_contact_tags"):
            c.execute(f"DELETE FROM {table} WHERE contact_id IN (SELECT id FROM gone)")
        c.execute("DELETE FROM contacts_contact WHERE id IN (SELECT id FROM gone)")
        c.execute("DROP TABLE gone")
        c.execute("DELETE FROM contacts_company WHERE name LIKE 'Bench Import Co %'")
        # The import's index entries wait in the GIN pending lists, and its deleted rows in the
        # tables, until a vacuum: left there, they slowed the next run's searches by 20-40 ms.
        c.execute("VACUUM (ANALYZE) " + VACUUMED)


def bench_export(server: Server, rows_wanted: int) -> dict[str, Any]:
    """The first `rows_wanted` rows of a filtered export streamed over HTTP: the time, and the
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
        url = server.url + "/contacts/export/?stage=customer"
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
    scans = [name for name, plan in results["plans"].items() if _CONTACTS_SEQ_SCAN.search(plan)]
    check(
        "no sequential scan of contacts in list and search plans",
        not scans,
        ", ".join(scans) or "none",
    )
    imported = results.get("import")
    if imported:
        check(
            f"import >= {TARGET_IMPORT_ROWS_PER_SECOND:,} rows/s",
            imported.get("status") == "done"
            and imported["rows_per_second"] >= TARGET_IMPORT_ROWS_PER_SECOND,
            f"{imported['rows_per_second']:,} rows/s ({imported.get('status')})",
        )
        check(
            f"import peak memory <= {TARGET_IMPORT_PEAK_MB} MB",
            imported["peak_rss_mb"] <= TARGET_IMPORT_PEAK_MB,
            f"{imported['peak_rss_mb']} MB",
        )
    exported = results.get("export")
    if exported:
        check(
            f"export memory growth <= {TARGET_EXPORT_GROWTH_MB} MB",
            exported["growth_mb"] <= TARGET_EXPORT_GROWTH_MB,
            f"{exported['growth_mb']} MB for {exported['rows']:,} rows",
        )
    seeded = results.get("seed")
    if seeded:
        check(
            f"seed_demo < {TARGET_SEED_SECONDS // 60} minutes",
            seeded["seconds"] < TARGET_SEED_SECONDS,
            f"{seeded['seconds']} s",
        )
    return checks


def write_results(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))

    def load_name(run: dict[str, Any]) -> str:
        return f"{run['users']} {run.get('mode', 'in flight')}"

    floor = {load_name(r): r["p95_ms"] for r in results["pages"]["floor (/ping)"]["load"]}
    lines = [
        f"# Benchmark {stamp}", "",
        f"Machine: {results['machine']}; contacts: {results['contacts']:,}. Server: gunicorn "
        "(crm/gunicorn_conf.py: 2 sync workers), DEBUG off. Client: bounded threads on "
        "loopback, on the same cores. PostgreSQL: " + results.get("postgres", "?") + ".", "",
        "Load: *1 in flight* is one user with no pause; *10 users* pause 1-3 s between requests "
        "(the target's measure); *10 in flight* never pause (the server's capacity).", "",
        "| page | load | p50 ms | p95 ms | p99 ms | req/s | errors | queries | p95 / floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, page in results["pages"].items():
        for run in page["load"]:
            base = floor.get(load_name(run))
            ratio = run["p95_ms"] / base if base else 0
            lines.append(
                f"| {name} | {load_name(run)} | {run['p50_ms']} | {run['p95_ms']} | "
                f"{run['p99_ms']} | {run['rps']} | {run['errors']} | {page['queries']} | "
                f"{ratio:.1f} |"
            )
    lines += ["", "## Targets", "", "| target | met | measured |", "|---|---|---|"]
    lines += [
        f"| {c['target']} | {'yes' if c['met'] else '**no**'} | {c['measured']} |"
        for c in results.get("targets", [])
    ]
    lines += ["", "## Bulk work", "", "```json",
              json.dumps({k: results.get(k) for k in ("seed", "import", "export")}, indent=2,
                         ensure_ascii=False), "```", "", "## Query plans", ""]  # fmt: skip
    for name, plan in results["plans"].items():
        lines += [f"### {name}", "", "```", plan, "```", ""]
    path.with_suffix(".md").write_text("\n".join(lines))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--requests", type=int, default=200, help="per page, 10 in flight (1 user: a fifth)"
    )
    parser.add_argument(
        "--user-requests", type=int, default=100, help="per page, 10 users pausing 1-3 s"
    )
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    results: dict[str, Any] = {"machine": machine(), "contacts": args.contacts}
    results.update(ensure_data(args.contacts))
    urls = targets()
    counts = query_counts(urls)
    results["postgres"] = postgres_settings()
    results["plans"] = explain_plans()
    results["pages"] = {}
    with Server() as server:
        for name, url in urls.items():
            load = [
                drive(server.url, url, 1, max(20, args.requests // 5), IN_FLIGHT),
                drive(server.url, url, 10, args.user_requests, USERS),
                drive(server.url, url, 10, args.requests, IN_FLIGHT),
            ]
            results["pages"][name] = {"url": url, "queries": counts[name], "load": load}
            print(f"{name:36} q={counts[name]:>3}  " + "  ".join(
                f"{r['users']:>2} {r['mode']:9} p95={r['p95_ms']:>7}ms rps={r['rps']:>6} "
                f"err={r['errors']}" for r in load), flush=True)  # fmt: skip
        results["export"] = bench_export(server, args.export_rows)
        print("export", results["export"], flush=True)
    results["import"] = bench_import(args.import_rows)
    print("import", results["import"], flush=True)
    results["targets"] = check_targets(results)
    path = write_results(results)
    missed = [c for c in results["targets"] if not c["met"]]
    for c in missed:
        print(f"target missed: {c['target']}: {c['measured']}")
    print(f"results: {path} and {path.with_suffix('.md')}")
    print(f"{len(results['targets']) - len(missed)} of {len(results['targets'])} targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
