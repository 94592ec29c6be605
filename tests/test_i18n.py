"""The Simplified Chinese catalogue is complete and compiled, and users get their language."""

from __future__ import annotations

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
