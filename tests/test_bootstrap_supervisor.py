"""`make run` keeps the CRM up: a process that exits is started again after a pause that grows
while it keeps failing, and the others keep running; the web server runs with DEBUG off."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from crm import bootstrap
from crm.bootstrap import Supervisor


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_crashing_process_is_restarted_with_backoff_and_the_others_keep_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor = Supervisor(
        {"worker": _python("raise SystemExit(3)"), "web": _python("import time; time.sleep(60)")},
        env={},
    )
    supervisor.start_all()
    web_pid = supervisor.children["web"].pid
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            supervisor.poll()
            time.sleep(0.05)
        # Exits at ~0 s, restarted at ~1 s, exits, restarted at ~3 s (pause 2 s), exits; the
        # next pause is 4 s: three exits in 6 s, not one per poll.
        assert supervisor.restarts["worker"] == 3
        assert supervisor.delay["worker"] == 8.0
        assert supervisor.children["web"].pid == web_pid  # untouched
        assert supervisor.children["web"].poll() is None
        out = capsys.readouterr().out
        assert "worker exited with code 3; restarting it in 1 s (restart 1)" in out
        assert "worker exited with code 3; restarting it in 2 s (restart 2)" in out
    finally:
        supervisor.stop_all(timeout=5)
    assert not supervisor.children


def test_the_pause_starts_again_after_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Supervisor, "STABLE_AFTER", 0.5)
    supervisor = Supervisor({"beat": _python("import time; time.sleep(0.7)")}, env={})
    supervisor.delay["beat"] = 32.0  # after many quick failures
    supervisor.start_all()
    try:
        deadline = time.monotonic() + 3
        while not supervisor.restarts["beat"] and time.monotonic() < deadline:
            supervisor.poll()
            time.sleep(0.05)
        assert supervisor.restarts["beat"] == 1
        assert supervisor.delay["beat"] == 2.0  # waited 1 s, not 32
    finally:
        supervisor.stop_all(timeout=5)


def test_run_serves_with_debug_off_and_a_kept_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "VAR", tmp_path)
    for name in ("DEBUG", "SECRET_KEY", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    env = bootstrap.run_environment()
    assert env["DEBUG"] == "0"
    assert len(env["SECRET_KEY"]) > 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert env["SECURE_SSL_REDIRECT"] == env["SESSION_COOKIE_SECURE"] == "0"  # plain http here
    assert bootstrap.run_environment()["SECRET_KEY"] == env["SECRET_KEY"]  # kept between runs
    monkeypatch.setenv("DEBUG", "1")  # asked for explicitly
    assert bootstrap.run_environment()["DEBUG"] == "1"
