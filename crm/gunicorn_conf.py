"""gunicorn settings shared by the Docker image, docker-compose and the benchmark.

    gunicorn crm.wsgi -c python:crm.gunicorn_conf

Two sync worker processes by default (WEB_CONCURRENCY), one request each. Measured against
threads on 2 cores at a million contacts (bench/results/SUMMARY.md): 2 processes x 4 threads
served the light contact page faster (95 against 68 req/s) but gave worse p95 on the list and
search pages, whose PostgreSQL work then ran 8-wide on 2 cores. Set GUNICORN_THREADS to try
threads on bigger machines.

Each worker freezes what it has loaded out of the garbage collector's reach (`gc.freeze()`), once
the app is loaded and again after its first requests have filled Django's lazy caches (URL
resolvers, templates, translations). A full collection otherwise walks those ~140,000
long-lived objects every few hundred requests: a pause of ~100 ms on the request that triggers
it, measured in-process on the contact pages, ~20 ms after the freezes.
"""

import gc
import os

# gunicorn is the production server, and DEBUG is on unless it is turned off: refuse to serve
# debug pages (tracebacks, settings) by accident.
if os.environ.get("DEBUG", "").strip().lower() not in {"0", "false", "no", "off"}:
    raise SystemExit("crm: set DEBUG=0 to serve with gunicorn (production settings)")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A slow export streams for a while; anything else taking this long is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 20
accesslog = None if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "0" else "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Requests a worker serves before its second freeze: enough to have rendered the common pages.
WARM_UP_REQUESTS = 50
_served = 0


def freeze_long_lived() -> None:
    """Collect garbage now, then keep everything still alive out of later collections."""
    gc.collect()
    gc.freeze()


def post_worker_init(worker: object) -> None:
    freeze_long_lived()


def post_request(worker: object, req: object, environ: object, resp: object) -> None:
    # Runs after the response has been sent; only the worker's next request waits for this.
    global _served
    _served += 1
    if _served == WARM_UP_REQUESTS:
        freeze_long_lived()
