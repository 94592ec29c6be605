"""The leads pages in the benchmark (see bench/modules/__init__.py): the lead list (first page,
filtered by status and source, sorted by score, a search) and a lead page, over 300,000 leads
per million contacts (`leads.demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

VACUUM = ("leads_lead",)
NEVER_SEQ_SCAN = ("leads_lead",)
LEADS_PER_CONTACT = 0.3

LIST_QUERIES = {
    "list, first page": "",
    "list, new from web forms": "status=new&source=web_form",
    "list, by score": "sort=-score",
    "list, qualified by score": "status=qualified&sort=-score",
    "list, score 80+": "score_min=80&sort=-score",
    "list, search": "q=globex",
}


def seed(size: int) -> dict[str, Any] | None:
    """`size` x 0.3 leads, unless 95 % of them are there."""
    from leads.demo import seed_leads
    from leads.models import Lead

    wanted = int(size * LEADS_PER_CONTACT)
    have = Lead.objects.count()
    if have >= wanted * 0.95:
        return None
    print(f"seeding {wanted - have:,} leads (have {have:,})…", flush=True)
    return seed_leads(wanted - have)


def pages(rep: User) -> dict[str, str]:
    from accounts import access
    from leads.models import Lead

    found = {f"lead {name}": f"/leads/?{query}" for name, query in LIST_QUERIES.items()}
    lead = access.scoped(rep, Lead).filter(archived_at__isnull=True).order_by("pk").first()
    if lead is not None:
        found["lead page"] = f"/leads/{lead.pk}/"
    return found


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of the list's counting query for each measured filter and sort."""
    from bench.run import list_plans
    from leads.lists import LEADS

    return list_plans(LEADS, rep, LIST_QUERIES)
