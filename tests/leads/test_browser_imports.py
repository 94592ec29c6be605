"""The lead import pages in Chromium at 1280 and 375 px: upload, mapping with the value map and
preview, check, commit (inline: a small file; the commit runs in the live worker)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "First Name,Last Name,Email,Company,Industry,Contact owner\n"
    "Linus,Pauling,linus@example.org,Caltech,EDUCATION,manager@example.com\n"
    "张,伟,zhang.wei@example.cn,郑州宇通物流有限公司,物流,manager@example.com\n"
    "Bad,Mail,not-an-email,Nowhere,,\n"
)


def test_lead_import_pages(page, live_server, manager, tmp_path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    sign_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Import leads").click()
    page.get_by_role("heading", name="Import leads").wait_for()
    shot(page, "leads-import-start")
    page.get_by_label("CSV or Excel file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Which column is what?").wait_for()
    assert page.get_by_text("Values in “Industry”").is_visible()
    shot(page, "leads-import-mapping")
    page.get_by_role("button", name="Check the rows").click()
    page.get_by_text("1 problem found; nothing was saved.").wait_for()
    assert page.get_by_text("“not-an-email” is not an email address.").is_visible()
    shot(page, "leads-import-problems")
