"""What the knowledge base plugs into support: the article suggester (support.plugins.suggest)
and the ticket panel's template, tested directly (support's pages include them)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from accounts.models import User
from contacts.panels import panels
from kb import services
from kb.models import Visibility
from support import plugins
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(writer: User, reviewer: User) -> dict[str, object]:
    return {
        "public": publish(
            make_article(
                writer,
                title="Reset your password",
                body="Use the *Forgot password* link on the sign-in page.",
            ),
            reviewer,
        ),
        "zh": publish(
            make_article(
                writer,
                title="重置密码",
                body="在登录页面点击忘记密码链接，然后查收邮件。",  # noqa: RUF001
                language="zh-hans",
            ),
            reviewer,
        ),
        "internal": publish(
            make_article(
                writer,
                title="Password reset for locked accounts",
                body="Agents unlock the account in the admin before a reset.",
                visibility=Visibility.INTERNAL,
            ),
            reviewer,
        ),
        "draft": make_article(writer, title="Password policy draft", body="password rules"),
        "archived": services.article_archive(
            article=publish(make_article(writer, title="Old password page"), reviewer),
            actor=writer,
        ),
    }


def test_public_suggestions_are_public_published_only(articles: dict) -> None:
    text = "Hi, I forgot my password and cannot sign in. Can you reset it?"
    found = plugins.suggest(text, language="en", limit=5, public=True)
    assert [s.title for s in found][:1] == ["Reset your password"]
    titles = {s.title for s in found}
    assert not titles & {"Password reset for locked accounts", "Password policy draft"}
    assert "Old password page" not in titles
    assert all(s.url.startswith("/kb/a/") for s in found)
    assert found[0].article_id == articles["public"].pk


def test_staff_suggestions_include_internal_but_not_drafts(articles: dict) -> None:
    found = plugins.suggest("password reset locked account", language="en", limit=5, public=False)
    by_title = {s.title: s for s in found}
    assert "Password reset for locked accounts" in by_title
    assert by_title["Password reset for locked accounts"].url.startswith("/kb/staff/")
    assert "Password policy draft" not in by_title
    assert "Old password page" not in by_title


def test_chinese_text_suggests_the_chinese_article_first(articles: dict) -> None:
    text = "你好，我忘记密码了，怎么重置？"  # noqa: RUF001
    found = plugins.suggest(text, language="zh-hans", limit=3, public=True)
    assert found[0].title == "重置密码"


@pytest.mark.parametrize("text", ["", "   ", "!!!", "\u200b", "a" * 10_000, "的" * 5000])
def test_odd_text_gives_no_error(articles: dict, text: str) -> None:
    assert len(plugins.suggest(text, language="en", limit=3, public=True)) <= 3


def test_ticket_panel_template(rep: User) -> None:
    panel = panels.get("kb")
    assert panel is not None
    assert panel.subjects == ("support.ticket",)
    request = RequestFactory().get("/support/tickets/1/")
    request.user = rep
    ticket = SimpleNamespace(pk=1, subject='Cannot reset "password" <b>')
    html = render_to_string(panel.template, {"ticket": ticket}, request=request)
    assert "data-kb-panel" in html
    assert 'src="/static/js/kb_panel.js"' in html
    assert "/kb/staff/panel-search/?q=Cannot%20reset%20%22password%22%20%3Cb%3E" in html
    assert "<b>" not in html  # the subject is escaped
    assert "<script>" not in html.replace(
        '<script src="/static/js/kb_panel.js" defer></script>', ""
    )
