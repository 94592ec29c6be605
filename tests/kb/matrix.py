"""The knowledge base's URLs for tests/test_permission_matrix.py: the help centre is public;
the staff pages need the kb grants (articles and categories are not owned: a role with
`view_article` reads every article, so `may` follows the declared grants), and the read-only
API."""

from __future__ import annotations

from accounts.models import User
from kb import services
from kb.models import Article, Category
from tests import matrix
from tests.kb.factories import make_article


def _article(owner: User, admin: User) -> Article:
    article = make_article(admin, title=f"Article of {owner.pk}", body="Some **text**.")
    # A second version, so compare and restore have something to work with.
    return services.article_update(
        article=article,
        data=services.ArticleInput(title=article.title, slug=article.slug, body="Changed."),
        actor=admin,
    )


def _category(owner: User, admin: User) -> Category:
    category, _created = Category.objects.get_or_create(slug="matrix", defaults={"name": "Matrix"})
    return category


matrix.records(Article, make=_article)  # type: ignore[arg-type]
matrix.records(Category, make=_category)  # type: ignore[arg-type]

matrix.public(
    "kb:help-home",
    "kb:help-search",
    "kb:help-faq",
    "kb:help-sitemap",
    "kb:help-category",
    "kb:help-article",
    "kb:help-article-vote",
    "kb:help-article-feedback",
    "kb:help-image",
)

matrix.route("kb:article-list", get="login")
matrix.route("kb:article-preview", post="login")
matrix.route("kb:panel-search", get="login")
matrix.route("kb:article-create", Article, get="add", post="add")
matrix.route("kb:image-upload", Article, post="add")
matrix.route("kb:analytics", Article, get="add")
matrix.route("kb:category-list", Category, get="login", post="add")
matrix.route("kb:category-edit", Category, get="change", post="change")
matrix.route("kb:article-move", Article, post="change")
matrix.route("kb:article-detail", Article, get="view")
matrix.route("kb:article-compare", Article, get="view")
matrix.route("kb:article-edit", Article, get="change", post="change")
matrix.route("kb:article-submit", Article, post="change")
matrix.route("kb:article-archive", Article, post="change")
matrix.route("kb:article-publish", Article, post="change", perm="publish")
matrix.route("kb:article-restore", Article, post="change", kwargs={"number": 1})
matrix.route("kb-article-list", get="login")
matrix.route("kb-article-detail", Article, get="view")
matrix.route("kb:article-export", Article, get="export")  # a role permission (crm.exports)
