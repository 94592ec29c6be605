"""Links to records, for pages that show many of them.

`reverse()` costs ~65 µs: a list page of 50 rows with two links each spends 7 ms in it. A
record's URL differs from its neighbours' only in the id, so `record_url()` reverses each URL
name once (per script prefix, URL conf and language) and puts the id into the cached result.
Models use it in `get_absolute_url()`, which templates call: `{{ contact.get_absolute_url }}`.
"""

from __future__ import annotations

import html

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString
from django.utils.translation import get_language

_MARK = 2_147_483_647  # an id no test or demo record has, so it is found once in the URL
_SPLIT: dict[tuple[str, str, str | None, str | None], tuple[str, str]] = {}


def record_url(viewname: str, pk: int) -> str:
    """`reverse(viewname, args=[pk])` for a URL whose only argument is an integer id."""
    before, after = record_url_parts(viewname)
    return f"{before}{int(pk)}{after}"


def record_url_parts(viewname: str) -> tuple[str, str]:
    """What comes before and after the id in `viewname`'s URL, reversed once (per script
    prefix, URL conf and language). A page building many rows takes them once and writes
    `f"{before}{pk}{after}"` per row (`support.rows`)."""
    key = (viewname, get_script_prefix(), get_urlconf(), get_language())
    parts = _SPLIT.get(key)
    if parts is None:
        before, mark, after = reverse(viewname, args=[_MARK]).partition(str(_MARK))
        if not mark or str(_MARK) in after:
            raise ValueError(f"{viewname} does not take one integer id")
        parts = _SPLIT[key] = (before, after)
    return parts


def escaped(text: str) -> SafeString:
    """A text as the template's autoescape writes it (`django.utils.html.escape` without its
    lazy-string wrapper), for rows and cards written in Python (`contacts.rows`, `sales.cards`)."""
    return SafeString(html.escape(text))
