"""gunicorn settings shared by the Docker image, docker-compose and the benchmark.

    gunicorn crm.wsgi -c python:crm.gunicorn_conf

Two sync worker processes by default (WEB_CONCURRENCY), one request each. Measured against
threads on 2 cores at a million contacts (bench/results/SUMMARY.md): 2 processes x 4 threads
served the light contact page faster (95 against 68 req/s) but gave worse p95 on the list and
search pages, whose PostgreSQL work then ran 8-wide on 2 cores. Set GUNICORN_THREADS to try
threads on bigger machines.
"""

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
