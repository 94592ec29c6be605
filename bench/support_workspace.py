"""What the ticket workspace's counts and queue pickers cost (issue 29), statement by statement.

    DATABASE_URL=postgres://…/crm_bench_support .venv/bin/python -m bench.support_workspace

For the demo rep and the demo agent: the view tabs' counts (`selectors.view_counts`), "All
open, by queue" (`selectors.queue_counts`) and the agent's own-ticket queues
(`support.scope.own_ticket_queues`, computed, not from the cache). Each statement is captured
as the selector runs it, then EXPLAIN (ANALYZE, BUFFERS) (shared blocks hit + read: what to
compare on a shared machine) and the best of 5 in process (ms, for information). Prints a
Markdown table and the plans.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def _capture(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    from django.db import connection

    seen: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return seen


def _explain(sql: str, params: Any) -> tuple[str, int, float]:
    from django.db import connection

    from bench.modules.support_counts import _buffers

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan, *_buffers(plan)


def measure(emails: tuple[str, ...]) -> str:
    from accounts.models import User
    from bench.modules.support_counts import _best
    from support import scope, selectors

    def fresh(email: str) -> User:
        return User.objects.get(email=email)  # no request-level memo carried over

    lines = [
        "| user | statement | result | blocks (hit+read) | EXPLAIN ms | best of 5 in process, ms |",
        "|---|---|---|---|---|---|",
    ]
    plans: list[str] = []
    for email in emails:
        user = fresh(email)
        scope.ticket_facts(user)  # the role data first: not part of the statements below
        _scopes, visible = scope.ticket_facts(user)
        work: dict[str, Callable[[], Any]] = {
            "view counts": lambda u=user: selectors.view_counts(user=u),
            "queue counts": lambda u=user: selectors.queue_counts(user=u),
            "own-ticket queues": lambda u=user, v=visible: set(
                scope.own_ticket_queue_rows(u, besides=v).values_list("pk", flat=True)
            ),
        }
        for name, fn in work.items():
            marker = "support_queue" if name == "own-ticket queues" else "count(*)"
            statements = [s for s in _capture(fn) if marker in s[0]]
            if not statements:
                lines.append(f"| {email} | {name} | {fn()!r} | no query | - | - |")
                continue
            for sql, params in statements:
                plan, blocks, ms = _explain(sql, params)
                best = _best(fn)
                result = fn()
                shown = repr(result if not isinstance(result, list) else len(result))[:60]
                lines.append(f"| {email} | {name} | {shown} | {blocks:,} | {ms:.1f} | {best:.1f} |")
                plans.append(f"### {email}, {name}\n\n```\n{plan}\n```\n")
    head = (
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared): blocks are "
        "what to compare; times are for information.\n"
    )
    return "\n".join([head, *lines, "", "## Plans", "", *plans])


def main() -> int:
    from bench.run import setup_django

    setup_django()
    emails = tuple(sys.argv[1:]) or ("rep@demo.example", "agent@demo.example")
    print(measure(emails))
    return 0


if __name__ == "__main__":
    sys.exit(main())
