"""A real IMAP server for tests: pymap's in-memory backend (user demouser / demopass) in a
subprocess on a free port. Used by tests/crm/test_mailin.py and the personal-mailbox tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "demouser"
PASSWORD = "demopass"  # pymap's demo account


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_pymap() -> Iterator[int]:
    """Start pymap; yields its port; stops it after."""
    pymap = shutil.which("pymap", path=str(Path(sys.executable).parent))
    assert pymap, "pymap is a dev dependency (pyproject.toml)"
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own venv's binary, fixed arguments
        [pymap, "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def append(port: int, folder: str, *messages: bytes) -> None:
    from crm import mailin

    client = mailin.imap_connect(
        host="127.0.0.1", port=port, username=USER, password=PASSWORD, ssl=False
    )
    try:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()
