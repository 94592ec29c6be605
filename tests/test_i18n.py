"""The Simplified Chinese catalogue is complete and compiled, and users get their language."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_zh_hans_catalogue_is_complete() -> None:
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    missing = [e.msgid for e in catalogue if not e.obsolete and (not e.translated() or e.fuzzy)]
    assert not missing, f"{len(missing)} untranslated or fuzzy messages, e.g. {missing[:10]}"


def test_catalogue_holds_every_string_in_the_code(tmp_path: Path) -> None:
    """makemessages, run on a copy of the code, finds no string the catalogue lacks."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("xgettext (Debian's gettext) is missing; CI installs it")
        pytest.skip("xgettext is not installed")
    base = Path(settings.BASE_DIR)
    skip = shutil.ignore_patterns(".*", "var", "bench", "tests", "static", "__pycache__", "*.mo")
    for item in base.iterdir():
        if item.is_dir() and not item.name.startswith(".") and item.name not in {"var", "tests"}:
            shutil.copytree(item, tmp_path / item.name, ignore=skip)
        elif item.suffix == ".py":
            shutil.copy(item, tmp_path)
    env = {**os.environ, "DEBUG": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        env=env,
        check=True,
    )
    extracted = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in polib.pofile(str(LOCALE / "django.po"))}
    new = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known]
    assert not new, f"not in the catalogue; run makemessages and translate: {new[:10]}"


def test_compiled_catalogue_matches_the_source() -> None:
    source = polib.pofile(str(LOCALE / "django.po"))
    compiled = polib.mofile(str(LOCALE / "django.mo"))

    def pairs(entries: list) -> set[tuple[str, str, str]]:
        return {(e.msgctxt or "", e.msgid, e.msgstr or e.msgstr_plural.get(0, "")) for e in entries}

    stale = pairs(source.translated_entries()) - pairs(list(compiled))
    assert not stale, f"django.mo is stale; run `manage.py compilemessages`: {list(stale)[:5]}"


@pytest.mark.django_db
def test_user_language_applies_to_pages(client: Client, rep) -> None:
    rep.language = "zh-hans"
    rep.save()
    client.force_login(rep)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert "联系人" in html
    assert '<html lang="zh-hans">' in html
