"""The benchmark: how modules plug their pages in, and how it checks its results against the
issue's targets."""

from __future__ import annotations

import copy
from typing import Any

from bench.run import check_targets


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
    "import": {"status": "done", "rows_per_second": 5200, "peak_rss_mb": 111},
    "export": {"rows": 10000, "growth_mb": 19},
    "seed": {"seconds": 205.0},
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
    assert _missed(scan) == ["no sequential scan of contacts in list and search plans"]

    bulk = copy.deepcopy(GOOD)
    bulk["import"] = {"status": "failed", "rows_per_second": 9000, "peak_rss_mb": 400}
    bulk["export"]["growth_mb"] = 80
    bulk["seed"]["seconds"] = 301.0
    assert _missed(bulk) == [
        "import >= 5,000 rows/s",
        "import peak memory <= 250 MB",
        "export memory growth <= 50 MB",
        "seed_demo < 5 minutes",
    ]


def test_a_run_without_seeding_has_no_seed_target() -> None:
    reused = copy.deepcopy(GOOD)
    del reused["seed"]
    assert all("seed" not in c["target"] for c in check_targets(reused))


def test_each_module_plugs_its_pages_in_with_a_file_under_bench_modules() -> None:
    from bench.run import page_modules

    modules = {m.__name__.rsplit(".", 1)[1]: m for m in page_modules()}
    assert "contacts" in modules
    contacts = modules["contacts"]
    assert callable(contacts.pages)
    assert callable(contacts.prepare)
    assert callable(contacts.plans)
