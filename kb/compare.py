"""Side by side comparison of two article versions (difflib, line by line)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kb.models import ArticleVersion

FIELDS = (
    ("title", _("Title")),
    ("slug", _("Slug")),
    ("summary", _("Summary")),
    ("tags", _("Tags")),
    ("category", _("Category")),
    ("visibility", _("Visibility")),
    ("language", _("Language")),
    ("is_faq", _("FAQ")),
)


@dataclass(frozen=True)
class Row:
    """One line pair: `kind` is equal, replace, delete (only left) or insert (only right)."""

    kind: str
    left: str | None
    right: str | None
    left_no: int | None
    right_no: int | None


@dataclass(frozen=True)
class FieldChange:
    label: str
    left: str
    right: str


def _value(version: ArticleVersion, name: str) -> str:
    if name == "tags":
        return ", ".join(version.tags)
    if name == "category":
        return str(version.category) if version.category else "—"
    if name in ("visibility", "language"):
        return str(getattr(version, f"get_{name}_display")())
    if name == "is_faq":
        return str(_("Yes") if version.is_faq else _("No"))
    return str(getattr(version, name))


def field_changes(left: ArticleVersion, right: ArticleVersion) -> list[FieldChange]:
    return [
        FieldChange(str(label), _value(left, name), _value(right, name))
        for name, label in FIELDS
        if _value(left, name) != _value(right, name)
    ]


def body_rows(left: str, right: str) -> list[Row]:
    """The bodies' lines aligned: equal lines side by side, changed ones paired, removed and
    added ones against a blank."""
    a, b = left.splitlines(), right.splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs = zip(range(i1, i2), range(j1, j2), strict=True)
            rows.extend(Row("equal", a[i], b[j], i + 1, j + 1) for i, j in pairs)
            continue
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            i, j = i1 + k, j1 + k
            in_left, in_right = i < i2, j < j2
            kind = "replace" if in_left and in_right else "delete" if in_left else "insert"
            rows.append(
                Row(
                    kind,
                    a[i] if in_left else None,
                    b[j] if in_right else None,
                    i + 1 if in_left else None,
                    j + 1 if in_right else None,
                )
            )
    return rows
