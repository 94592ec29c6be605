"""The knowledge base in the benchmark (see bench/modules/__init__.py): the public help centre
(home, a category, an article, search in English and in Chinese; cached pages, rendered once
per publish) and the staff article list, over the 5,000 articles in English and Chinese that
`seed_demo` writes (`kb.demo.top_up`, called here too for a database seeded before it did).
Issue 30's targets: public pages p95 under 30 ms at 10 users and at least 300 pages per second;
the staff list under 150 ms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from accounts.models import User

VACUUM = ("kb_article", "kb_articleversion", "kb_searchlog")


def seed(size: int) -> dict[str, Any] | None:
    """seed_demo's 5,000 articles (whatever the contact count), when they are not all there:
    the same writer as seed_demo's (`kb.demo.top_up`)."""
    from kb.demo import ARTICLES, top_up
    from kb.models import Article

    have = Article.objects.count()
    if have >= ARTICLES:
        return None
    print(f"seeding {ARTICLES - have:,} knowledge-base articles (have {have:,})…", flush=True)
    return top_up(ARTICLES)


def pages(rep: User) -> dict[str, str]:
    from kb import selectors
    from kb.models import Category, Language

    found = {
        # The help centre as its visitors read it: anonymous (no cookie; bench.run's `anon:`).
        "help centre home": "anon:/kb/",
        "help search, English": "anon:/kb/search/?q=import%20contacts",
        "help search, Chinese": f"anon:/kb/search/?q={quote('导入联系人')}",
        "kb staff list": "/kb/staff/",
        "kb staff list, search": "/kb/staff/?q=pipeline",
    }
    article = selectors.popular_articles(language=Language.EN).first()
    if article is not None:
        found["help article"] = f"anon:/kb/a/{quote(article.slug)}/"
    category = Category.objects.order_by("position", "pk").first()
    if category is not None:
        found["help category"] = f"anon:/kb/c/{quote(category.slug)}/"
    return found


def plans(rep: User) -> dict[str, str]:
    from bench.run import list_plans
    from kb.lists import ARTICLES as SPEC

    return list_plans(SPEC, rep, {"kb list, first page": "", "kb list, search": "q=pipeline"})
