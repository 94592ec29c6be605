"""The benchmark kit: how modules plug their pages, seeding, tables and bulk work in, how capacity
is computed, and how a run is checked against the issue's targets (synthetic results)."""

from __future__ import annotations

import copy
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bench.run import (
    capacity,
    check_targets,
    cpu_seconds,
    never_seq_scan_tables,
    page_modules,
    seed_modules,
    select_modules,
    vacuum_tables,
)


def _load(p95: float, errors: int = 0) -> list[dict[str, Any]]:
    return [
        {"users": 1, "mode": "in flight", "p95_ms": p95 / 2, "errors": errors},
        {"users": 10, "mode": "users", "p95_ms": p95, "errors": 0},
        {"users": 10, "mode": "in flight", "p95_ms": p95 * 3, "errors": 0},
    ]


GOOD: dict[str, Any] = {
    "pages": {
        "floor (/ping)": {"load": _load(400.0)},  # the floor is not a page with a target
        "contact list, first page": {"load": _load(120.0)},
        "search: email": {"load": _load(40.0)},
    },
    "plans": {
        "list, first page": "Index Scan using contact_active_name on contacts_contact",
        "search: email": "Seq Scan on contacts_contactemail\n  Filter: (email = 'x')",
    },
    "never_seq_scan": ["contacts_contact"],
    "bulk": {
        "contacts import": {
            "kind": "import",
            "status": "done",
            "rows_per_second": 5200,
            "peak_rss_mb": 111,
        },
        "contacts export": {"kind": "export", "rows": 10000, "growth_mb": 19},
    },
    "seed": {"contacts": {"seconds": 205.0}},
}


def _missed(results: dict[str, Any]) -> list[str]:
    return [c["target"] for c in check_targets(results) if not c["met"]]


def test_a_run_within_every_target_meets_them_all() -> None:
    checks = check_targets(GOOD)
    assert _missed(GOOD) == []
    assert len(checks) == 2 + 6  # two pages at 10 users, errors, plans, import x2, export, seed


def test_each_missed_target_is_named() -> None:
    slow = copy.deepcopy(GOOD)
    slow["pages"]["contact list, first page"]["load"] = _load(150.0, errors=1)
    assert _missed(slow) == ["contact list, first page: p95 < 150 ms at 10 users", "no errors"]

    scan = copy.deepcopy(GOOD)
    scan["plans"]["search: email"] += "\n->  Seq Scan on contacts_contact  (cost=0.00..1.00)"
    assert _missed(scan) == ["no sequential scan of contacts_contact in the plans"]

    bulk = copy.deepcopy(GOOD)
    bulk["bulk"]["contacts import"] = {
        "kind": "import", "status": "failed", "rows_per_second": 9000, "peak_rss_mb": 400,
    }  # fmt: skip
    bulk["bulk"]["contacts export"]["growth_mb"] = 80
    bulk["seed"]["contacts"]["seconds"] = 301.0
    assert _missed(bulk) == [
        "contacts import >= 5,000 rows/s",
        "contacts import peak memory <= 250 MB",
        "contacts export memory growth <= 50 MB",
        "contacts seeding < 5 minutes",
    ]


def test_the_tables_that_must_not_be_scanned_come_from_the_results() -> None:
    results = copy.deepcopy(GOOD)
    results["never_seq_scan"] = ["contacts_contact", "contacts_contactemail"]
    assert _missed(results) == ["no sequential scan of contacts_contactemail in the plans"]
    # a table whose name only starts like another's is not confused with it
    results["never_seq_scan"] = ["contacts_contactemai"]
    assert _missed(results) == []
    results["never_seq_scan"] = []
    assert all("sequential" not in c["target"] for c in check_targets(results))


def test_a_run_without_seeding_has_no_seed_target() -> None:
    reused = copy.deepcopy(GOOD)
    del reused["seed"]
    assert all("seed" not in c["target"] for c in check_targets(reused))


# --- modules -------------------------------------------------------------------------------------


