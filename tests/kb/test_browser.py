"""The knowledge base in real Chromium at 1280 and 375 px: a customer searches in Chinese,
opens the article and votes (the form comes from the uncached fragment, CSRF-checked); an
agent writes an article with the live preview and sees the staff list and the article page."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from kb import services
from kb.models import Feedback
from tests.browser.conftest import shot, sign_in
from tests.kb.factories import make_article, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(agent, writer, reviewer):
    sync_role_grants()
    cache.delete("version:roles")
    services.public_cache_bump()
    return type(agent).objects.get(pk=agent.pk)


def test_customer_searches_in_chinese_reads_and_votes(page, live_server, granted, writer, reviewer):
    from playwright.sync_api import expect

    category = services.category_create(name="账号与安全")
    article = publish(
        make_article(
            writer,
            title="忘记密码怎么办",
            summary="无法登录时，通过邮件重新设置密码。",  # noqa: RUF001
            body="在登录页面点击**忘记密码**并输入工作邮箱地址。\n\n1. 打开邮件\n2. 设置新密码",
            language="zh-hans",
            category=category,
        ),
        reviewer,
    )
    english = make_article(writer, title="Reset a forgotten password", body="Use the link.")
    publish(english, reviewer)
    page.goto(f"{live_server.url}/kb/")
    page.get_by_label("Search the help centre").fill("重置密码")
    page.get_by_role("button", name="Search").click()
    result = page.get_by_role("link", name="忘记密码怎么办")
    expect(result).to_be_visible()
    shot(page, "kb-01-search-zh")
    result.click()
    expect(page.get_by_role("heading", name="忘记密码怎么办")).to_be_visible()
    no = page.get_by_role("button", name="No")
    expect(no).to_be_visible()  # loaded by kb_help.js from the uncached fragment
    shot(page, "kb-02-article")
    no.click()
    page.get_by_label("Sorry about that. What were you looking for?").fill("短信验证码登录")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for your feedback.")
    shot(page, "kb-03-voted")
    feedback = Feedback.objects.get(article=article)
    assert (feedback.helpful, feedback.comment) == (False, "短信验证码登录")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width


def test_agent_writes_with_live_preview(page, live_server, granted, writer, reviewer):
    from playwright.sync_api import expect

    publish(make_article(writer, title="Import contacts"), reviewer)
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/kb/staff/")
    expect(page.get_by_role("link", name="Import contacts")).to_be_visible()
    shot(page, "kb-04-staff-list")
    page.get_by_role("link", name="New article").click()
    # Wait for the load event: htmx binds the preview trigger on DOMContentLoaded, and a
    # fill that lands before that fires no request (the CI run of 2026-12-01 caught it).
    page.wait_for_url(f"{live_server.url}/kb/staff/new/")
    page.get_by_label("Title").fill("Export deals")
    body = "## Steps\n\nOpen **Deals** <script>alert(1)</script>"
    page.get_by_label("Body (Markdown)").fill(body)
    preview = page.locator("#kb-preview")
    expect(preview.locator("strong")).to_have_text("Deals")
    expect(preview.locator("h2")).to_have_text("Steps")
    assert preview.locator("script").count() == 0
    shot(page, "kb-05-editor")
    page.get_by_role("button", name="Save article").click()
    expect(page.get_by_role("button", name="Submit for review")).to_be_visible()
    shot(page, "kb-06-article")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width


def test_agent_edits_a_category_and_orders_its_articles(
    page, live_server, granted, writer, reviewer
):
    from playwright.sync_api import expect

    category = services.category_create(name="Contacts", slug="contacts")
    for title in ("Alpha import", "Beta export", "Gamma merge"):
        publish(make_article(writer, title=title, category=category, is_faq=True), reviewer)
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/kb/staff/categories/")
    page.get_by_role("link", name="Edit Contacts").click()
    page.get_by_label("Name in Chinese").fill("联系人")
    shot(page, "kb-07-category-edit")
    articles = page.locator("#kb-category-articles [data-kb-article]")
    expect(articles).to_have_count(3)
    page.get_by_role("button", name="Move Gamma merge up").click()
    expect(articles.nth(1)).to_contain_text("Gamma merge")  # swapped in place by htmx
    page.get_by_role("button", name="Move Gamma merge up").click()
    expect(articles.nth(0)).to_contain_text("Gamma merge")
    shot(page, "kb-08-category-ordered")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    page.get_by_role("button", name="Save category").click()
    expect(page.get_by_text("Category saved.")).to_be_visible()
    category.refresh_from_db()
    assert category.name_zh == "联系人"
    page.goto(f"{live_server.url}/kb/faq/")
    questions = page.locator("details summary")
    expect(questions.nth(0)).to_have_text("Gamma merge")


def test_agent_inserts_an_article_into_a_ticket_reply(page, live_server, granted, writer, reviewer):
    """The knowledge-base panel on support's ticket page searches with the ticket's subject;
    "Insert link" and "Insert text" write into the reply composer (static/js/kb_panel.js)."""
    from playwright.sync_api import expect

    from tests.accounts.factories import TeamFactory
    from tests.support.factories import make_agent, make_queue, make_sla_policies, make_ticket

    article = publish(
        make_article(
            writer,
            title="Reset a forgotten password",
            summary="Sign in again with a new password.",
            body="Use the reset link on the sign-in page.",
        ),
        reviewer,
    )
    make_sla_policies()
    lead = make_agent(TeamFactory(name="Desk team"), "desk-lead@example.com")
    ticket = make_ticket(make_queue(lead), actor=lead, subject="Reset password", assignee=lead)
    sign_in(page, live_server, lead.email)
    page.goto(f"{live_server.url}/support/{ticket.pk}/")
    panel = page.locator("[data-kb-panel]")
    expect(panel.get_by_role("link", name="Reset a forgotten password")).to_be_visible()
    composer = page.locator("textarea[data-reply-composer]")
    composer.fill("Hello,")
    panel.get_by_role("button", name="Insert link").click()
    expect(composer).to_have_value(
        f"Hello,\nReset a forgotten password: {live_server.url}/kb/a/{article.slug}/\n"
    )
    panel.get_by_role("button", name="Insert text").click()
    value = composer.input_value()
    assert value.endswith(
        "Sign in again with a new password.\n\nUse the reset link on the sign-in page.\n"
    )
    expect(panel.get_by_role("status")).to_have_text("Added to the reply.")
    shot(page, "kb-05-ticket-insert")
