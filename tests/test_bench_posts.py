"""The benchmark's form posts (issues 27 and 29): a module declares a public form's POST as a page
(`bench.run.PostPage`); the load generator fetches the form for its tokens, posts unique
submissions, and the run checks p95, submissions per second and that nothing was lost. The
target checks on synthetic results, then the real machinery against a live server."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.cache import cache

from bench.run import (
    IN_FLIGHT,
    PostPage,
    check_targets,
    drive,
    form_fields,
    post_query_count,
    select_pages,
    server_env,
    submissions,
)

PAGE = """<html><body>
<form method="post" action="/search/" id="other"><input type="hidden" name="q" value="x"></form>
<form method="post" enctype="multipart/form-data" id="request-form">
  <input type="hidden" name="csrfmiddlewaretoken" value="abc">
  <input type="text" name="leave_empty" value="">
  <input type="HIDDEN" name="started" value="t0" id="id_started">
  <input type="hidden" value="no name">
</form>
<input type="hidden" name="after" value="outside">
</body></html>"""


def test_form_fields_are_the_hidden_inputs_of_the_named_form() -> None:
    assert form_fields(PAGE, "request-form") == (
        {"csrfmiddlewaretoken": "abc", "started": "t0"},
        True,
    )
    assert form_fields(PAGE, "other") == ({"q": "x"}, False)
    with pytest.raises(RuntimeError, match="no <form id='missing'>"):
        form_fields(PAGE, "missing")


def test_each_submission_gets_fresh_tokens_and_data_of_its_own() -> None:
    pages = iter(PAGE.replace("t0", f"t{n}") for n in range(3))
    post = PostPage(
        form_url="/request/",
        form_id="request-form",
        fields={"email": "{key}@example.com", "consent": "on"},
        rows=lambda: 0,
        min_seconds=30,
    )
    bodies, multipart, ready = submissions(lambda path: next(pages), post, 3)
    assert multipart is True
    assert [b["started"] for b in bodies] == ["t0", "t1", "t2"]
    assert len({b["email"] for b in bodies}) == 3
    assert all(b["consent"] == "on" for b in bodies)
    assert all(b["csrfmiddlewaretoken"] == "abc" for b in bodies)
    import time

    assert 29 < ready - time.monotonic() <= 30  # posted once the newest token is old enough


def test_modules_raise_settings_for_the_benchmark_only_through_server_env() -> None:
    from bench.modules import leads, support

    raised = server_env([leads, support])
    assert raised["LEADS_FORM_RATE_LIMIT"] == "1000000"
    assert raised["SUPPORT_REQUEST_LIMIT"] == "1000000"
    from django.conf import settings

    assert settings.LEADS_FORM_RATE_LIMIT == 20  # the production default stands


def test_a_run_can_be_limited_to_some_pages_keeping_the_floor() -> None:
    urls: dict[str, Any] = {"floor (/ping)": "/ping", "lead list": "/leads/", "lead post": "x"}
    assert list(select_pages(urls, "post")) == ["floor (/ping)", "lead post"]
    assert select_pages(urls, "") == urls


# --- targets -------------------------------------------------------------------------------------


def _load(p95: float, rps: float, errors: int = 0) -> list[dict[str, Any]]:
    return [
        {"users": 1, "mode": "in flight", "p95_ms": p95 / 2, "rps": 20.0, "requests": 40,
         "errors": 0},
        {"users": 10, "mode": "users", "p95_ms": p95, "rps": 5.0, "requests": 100, "errors": 0},
        {"users": 10, "mode": "in flight", "p95_ms": p95 * 3, "rps": rps, "requests": 200,
         "errors": errors},
    ]  # fmt: skip


POSTED: dict[str, Any] = {
    "pages": {
        "floor (/ping)": {"load": _load(10.0, 300.0)},
        "lead web form, its post": {
            "load": _load(90.0, 61.0),
            "post": {"accepted": 340, "rows_after_load": 340, "rows_after_relay": 340,
                     "min_rps": 50},
        },
        "request form, its post": {
            "load": _load(120.0, 20.0),
            "post": {"accepted": 340, "rows_after_load": 340, "rows_after_relay": 340,
                     "min_rps": 0},
        },
    },
    "plans": {},
    "relay": {"tasks": 680, "ran": 680, "seconds": 12.5},
}  # fmt: skip


def _missed(results: dict[str, Any]) -> list[str]:
    return [c["target"] for c in check_targets(results) if not c["met"]]


def test_a_run_whose_posts_meet_every_target() -> None:
    targets = {c["target"]: c for c in check_targets(POSTED)}
    assert _missed(POSTED) == []
    assert "lead web form, its post: p95 < 150 ms at 10 users" in targets
    assert "request form, its post: p95 < 150 ms at 10 users" in targets
    assert targets["lead web form, its post: >= 50 submissions/s at 10 in flight"]["measured"] == (
        "61.0/s"
    )
    assert "request form, its post: >= 0 submissions/s at 10 in flight" not in targets
    assert targets["lead web form, its post: nothing lost"]["measured"] == (
        "340 posts accepted; new rows: 340 after the loads, 340 after the relay"
    )
    assert targets["every task the form posts queued ran"]["measured"] == "680 of 680 in 12.5 s"


def test_a_slow_lossy_or_refused_post_misses_its_targets() -> None:
    bad = copy.deepcopy(POSTED)
    lead = bad["pages"]["lead web form, its post"]
    lead["load"] = _load(150.0, 49.9)
    bad["pages"]["request form, its post"]["post"]["rows_after_relay"] = 339  # lost on the way
    bad["relay"]["ran"] = 679
    assert _missed(bad) == [
        "lead web form, its post: p95 < 150 ms at 10 users",
        "lead web form, its post: >= 50 submissions/s at 10 in flight",
        "request form, its post: nothing lost",
        "every task the form posts queued ran",
    ]
    # Refused posts are errors and do not count as submissions per second.
    refused = copy.deepcopy(POSTED)
    refused["pages"]["lead web form, its post"]["load"] = _load(90.0, 60.0, errors=40)
    refused["pages"]["lead web form, its post"]["post"].update(
        accepted=300, rows_after_load=300, rows_after_relay=300
    )
    assert _missed(refused) == [
        "no errors",
        "lead web form, its post: >= 50 submissions/s at 10 in flight",
    ]
    # More rows than accepted posts is not "nothing lost" either: a post counted as failed
    # that was written all the same.
    extra = copy.deepcopy(POSTED)
    extra["pages"]["lead web form, its post"]["post"]["rows_after_load"] = 341
    assert _missed(extra) == ["lead web form, its post: nothing lost"]


def test_the_results_say_what_the_posts_made_and_which_settings_were_raised(
    tmp_path, monkeypatch
) -> None:
    import bench.run

    results = copy.deepcopy(POSTED)
    for page in results["pages"].values():
        for run in page["load"]:
            run.update(p50_ms=1.0, p99_ms=2.0)
        page.update(url="POST /x/", queries=9)
    results.update(
        machine={"cpus": 2},
        size=20000,
        server_env={"LEADS_FORM_RATE_LIMIT": "1000000"},
        note="A small run on a loaded machine.",
    )
    results["targets"] = check_targets(results)
    monkeypatch.setattr(bench.run, "RESULTS", tmp_path)
    text = bench.run.write_results(results).with_suffix(".md").read_text()
    assert "\n\nA small run on a loaded machine.\n\n" in text
    assert "| lead web form, its post | 340 | 340 | 340 |" in text
    assert "Relay: 680 of 680 queued tasks ran in 12.5 s" in text
    assert "Raised for this run only (every post comes from 127.0.0.1): " in text
    assert "`LEADS_FORM_RATE_LIMIT=1000000`" in text


# --- the real thing ------------------------------------------------------------------------------


@pytest.fixture
def raised(settings) -> None:
    settings.LEADS_FORM_RATE_LIMIT = 1000
    settings.SUPPORT_REQUEST_RATE = (1000, 600)
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_lead_form_posts_against_a_live_server_make_one_lead_each(
    live_server, rep, raised, settings
) -> None:
    from bench.modules import leads as bench_leads

    settings.LEADS_FORM_MIN_SECONDS = 1  # tokens must be fetched a second before their post
    bench_leads.prepare(rep)
    post = bench_leads.pages(rep)["lead web form, its post"]
    assert isinstance(post, PostPage)
    before = post.rows()
    result = drive(live_server.url, post, 4, 12, IN_FLIGHT)
    assert (result["requests"], result["errors"]) == (12, 0)
    assert post.rows() - before == 12  # none merged, none lost
    assert post_query_count(post) > 0
    assert post.rows() - before == 14


@pytest.mark.django_db(transaction=True)
def test_request_form_posts_carry_csrf_and_time_tokens_and_each_makes_a_ticket(
    live_server, raised
) -> None:
    from accounts.models import Role
    from bench.modules import support as bench_support
    from support.models import Queue
    from tests.accounts.factories import TeamFactory, UserFactory

    agent = UserFactory(email="agent@example.com", team=TeamFactory(), role=Role.SUPPORT_AGENT)
    Queue.objects.create(name="Helpdesk", lead=agent, team=agent.team)
    post = bench_support.request_post()
    assert post.min_seconds == 3
    result = drive(live_server.url, post, 3, 6, IN_FLIGHT)
    assert (result["requests"], result["errors"]) == (6, 0)  # 302s to the confirmation
    assert post.rows() == 6

    # Posted sooner than the form allows: refused (400), counted as errors, no ticket.
    hasty = PostPage(form_url=post.form_url, form_id=post.form_id, fields=post.fields,
                     rows=post.rows, min_seconds=0)  # fmt: skip
    assert drive(live_server.url, hasty, 2, 2, IN_FLIGHT)["errors"] == 2
    assert post.rows() == 6
