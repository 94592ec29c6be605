"""kb.selectors.suggestions keeps the ids it found (per terms, language, audience and the help
centre's generation) and reads them again through the published filter: a repeat is one query
by primary key; an article gone from the result since is found anew, not shown."""

from __future__ import annotations

import pytest

from accounts.models import User
from kb import selectors, services
from kb.models import Article, Status
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def printers(writer: User, reviewer: User) -> list[Article]:
    return [
        publish(make_article(writer, title=f"Printer jam {n}", body="Open the tray."), reviewer)
        for n in range(3)
    ]


def _suggest() -> list[Article]:
    return selectors.suggestions(text="the printer jams again", language="en", limit=5, public=True)


def test_a_repeat_is_one_query_by_primary_key(printers, django_assert_num_queries):
    first = _suggest()
    assert {a.pk for a in first} == {a.pk for a in printers}
    with django_assert_num_queries(1):
        again = _suggest()
    assert [a.pk for a in again] == [a.pk for a in first]


def test_an_article_archived_since_is_not_shown(printers):
    first = _suggest()
    Article.objects.filter(pk=first[0].pk).update(status=Status.ARCHIVED)  # no bump
    after = _suggest()
    assert first[0].pk not in {a.pk for a in after}
    assert len(after) == len(first) - 1


def test_a_new_generation_finds_new_articles(printers, writer, reviewer):
    assert len(_suggest()) == 3
    publish(make_article(writer, title="Printer offline", body="Check the cable."), reviewer)
    services.public_cache_bump()  # what publishing does once it commits
    assert len(_suggest()) == 4
