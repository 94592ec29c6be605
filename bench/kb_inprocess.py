"""In-process cost of the help centre's public pages for an anonymous visitor (issue 30): CPU
time and Python function calls per request, cached (the public page cache's hit) and rendered
(a miss), with the response size and queries. For a loaded machine, where wall-clock throughput
says little: CPU per request is what caps pages per second per core.

Run against a database seeded with the bench's 5,000 articles (`bench.modules.kb.seed`):
  DATABASE_URL=... REDIS_URL=... DEBUG=0 ALLOWED_HOSTS=testserver \\
  .venv/bin/python -m bench.kb_inprocess [requests]
Prints one line per page; not part of the test suite.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import resource
import sys
from typing import Any
from urllib.parse import quote


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _calls(client: Any, url: str) -> int:
    profile = cProfile.Profile()
    profile.enable()
    client.get(url, secure=True)
    profile.disable()
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def main(requests: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    import django
    from django.conf import settings

    # DEBUG off without collectstatic: plain static URLs (the pages' own cost is measured).
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
    django.setup()
    from django.db import connection, reset_queries
    from django.test import Client

    from kb import selectors, services
    from kb.models import Category, Language

    article = selectors.popular_articles(language=Language.EN).first()
    category = Category.objects.order_by("position", "pk").first()
    pages = {
        "home": "/kb/",
        "article": f"/kb/a/{quote(article.slug)}/" if article else None,
        "category": f"/kb/c/{quote(category.slug)}/" if category else None,
        "category p2": f"/kb/c/{quote(category.slug)}/?page=2" if category else None,
        "search en": "/kb/search/?q=import%20contacts",
        "search zh": f"/kb/search/?q={quote('导入联系人')}",
    }
    client = Client()
    header = ("page", "status", "bytes", "miss ms", "hit ms", "calls", "q")
    print(f"{header[0]:<12} " + " ".join(f"{h:>8}" for h in header[1:]))
    for name, url in pages.items():
        if url is None:
            continue
        services.public_cache_bump()
        start = _cpu()
        first = client.get(url, secure=True)
        miss = (_cpu() - start) * 1000
        client.get(url, secure=True)
        start = _cpu()
        for _ in range(requests):
            response = client.get(url, secure=True)
        hit = (_cpu() - start) * 1000 / requests
        connection.force_debug_cursor = True
        reset_queries()
        client.get(url, secure=True)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        calls = _calls(client, url)
        size = len(first.content)
        cached = response.get("X-KB-Cache", "-")
        print(
            f"{name:<12} {first.status_code:>8} {size:>8} {miss:>8.1f} {hit:>8.2f} {calls:>8} "
            f"{queries:>8} {cached}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
