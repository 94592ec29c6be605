"""A task for tests/crm/test_redis_down.py that is still running when the test kills Redis.

Loaded only by the worker that test starts (`celery -A crm worker --include tests.crm.slow_tasks`).
"""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True)
def touch_and_sleep(*, path: str, seconds: float) -> None:
    """Writes `path` when it starts, then sleeps (a long task in flight)."""
    Path(path).write_text("started")
    time.sleep(seconds)
    Path(path).write_text("done")
