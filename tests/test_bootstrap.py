"""The README's first command, for real: `crm/bootstrap.py run` with no DATABASE_URL/REDIS_URL
starts embedded PostgreSQL and Redis, migrates, loads the demo data, serves the CRM (DEBUG off: the
product's own error pages) with a Celery worker and beat, prints the URL and the demo logins, and
Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_serves_the_demo_and_ctrl_c_stops_everything() -> None:
    # Its own data folder under var/ (the embedded server's user can reach it), fresh each time.
    var = ROOT / "var" / f"test-run-{os.getpid()}"
    shutil.rmtree(var, ignore_errors=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith(("CRM_TESTING", "DJANGO_"))}
    env.update(CRM_VAR_DIR=str(var), PORT=str(port), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "crm/bootstrap.py", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while not any("Ctrl-C stops" in line for line in output):  # the banner's last line
            assert process.poll() is None, "".join(output)[-3000:]
            assert time.monotonic() < deadline, "".join(output)[-3000:]
            time.sleep(0.5)
        text = "".join(output)
        assert f"http://127.0.0.1:{port}/" in text
        for email in ("admin@demo.example", "rep@demo.example", "readonly@demo.example"):
            assert email in text
        postmaster = var / "pgdata" / "postmaster.pid"
        assert postmaster.exists()  # the embedded PostgreSQL is up
        # ... restarted once with the settings the benchmarks assume (a new cluster has 128MB).
        assert "restarting the embedded PostgreSQL with shared_buffers=" in text
        assert "random_page_cost = '1.1'" in (var / "pgdata" / "postgresql.auto.conf").read_text()

        base = f"http://127.0.0.1:{port}"
        health: dict = {}
        for _ in range(90):  # the worker answers its first ping a few seconds after start
            health = json.loads(requests.get(f"{base}/healthz", timeout=10).text)
            if health["status"] == "ok" and health["checks"]["scheduler"]["status"] == "ok":
                break
            time.sleep(1)
        assert health["status"] == "ok", health
        assert health["checks"]["scheduler"]["status"] == "ok", health  # beat ran, worker ran it

        session = requests.Session()
        session.get(f"{base}/accounts/login/", timeout=10)
        response = session.post(
            f"{base}/accounts/login/",
            data={
                "username": "rep@demo.example",
                "password": "demo",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=10,
        )
        assert response.url.endswith("/activities/home/")  # the rep's day is the home page
        response = session.get(f"{base}/contacts/", timeout=10)
        assert re.search(r'href="/contacts/\d+/', response.text)  # the demo contacts are listed

        # DEBUG is off under `run`: the product's own 404, never Django's page listing every
        # URL pattern; static files are still served (whitenoise, after collectstatic).
        missing = session.get(f"{base}/no-such-page/", timeout=10)
        assert missing.status_code == 404
        assert "URLconf" not in missing.text
        assert "Back to the CRM" in missing.text
        stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', response.text)
        assert stylesheets
        assert requests.get(f"{base}{stylesheets[0]}", timeout=10).status_code == 200

        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(60) == 0
        assert not _listening(port)
        for _ in range(20):
            if not postmaster.exists():
                break
            time.sleep(0.5)
        assert not postmaster.exists(), "the embedded PostgreSQL is still running"
    finally:
        if process.poll() is None:  # a failed check: stop everything it started, then it
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(var, ignore_errors=True)
