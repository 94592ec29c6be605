"""Where a help-centre page's time goes under gunicorn (issue 30): the public pages compared in
the same run, interleaved round by round, so that other work on a shared machine weighs on
each page alike.

    DATABASE_URL=... .venv/bin/python -m bench.kb_wire [--rounds 6] [--requests 200]

Starts gunicorn as `bench.run` does (production settings, 2 sync workers) and prints per page:
- **bytes** of the response;
- **wire ms**: median time from connect to the server's close, read with a plain socket (no
  HTTP client library): what the server and the loopback take;
- **server CPU ms per request**: the gunicorn workers' and their PostgreSQL backends' CPU from
  /proc/<pid>/schedstat (nanoseconds, not 10 ms ticks), 10 requests in flight;
- **client CPU ms per request**: this process's CPU over the same requests (`requests` threads,
  as `bench.run` drives the pages): what the load generator, on the same cores, pays;
- **req/s** at 10 in flight.
Each number is the median over the rounds. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from bench.run import Server, setup_django


def _cpu_ns(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except OSError:  # a backend that went away
            continue
    return total


def _wire_ms(port: int, path: str) -> float:
    """Connect, send the GET, read until the server closes: milliseconds."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n"
        sock.sendall(request.encode())
        while sock.recv(65536):
            pass
    return (time.perf_counter() - started) * 1000


def _load(base: str, path: str, requests_total: int, in_flight: int) -> float:
    """`requests_total` GETs from `in_flight` threads (a session each, no cookie): seconds."""
    import requests

    def work(count: int) -> None:
        session = requests.Session()
        for _ in range(count):
            session.get(base + path, timeout=30)

    threads = [
        threading.Thread(target=work, args=(requests_total // in_flight,)) for _ in range(in_flight)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


# The kb bench module's public pages (bench/modules/kb.py), by a short name.
PAGES = {
    "help centre home": "home",
    "help search, English": "search en",
    "help article": "article",
    "help category": "category",
}


def pages() -> dict[str, str]:
    from accounts.models import User
    from bench.modules import kb
    from bench.run import REP

    found = kb.pages(User.objects.get(email=REP))
    return {
        short: found[name].removeprefix("anon:") for name, short in PAGES.items() if name in found
    }


def measure(rounds: int, requests_total: int, in_flight: int) -> dict[str, dict[str, Any]]:
    import requests

    urls = pages()
    rows: dict[str, dict[str, list[float]]] = {
        name: {"wire": [], "server": [], "client": [], "rps": []} for name in urls
    }
    sizes: dict[str, int] = {}
    with Server() as server:
        for name, path in urls.items():  # the first render of each page fills the cache
            sizes[name] = len(requests.get(server.url + path, timeout=30).content)
        for number in range(rounds):
            order = list(urls.items())
            if number % 2:
                order.reverse()
            for name, path in order:
                rows[name]["wire"].append(
                    statistics.median(_wire_ms(server.port, path) for _ in range(20))
                )
                pids = server.serving_pids()
                server_ns, client = _cpu_ns(pids), time.process_time()
                seconds = _load(server.url, path, requests_total, in_flight)
                rows[name]["client"].append((time.process_time() - client) * 1000 / requests_total)
                rows[name]["server"].append((_cpu_ns(pids) - server_ns) / 1e6 / requests_total)
                rows[name]["rps"].append(requests_total / seconds)
    return {
        name: {"bytes": sizes[name], **{k: statistics.median(v) for k, v in row.items()}}
        for name, row in rows.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=200, help="per page and round")
    parser.add_argument("--in-flight", type=int, default=10)
    args = parser.parse_args()
    setup_django()
    import os

    found = measure(args.rounds, args.requests, args.in_flight)
    print(f"load average after: {os.getloadavg()}")
    print("| page | bytes | wire ms | server CPU ms/req | client CPU ms/req | req/s |")
    print("|---|---|---|---|---|---|")
    for name, row in found.items():
        print(
            f"| {name} | {row['bytes']:,} | {row['wire']:.2f} | {row['server']:.2f} "
            f"| {row['client']:.2f} | {row['rps']:.0f} |"
        )


if __name__ == "__main__":
    main()
