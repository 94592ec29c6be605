"""A board card's and a deal list row's values, built once per page in Python (`sales.cards`),
and that the pages show exactly them, escaped, in English and Chinese, in a bounded number of
queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from contacts.models import Company
from crm.tags import TagLabel
from sales.cards import CardMaker, CardPage, Money, RowMaker
from sales.models import Opportunity, Stage
from tests.conftest import login
from tests.contacts.factories import CompanyFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SCRIPT = '<script>alert("x")</script> & Co'


def _deal(**values) -> Opportunity:
    """A deal in memory (no query): what a card reads."""
    owner = values.pop("owner", User(pk=9, first_name="Ray", last_name="Porter", email="r@x.cn"))
    deal = Opportunity(
        pk=values.pop("pk", 7),
        name=values.pop("name", "Kiosks"),
        amount=Decimal(values.pop("amount", "1234567.8")),
        currency=values.pop("currency", "CNY"),
        expected_close_date=values.pop("close", dt.date(2026, 12, 24)),
        probability=values.pop("probability", 30),
        score=values.pop("score", 67),
        stage_id=3,
        stage_entered_at=values.pop("entered", NOW - dt.timedelta(days=4, hours=2)),
        **values,
    )
    deal.owner = owner
    return deal


def _open_stage(**values) -> Stage:
    return Stage(pk=3, name="Meet", kind="open", stall_days=values.pop("stall_days", 10))


def test_card_values_money_currency_score_days_owner():
    with translation.override("en"):
        card = CardMaker(now=NOW).cards([_deal()], stage=_open_stage())[0]
    assert (card.amount, card.currency) == ("1,234,567.80", "CNY")
    assert (card.score, card.days_in_stage, card.days_label) == (67, 4, "4 days in stage")
    assert (card.owner_initials, card.owner_title) == ("RP", "Owner: Ray Porter")
    assert (card.close_iso, card.close_label) == ("2026-12-24", "12/24/2026")
    assert card.url == reverse("sales:opportunity-detail", args=[7])
    assert card.move_url == reverse("sales:opportunity-move", args=[7])
    assert card.stalled is False
    assert card.stage_label == "Stage of Kiosks"


def test_overdue_is_an_open_deal_past_its_close_date_in_the_users_time_zone():
    maker = CardMaker(now=NOW)  # 09:00 UTC: 1 December in Shanghai and in UTC
    yesterday, today = dt.date(2026, 11, 30), dt.date(2026, 12, 1)
    open_stage = _open_stage()
    won = Stage(pk=4, name="Won", kind="won", stall_days=10)
    passed, due_today = maker.cards([_deal(close=yesterday), _deal(close=today)], stage=open_stage)
    (closed,) = maker.cards([_deal(close=yesterday)], stage=won)
    assert (passed.overdue, due_today.overdue, closed.overdue) == (True, False, False)
    # 20:00 in Los Angeles on 30 November: the 30th is today there, not past.
    with timezone.override("America/Los_Angeles"):
        late = CardMaker(now=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC))
        assert late.card(_deal(close=yesterday), None).overdue is False


def test_card_one_day_singular_and_stalled_after_stall_days():
    maker = CardMaker(now=NOW)
    with translation.override("en"):
        fresh = maker.card(_deal(entered=NOW - dt.timedelta(hours=30)), 10)
        stale = maker.card(_deal(entered=NOW - dt.timedelta(days=11)), 10)
        closed = maker.card(_deal(entered=NOW - dt.timedelta(days=400)), None)
    assert (fresh.days_label, fresh.stalled) == ("1 day in stage", False)
    assert (stale.days_in_stage, stale.stalled) == (11, True)
    assert closed.stalled is False  # won and lost columns never stall


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("amount", ["0.00", "0.01", "999.5", "1000", "123456789012.34"])
def test_money_writes_what_floatformat_2g_wrote(language, amount):
    with translation.override(language):
        assert Money()(Decimal(amount)) == floatformat(Decimal(amount), "2g")


def test_card_in_chinese():
    with translation.override("zh-hans"):
        card = CardMaker(now=NOW).cards(
            [_deal(name="上海大单", owner=User(pk=5, first_name="伟", last_name="王"))],
            stage=_open_stage(),
        )[0]
        assert card.amount == floatformat(Decimal("1234567.8"), "2g")  # as the filter wrote it
    assert card.amount == "1234567.80"  # Chinese formats group no digits
    assert card.days_label == "本阶段 4 天"
    assert card.owner_title == "负责人: 王伟"
    assert card.stage_label == "上海大单 的阶段"


def test_same_owner_and_days_written_once_per_page():
    maker = CardMaker(now=NOW)
    owner = User(pk=9, first_name="Ray", last_name="Porter", email="r@x.cn")
    with translation.override("en"):
        cards = maker.cards([_deal(pk=i, owner=owner) for i in range(1, 6)], stage=_open_stage())
    assert len({c.url for c in cards}) == 5
    assert list(maker.owners) == [9]
    assert list(maker.days) == [4]


def test_card_markup_for_a_user_who_may_move_deals():
    """`CardPage` writes the card the board's script, its tests and the no-JS form read."""
    tag = TagLabel(pk=1, name="<b>hot</b>", color="danger")
    with translation.override("en"):
        maker = CardMaker(now=NOW)
        deal = _deal(name=SCRIPT, close=dt.date(2026, 11, 2), tag_ids=[1])
        deal.company, deal.row_tags = Company(pk=4, name="Acme & Co"), [tag]
        card = maker.card(deal, 3)
        page = CardPage(
            can_change=True, csrf_input="<input name=csrf>", board_next="/sales/?a=1&b=2"
        )
        html = page.html([card], stage_options='<option value="3" selected>Meet</option>')
    assert html.count("<article") == 1
    assert '<article class="card shadow-sm" draggable="true" data-card data-pk="7"' in html
    assert 'data-stage="3" data-move-url="/sales/opportunities/7/move/"' in html
    assert ">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</a>" in html
    assert '<div class="text-body-secondary text-truncate">Acme &amp; Co</div>' in html
    assert '<span class="badge text-bg-danger me-1">&lt;b&gt;hot&lt;/b&gt;</span>' in html
    assert "<span data-amount>1,234,567.80</span> CNY" in html
    assert 'datetime="2026-11-02"' in html
    assert "data-overdue" in html
    assert '<span class="visually-hidden"> Overdue</span></time>' in html
    assert "<span data-days>4 days in stage</span>" in html
    assert "data-stalled" in html
    assert '<form method="post" action="/sales/opportunities/7/move/"' in html
    assert '<input name=csrf><input type="hidden" name="next" value="/sales/?a=1&amp;b=2">' in html
    assert 'aria-label="Stage of &lt;script&gt;' in html
    assert '<option value="3" selected>Meet</option></select>' in html
    assert '<noscript><button class="btn btn-sm btn-outline-primary" type="submit">Move' in html


