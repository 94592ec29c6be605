"""Knowledge-base records, made through the services (versions, search columns included)."""

from __future__ import annotations

from typing import Any

from accounts.models import Role, User
from kb import services
from kb.models import Article
from tests.accounts.factories import UserFactory


def make_writer(email: str = "writer@example.com") -> User:
    return UserFactory(email=email, role=Role.SUPPORT_AGENT)


def make_article(author: User, *, title: str = "Import contacts", **values: Any) -> Article:
    values.setdefault("body", "Upload a **CSV** file.")
    return services.article_create(data=services.ArticleInput(title=title, **values), actor=author)


def publish(article: Article, reviewer: User) -> Article:
    services.article_submit_for_review(article=article, actor=article.author)
    return services.article_publish(article=article, actor=reviewer)
