"""Fixtures shared by the activities tests (the role cast comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.contacts.factories import CompanyFactory, ContactFactory


@pytest.fixture
def company_contact(rep):
    """A rep's contact who works at the rep's company."""
    company = CompanyFactory(owner=rep, name="Acme Robotics")
    return ContactFactory(owner=rep, given_name="Carla", family_name="Caller", company=company)