def test_card_markup_for_a_user_who_may_not_move_deals():
    with translation.override("en"):
        card = CardMaker(now=NOW).card(_deal(close=dt.date(2027, 1, 5)), None)
        html = CardPage(can_change=False).html([card], stage_options="")
    assert 'draggable="false"' in html
    assert "<form" not in html
    assert "<select" not in html
    assert "data-overdue" not in html
    assert "data-stalled" not in html
    assert "data-tags" not in html
    assert "text-truncate" not in html  # no company


def test_list_row_values():
    deal = _deal(amount="12345.6")
    deal.stage = Stage(pk=3, name="Won", kind="won")
    deal.company = Company(pk=4, name="Acme Steel")
    with translation.override("en"):
        row = RowMaker().row(deal)
    assert (row.name, row.company_name, row.stage_name, row.stage_color) == (
        "Kiosks",
        "Acme Steel",
        "Won",
        "success",
    )
    assert (row.amount, row.currency, row.close_label, row.score) == (
        "12,345.60",
        "CNY",
        "12/24/2026",
        67,
    )
    assert (row.owner, row.url) == ("Ray Porter", reverse("sales:opportunity-detail", args=[7]))
    deal.stage, deal.stage_id = Stage(pk=5, name="Lost", kind="lost"), 5
    deal.company_id = None
    lost = RowMaker().row(deal)
    assert (lost.stage_color, lost.company_name) == ("secondary", "")
    deal.stage, deal.stage_id = Stage(pk=2, name="Meet", kind="open"), 2
    assert RowMaker().row(deal).stage_color == "primary"


