"""The knowledge base's URLs for tests/test_permission_matrix.py: the help centre is public."""

from tests.matrix import public

public(
    "kb:help-home",
    "kb:help-search",
    "kb:help-faq",
    "kb:help-sitemap",
    "kb:help-category",
    "kb:help-article",
    "kb:help-article-vote",
)
