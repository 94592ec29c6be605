"""Voting is CSRF-checked although the article page is cached for everyone: the token comes
from the uncached feedback fragment, which sets the CSRF cookie."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from kb import services
from kb.models import Article, Feedback
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache_generation() -> None:
    services.public_cache_bump()


@pytest.fixture
def article(writer: User, reviewer: User) -> Article:
    return publish(make_article(writer, title="Connect your mailbox"), reviewer)


def _token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_cached_page_has_no_token_and_vote_needs_one(article: Article) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("kb:help-article", args=[article.slug]))
    html = page.content.decode()
    assert "csrfmiddlewaretoken" not in html
    assert not page.cookies  # nothing per visitor: the page can be cached
    assert f'data-kb-feedback="/kb/a/{article.slug}/feedback/"' in html
    assert browser.get(reverse("kb:help-article", args=[article.slug]))["X-KB-Cache"] == "hit"
    vote = reverse("kb:help-article-vote", args=[article.slug])
    # A forged cross-site POST (no cookie, no token) is refused and records nothing.
    assert browser.post(vote, {"helpful": "yes"}).status_code == 403
    assert not Feedback.objects.exists()
    # The fragment is never cached, sets the CSRF cookie and carries the matching token.
    fragment = browser.get(
        reverse("kb:help-article-feedback", args=[article.slug]), {"fragment": 1}
    )
    assert fragment.status_code == 200
    assert "no-cache" in fragment["Cache-Control"] or "max-age=0" in fragment["Cache-Control"]
    assert "<html" not in fragment.content.decode()
    token = _token(fragment.content.decode())
    # A token from someone else's session does not help an attacker either.
    other = Client(enforce_csrf_checks=True)
    other.get(reverse("kb:help-article-feedback", args=[article.slug]))
    assert other.post(vote, {"helpful": "yes", "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    response = browser.post(vote, {"helpful": "no", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"].endswith("?voted=no")
    assert Feedback.objects.get().helpful is False
    # The comment form comes from the fragment too.
    fragment = browser.get(
        reverse("kb:help-article-feedback", args=[article.slug]), {"voted": "no", "fragment": 1}
    )
    html = fragment.content.decode()
    assert "What were you looking for?" in html
    browser.post(vote, {"helpful": "no", "comment": "Gmail", "csrfmiddlewaretoken": _token(html)})
    assert Feedback.objects.get().comment == "Gmail"


def test_feedback_page_without_javascript(article: Article, writer: User) -> None:
    response = Client().get(reverse("kb:help-article-feedback", args=[article.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Was this article helpful?" in html
    draft = make_article(writer, title="Not yet")
    assert Client().get(reverse("kb:help-article-feedback", args=[draft.slug])).status_code == 404
    odd = Client().get(
        reverse("kb:help-article-feedback", args=[article.slug]), {"voted": "<script>"}
    )
    assert "<script>" not in odd.content.decode()
