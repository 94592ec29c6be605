"""The board by status and the merge screen in Chromium at 1280 and 375 px."""

from __future__ import annotations

import pytest

from leads.models import Lead
from tests.browser.conftest import shot, sign_in
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_board_and_merge(page, live_server, rep) -> None:
    for i in range(5):
        make_lead(rep, given_name=f"Lead {i}", email=f"l{i}@x.example", company_name="Globex")
    make_lead(rep, given_name="Ada", family_name="Lovelace", email="ada@x.example")
    second = make_lead(rep, given_name="Ada", family_name="King", email="ada@x.example",
                       job_title="Countess")  # fmt: skip
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/leads/board/")
    page.get_by_role("heading", name="Leads by status").wait_for()
    assert page.get_by_role("heading", name="New", exact=True).is_visible()
    shot(page, "leads-board")
    page.goto(f"{live_server.url}/leads/duplicates/")
    page.get_by_role("link", name="Review").click()
    page.get_by_text("Countess").wait_for()
    shot(page, "leads-merge")
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(f"{live_server.url}/leads/*/")
    second.refresh_from_db()
    assert second.archived_at is not None
    assert Lead.objects.filter(archived_at__isnull=True, email="ada@x.example").count() == 1
