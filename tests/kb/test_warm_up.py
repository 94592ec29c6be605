"""jieba's dictionary is loaded when a worker process starts, not on its first Chinese search;
tests and management commands do not pay for it unless KB_WARM_UP says so."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import jieba  # type: ignore[import-untyped]
import pytest
from celery.signals import worker_process_init

from kb import selectors, text
from kb.apps import warm_up_wanted


@pytest.fixture
def cold_jieba() -> Iterator[None]:
    """jieba as a fresh process has it: the dictionary not loaded yet."""
    jieba.dt.initialized = False
    text._cut.cache_clear()  # no Chinese text cut yet either
    yield
    text.warm_up()


def _loads_during(fn) -> int:  # type: ignore[no-untyped-def]
    real = jieba.dt.initialize
    with mock.patch.object(jieba.dt, "initialize", side_effect=real) as spy:
        fn()
    return spy.call_count


@pytest.mark.django_db
def test_a_cold_process_loads_the_dictionary_on_its_first_chinese_search(cold_jieba) -> None:
    assert not text.dictionary_loaded()
    assert _loads_during(lambda: selectors.public_search(text="导入联系人")) == 1
    assert text.dictionary_loaded()


@pytest.mark.django_db
def test_after_warm_up_a_chinese_search_does_not_load_the_dictionary(cold_jieba) -> None:
    text.warm_up()
    assert text.dictionary_loaded()
    assert _loads_during(lambda: selectors.public_search(text="导入联系人")) == 0


def test_celery_worker_processes_warm_up_when_they_start(cold_jieba) -> None:
    worker_process_init.send(sender=None)
    assert text.dictionary_loaded()


def test_only_gunicorn_warms_up_unless_configured(settings, monkeypatch) -> None:
    settings.KB_WARM_UP = None
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert warm_up_wanted() is False  # tests never, unless configured
    settings.TESTING = False
    assert warm_up_wanted() is True
    monkeypatch.delenv("SERVER_SOFTWARE")
    assert warm_up_wanted() is False  # manage.py commands, runserver
    settings.KB_WARM_UP = True
    assert warm_up_wanted() is True
    settings.KB_WARM_UP = False
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/23.0.0")
    assert warm_up_wanted() is False
