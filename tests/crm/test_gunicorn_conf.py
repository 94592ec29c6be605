"""The production server's settings: DEBUG must be off, and workers freeze long-lived objects."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest


@pytest.fixture
def conf(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("DEBUG", "0")
    sys.modules.pop("crm.gunicorn_conf", None)
    yield importlib.import_module("crm.gunicorn_conf")
    sys.modules.pop("crm.gunicorn_conf", None)
    gc.unfreeze()


def test_refuses_to_serve_with_debug_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEBUG", "1")
    sys.modules.pop("crm.gunicorn_conf", None)
    with pytest.raises(SystemExit, match="DEBUG=0"):
        importlib.import_module("crm.gunicorn_conf")


def test_a_worker_freezes_what_it_loaded_then_again_after_warming_up(conf: ModuleType) -> None:
    gc.unfreeze()
    conf.post_worker_init(None)
    after_init = gc.get_freeze_count()
    assert after_init > 1000, "the loaded app is out of the collector's reach"

    lazily_loaded = [[i] for i in range(5000)]  # what first requests leave behind
    # Frozen objects can still be freed by reference counting (another thread of the test process
    # drops one), so the count may fall a little but never rises unless something was frozen.
    for _ in range(conf.WARM_UP_REQUESTS - 1):
        conf.post_request(None, None, None, None)
    assert gc.get_freeze_count() <= after_init
    conf.post_request(None, None, None, None)
    assert gc.get_freeze_count() >= after_init + len(lazily_loaded) - 100

    frozen = gc.get_freeze_count()
    per_request = [[i] for i in range(5000)]
    for _ in range(3 * conf.WARM_UP_REQUESTS):
        conf.post_request(None, None, None, None)
    assert gc.get_freeze_count() <= frozen, "later requests' objects stay collectable"
    assert per_request