def _board(client, pipeline) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_board_shows_the_card_values_escaped_with_tags(client, rep, pipeline):
    company = CompanyFactory(owner=rep, name="<i>Acme</i> & Söhne")
    deal = make_deal(
        rep,
        name=SCRIPT,
        amount="98765.4",
        currency="USD",
        company=company,
        tag_names=["<b>hot</b>"],
        expected_close_date=timezone.localdate() + dt.timedelta(days=3),
    )
    _queries, html = _board(login(client, rep), pipeline)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "&lt;i&gt;Acme&lt;/i&gt; &amp; Söhne" in html
    assert "&lt;b&gt;hot&lt;/b&gt;</span>" in html
    assert "<span data-amount>98,765.40</span> USD" in html
    assert 'aria-label="Stage of &lt;script&gt;alert(&quot;x&quot;)' in html
    assert f'data-pk="{deal.pk}"' in html
    assert "data-overdue" not in html


def test_board_marks_an_overdue_close_date(client, rep, pipeline):
    make_deal(rep, name="Late", expected_close_date=timezone.localdate() - dt.timedelta(days=2))
    make_deal(rep, name="On time", expected_close_date=timezone.localdate())
    _queries, html = _board(login(client, rep), pipeline)
    assert html.count("data-overdue") == 1
    late = html[html.index(">Late</a>") :]
    assert (
        '<span class="visually-hidden"> Overdue</span></time>' in late[: late.index("</article>")]
    )


def test_board_in_chinese(client, rep, pipeline):
    User.objects.filter(pk=rep.pk).update(language="zh-hans")
    make_deal(rep, name="上海大单", amount="5000")
    _queries, html = _board(login(client, rep), pipeline)
    assert "上海大单" in html
    assert "本阶段 0 天" in html
    assert "5000.00" in html  # Chinese formats group no digits (as floatformat:"2g" wrote)


def test_list_rows_escaped_and_chinese(client, rep, pipeline):
    make_deal(rep, name=SCRIPT, amount="42", company=CompanyFactory(owner=rep, name="公司<b>"))
    User.objects.filter(pk=rep.pk).update(language="zh-hans")
    response = login(client, rep).get(reverse("sales:opportunity-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</a>" in html
    assert "公司&lt;b&gt;" in html
    assert "42.00 CNY" in html
    rows = response.context["list"].rows
    assert [r.name for r in rows] == ["&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"]


def test_board_and_list_queries_do_not_grow_with_deals_owners_and_companies(
    client, rep, rep_teammate, pipeline
):
    login(client, rep)
    make_deal(rep, name="First", company=CompanyFactory(owner=rep))
    _board(client, pipeline)  # warm the role and tag caches
    few, _html = _board(client, pipeline)
    with CaptureQueriesContext(connection) as listed:
        client.get(reverse("sales:opportunity-list"))
    for i in range(25):
        owner = rep if i % 2 else rep_teammate
        make_deal(
            owner,
            name=f"Deal {i}",
            amount="10",
            company=CompanyFactory(owner=owner),
            stage=stage(pipeline, "Meet" if i % 3 else "Qualify"),
        )
    many, html = _board(client, pipeline)
    assert many == few
    assert few <= 21  # session, user, scope, filters, the board (4), relations (2), ...
    assert html.count("data-card ") == 12 + 9 + 1  # Meet's first 12 of 16, Qualify's 9 + 1
    with CaptureQueriesContext(connection) as listed_many:
        client.get(reverse("sales:opportunity-list"))
    assert len(listed_many) == len(listed)
