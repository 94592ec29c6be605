"""Where other modules plug into support without support importing them.

- Ticket panels: side panels on the agent's ticket page (the knowledge base's article search with
  "insert link / insert text") are the record panels of `contacts.panels`, registered for
  "support.ticket": the page includes each template with `ticket` set.

      panels.register_panel(panels.RecordPanel(
          key="kb", template="kb/partials/ticket_panel.html", order=20,
          subjects=("support.ticket",),
      ))

- Article suggesters: the public "submit a request" page and the agent's ticket page ask them for
  articles matching what the customer typed (the knowledge base registers one). `suggest(text,
  language, limit, public)` returns at most `limit` suggestions; `public=True` must return only
  articles anonymous visitors may read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crm.registry import Registry


@dataclass(frozen=True)
class Suggestion:
    title: str
    url: str
    snippet: str = ""
    article_id: int | None = None


@dataclass(frozen=True)
class Suggester:
    key: str
    suggest: Callable[[str, str, int, bool], Sequence[Suggestion]]
    order: int = 100


suggesters: Registry[Suggester] = Registry(
    "article suggesters", key=lambda s: s.key, order=lambda s: s.order
)


def register_suggester(suggester: Suggester) -> Suggester:
    return suggesters.register(suggester)


def suggest(text: str, *, language: str, limit: int = 5, public: bool) -> list[Suggestion]:
    """Suggestions from every registered suggester, in order, at most `limit` in all."""
    found: list[Suggestion] = []
    text = text.strip()
    if not text:
        return found
    for suggester in suggesters:
        found.extend(suggester.suggest(text, language, limit - len(found), public))
        if len(found) >= limit:
            break
    return found[:limit]
