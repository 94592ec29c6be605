"""Fixtures of the sales tests (the role cast comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from sales.models import LossReason, Pipeline
from tests.sales.factories import make_pipeline


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    Pipeline.objects.update(is_default=False)
    return make_pipeline()


@pytest.fixture
def loss_reason(db: None) -> LossReason:
    return LossReason.objects.get_or_create(name="Price")[0]