@pytest.fixture
def fake_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package of two synthetic bench modules (and a private helper that is not one)."""
    package = tmp_path / "fake_bench_modules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "beta.py").write_text(
        textwrap.dedent("""
        VACUUM = ("beta_thing", "shared_table")
        def pages(rep):
            return {"beta list": "/beta/"}
        def seed(size):
            return None  # already there
        """)
    )
    (package / "alpha.py").write_text(
        textwrap.dedent("""
        import time
        VACUUM = ("alpha_item", "shared_table")
        NEVER_SEQ_SCAN = ("alpha_item",)
        SEEDED = []
        def pages(rep):
            return {"alpha list": "/alpha/"}
        def seed(size):
            SEEDED.append(size)
            time.sleep(0.05)
            return {"rows": size * 2, "items": size}
        """)
    )
    (package / "_helpers.py").write_text("raise RuntimeError('not a bench module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fake_bench_modules"
    for name in [m for m in sys.modules if m.startswith("fake_bench_modules")]:
        del sys.modules[name]


def test_modules_are_found_in_name_order_skipping_private_files(fake_modules: str) -> None:
    modules = page_modules(fake_modules)
    assert [m.__name__ for m in modules] == [f"{fake_modules}.alpha", f"{fake_modules}.beta"]


def test_a_run_can_be_limited_to_some_modules(fake_modules: str) -> None:
    modules = page_modules(fake_modules)
    assert [m.__name__ for m in select_modules(modules, "beta")] == [f"{fake_modules}.beta"]
    assert select_modules(modules, "") == modules
    with pytest.raises(SystemExit, match="no bench module named gamma"):
        select_modules(modules, "beta, gamma")


def test_vacuumed_and_never_scanned_tables_come_from_the_modules(fake_modules: str) -> None:
    modules = page_modules(fake_modules)
    assert vacuum_tables(modules) == ["alpha_item", "shared_table", "beta_thing"]
    assert never_seq_scan_tables(modules) == ["alpha_item"]


def test_each_module_seeds_itself_and_is_timed_when_it_had_to(fake_modules: str) -> None:
    modules = page_modules(fake_modules)
    seeded = seed_modules(modules, 1000)
    assert list(seeded) == ["alpha"]  # beta had its records
    assert modules[0].SEEDED == [1000]
    alpha = seeded["alpha"]
    assert alpha["items"] == 1000
    assert alpha["seconds"] >= 0.0
    assert 0 < alpha["rows_per_second"] <= 2000 / 0.05


def test_the_contacts_module_plugs_in_with_its_own_seeding_tables_and_bulk_work() -> None:
    modules = {m.__name__.rsplit(".", 1)[1]: m for m in page_modules()}
    contacts = modules["contacts"]
    for name in ("pages", "prepare", "plans", "seed", "bulk"):
        assert callable(getattr(contacts, name)), name
    assert "contacts_contact" in contacts.VACUUM
    assert contacts.NEVER_SEQ_SCAN == ("contacts_contact",)


def test_bench_run_knows_no_module() -> None:
    source = (Path(__file__).resolve().parent.parent / "bench" / "run.py").read_text()
    code = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("#", '"'))
    )
    for word in ("contacts_", "from contacts", "import contacts", "Contact", "/contacts/"):
        assert word not in code, word


# --- capacity ------------------------------------------------------------------------------------


def test_capacity_is_pages_per_cpu_second_of_the_serving_processes() -> None:
    before = {10: 5.0, 11: 2.0}
    after = {10: 6.5, 11: 2.5, 12: 1.0}  # 12 started during the run: counted from zero
    assert capacity(300, before, after) == {
        "server_cpu_s": 3.0,
        "pages_per_core_s": 100.0,
        "cpu_ms_per_request": 10.0,  # the same per request (issue 31's growth is read from it)
    }
    assert capacity(0, {}, {})["pages_per_core_s"] is None


def test_cpu_seconds_reads_proc_and_skips_gone_processes() -> None:
    sum(i * i for i in range(300_000))  # use a little CPU
    used = cpu_seconds([os.getpid(), 2**22 + 12345])
    assert list(used) == [os.getpid()]
    assert used[os.getpid()] > 0


def test_results_files_report_capacity_load_and_targets(tmp_path, monkeypatch) -> None:
    import json

    import bench.run

    def load(p95: float, cap: float | None) -> list[dict[str, Any]]:
        base = {"p50_ms": p95 / 2, "p99_ms": p95 * 2, "rps": 9.5, "errors": 0}
        return [
            {**base, "users": 1, "mode": "in flight", "p95_ms": p95, "pages_per_core_s": cap},
            {**base, "users": 10, "mode": "users", "p95_ms": p95, "pages_per_core_s": cap},
            {**base, "users": 10, "mode": "in flight", "p95_ms": p95 * 3, "pages_per_core_s": cap},
        ]

    results = {
        **copy.deepcopy(GOOD),
        "machine": {"cpus": 2},
        "size": 1000,
        "postgres": "15.2",
        "load_before": "08:00 UTC: 9.1 8.0 7.5",
        "load_after": "08:30 UTC: 3.0 4.0 5.0",
    }
    results["pages"] = {
        "floor (/ping)": {"url": "/ping", "queries": 1, "load": load(10.0, 250.0)},
        "contact list, first page": {"url": "/contacts/", "queries": 6, "load": load(50, 27.5)},
    }
    results["targets"] = check_targets(results)
    monkeypatch.setattr(bench.run, "RESULTS", tmp_path)
    path = bench.run.write_results(results)
    assert json.loads(path.read_text())["size"] == 1000
    text = path.with_suffix(".md").read_text()
    assert "before: 08:00 UTC: 9.1 8.0 7.5; after: 08:30 UTC: 3.0 4.0 5.0" in text
    assert "| pages/s per core |" in text
    assert "| contact list, first page | 27.5 | 9.5 |" in text  # the capacity table
    assert "| contact list, first page: p95 < 150 ms at 10 users | yes | 50 ms |" in text
    assert '"contacts import"' in text  # the bulk work
