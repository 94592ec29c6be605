"""The benchmark's growth report (issue 31): CPU per request and p95 of each page at two sizes
in one run, the ratio between them and the 1.5x target (synthetic results)."""

from __future__ import annotations

from typing import Any

from bench.run import growth_markdown, growth_report, request_of


def _run(size: int, cpu: dict[str, float], name: str) -> dict[str, Any]:
    def load(ms: float) -> list[dict[str, Any]]:
        return [
            {"users": 1, "mode": "in flight", "p95_ms": ms, "cpu_ms_per_request": ms},
            {"users": 10, "mode": "users", "p95_ms": ms * 2, "cpu_ms_per_request": ms},
            {"users": 10, "mode": "in flight", "p95_ms": ms * 5, "cpu_ms_per_request": ms},
        ]

    return {
        "name": name,
        "size": size,
        "load_before": "12:00 UTC: 9.1 9.0 8.8",
        "load_after": "12:05 UTC: 10.2 9.4 9.0",
        "postgres": "15.8, shared_buffers=128MB",
        "pages": {page: {"load": load(ms)} for page, ms in cpu.items()},
    }


def test_growth_compares_cpu_per_request_of_the_biggest_size_with_the_smallest() -> None:
    small = _run(10_000, {"floor (/ping)": 2.0, "list": 20.0, "search": 20.0}, "a-10000")
    big = _run(1_000_000, {"floor (/ping)": 9.0, "list": 24.0, "search": 45.0}, "a-1000000")
    report = growth_report([big, small])  # in any order
    assert report["sizes"] == [10_000, 1_000_000]
    rows = {row["page"]: row for row in report["pages"]}
    assert rows["list"]["cpu_growth"] == 1.2
    assert rows["list"]["met"] is True
    assert rows["search"]["cpu_growth"] == 2.25
    assert rows["search"]["met"] is False
    assert rows["floor (/ping)"]["met"] is None  # not a page with a target
    assert rows["search"]["sizes"][1_000_000] == {"cpu_ms": 45.0, "cpu_ms_1": 45.0, "p95_ms": 90.0}
    text = growth_markdown(report, "shared machine, load 9")
    assert "| search | 20.0 | 45.0 | 40.0 | 90.0 | 2.25 | **no** |" in text
    assert "shared machine, load 9" in text


def test_a_page_missing_at_one_size_has_no_ratio() -> None:
    report = growth_report([_run(10, {"a": 1.0}, "x"), _run(20, {}, "y")])
    assert report["pages"][0]["met"] is None
    assert "cpu_growth" not in report["pages"][0]


def test_hx_pages_are_requested_as_htmx_fragments() -> None:
    assert request_of("hx:/contacts/?count=1") == ("/contacts/?count=1", {"HX-Request": "true"})
    assert request_of("/contacts/") == ("/contacts/", {})


def test_growth_of_earlier_runs_is_written_next_to_them(tmp_path, monkeypatch, capsys) -> None:
    import json

    from bench import run

    monkeypatch.setattr(run, "RESULTS", tmp_path)
    small = _run(10_000, {"list": 20.0}, "r-10000")
    big = _run(1_000_000, {"list": 22.0}, "r-1000000")
    assert run.write_growth([small, big], "r-growth", "load 11") == 0
    assert json.loads((tmp_path / "r-growth.json").read_text())["pages"][0]["cpu_growth"] == 1.1
    text = (tmp_path / "r-growth.md").read_text()
    assert "| list | 20.0 | 22.0 | 40.0 | 44.0 | 1.1 | yes |" in text
    assert "0 pages over the target" in capsys.readouterr().out
    big["pages"]["list"]["load"][2]["cpu_ms_per_request"] = 31.0
    assert run.write_growth([small, big], "r-growth", "") == 1
