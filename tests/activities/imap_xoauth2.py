"""A real IMAP server that accepts SASL XOAUTH2, for the personal-mailbox OAuth tests.

pymap offers PLAIN and LOGIN only, but its configuration and login are classes: this module
registers a backend `xoauth2dict` (pymap's in-memory dict backend) whose SASL mechanisms add
pysasl's `OAuth2Mechanism` (XOAUTH2, Google's format: `user=..^Aauth=Bearer ..^A^A`) and whose
login accepts those credentials when the user is the demo user and the bearer token is the one
in `--token-file` (read at each sign-in, so a test "rotates" the provider's token by writing the
file). LOGIN with the demo password still works (to append test mail). Run as a subprocess by
`running_xoauth2_imap()`; `python -m tests.activities.imap_xoauth2 --help` for the arguments.
"""

from __future__ import annotations

import hmac
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.crm.imap_server import PASSWORD, USER, free_port  # noqa: F401 - re-exported


def _backend() -> Any:
    """The pymap classes, built only in the server process (pymap is a dev dependency)."""
    from pymap.backend import backends
    from pymap.backend.dict import Config, DictBackend, Identity, Login
    from pymap.exceptions import InvalidAuth
    from pysasl import SASLAuth
    from pysasl.creds.external import ExternalCredentials
    from pysasl.mechanism.oauth import OAuth2Mechanism

    class XOAuth2Config(Config):
        token_file: Path

        @property
        def tls_auth(self) -> SASLAuth:
            # Also the mechanisms offered before TLS here: the server runs with --no-tls.
            return SASLAuth([*SASLAuth.defaults().server_mechanisms, OAuth2Mechanism()])

    class XOAuth2Login(Login):
        async def authenticate(self, credentials: Any) -> Any:
            if not isinstance(credentials, ExternalCredentials):
                return await super().authenticate(credentials)
            try:
                credentials.verify(None)
            except Exception as exc:  # ExternalVerificationRequired carries the bearer token
                token = str(getattr(exc, "token", "") or "")
            expected = self.config.token_file.read_text().strip()
            user_ok = credentials.authzid == self.config.demo_user
            if not (user_ok and expected and hmac.compare_digest(token, expected)):
                raise InvalidAuth()
            return Identity(credentials.authzid, self, None, frozenset())

    @backends.register("xoauth2dict")
    class XOAuth2Backend(DictBackend):
        @classmethod
        def add_subparser(cls, name: str, subparsers: Any) -> Any:
            parser = super().add_subparser(name, subparsers)
            parser.add_argument("--token-file", required=True, type=Path)
            return parser

        @classmethod
        async def init(cls, args: Any, **overrides: Any) -> Any:
            config = XOAuth2Config.from_args(args, **overrides)
            config.token_file = args.token_file
            login = XOAuth2Login(config)
            await cls._add_demo_user(config, login)
            return cls(login, config), config

    return XOAuth2Backend


@contextmanager
def running_xoauth2_imap(token_file: Path) -> Iterator[int]:
    """Start the server (the token it accepts is `token_file`'s text); yields its port."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
        [
            sys.executable,
            "-m",
            "tests.activities.imap_xoauth2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "xoauth2dict",
            "--token-file",
            str(token_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 20
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


if __name__ == "__main__":
    from pymap.main import main

    _backend()
    main()
