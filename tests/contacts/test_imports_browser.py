"""The contact import pages in Chromium at 1280 and 375 px: the import shell's pages
(templates/imports/) with the contact importer's own options, up to the checked rows."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "Name,Email,Lifecycle stage,Record ID\n"
    "Ada Lovelace,ada@example.com,Lead,101\n"
    "张伟,zhang.wei@example.cn,MQL,102\n"
)


def test_contact_import_pages(page, live_server, rep, tmp_path) -> None:
    path = tmp_path / "hubspot-contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    sign_in(page, live_server, rep.email)
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("heading", name="Import contacts").wait_for()
    shot(page, "contacts-import-start")
    page.get_by_label("CSV or Excel file").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Which column is what?").wait_for()
    assert page.get_by_text("Values in “Lifecycle stage”").is_visible()
    assert page.get_by_label("Source system (kept with the ids of its records)").is_visible()
    page.get_by_label("Update existing contacts and create the others").check()
    shot(page, "contacts-import-mapping")
    page.get_by_role("button", name="Check the rows").click()
    page.get_by_role("button", name="Import now").wait_for()
    assert page.get_by_text("All 2 rows checked, no problems.").is_visible()
    shot(page, "contacts-import-checked")
