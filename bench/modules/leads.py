"""The leads pages in the benchmark (see bench/modules/__init__.py): the lead list (first page,
filtered by status and source, sorted by score, a search), a lead page, the board by status and
a web form's public page, over 300,000 leads per million contacts (`leads.demo`). The form's
post is measured by `tests/leads/test_forms_public.py`'s burst, not here (pages are GETs)."""

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


def prepare(rep: User) -> dict[str, Any]:
    """A web form owned by the rep (the public page is measured like the others)."""
    from leads.models import LeadForm, LeadFormField

    form, created = LeadForm.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "owner": rep, "consent_text": "I agree."}
    )
    if created:
        for position, name in enumerate(("given_name", "email", "company_name", "notes")):
            LeadFormField.objects.create(
                form=form, field=name, required=name == "email", position=position
            )
    return {"web form": form.slug}


def pages(rep: User) -> dict[str, str]:
    from accounts import access
    from leads.models import Lead

    found = {f"lead {name}": f"/leads/?{query}" for name, query in LIST_QUERIES.items()}
    lead = access.scoped(rep, Lead).filter(archived_at__isnull=True).order_by("pk").first()
    if lead is not None:
        found["lead page"] = f"/leads/{lead.pk}/"
    found["lead board"] = "/leads/board/"
    found["lead web form (public page)"] = "/forms/bench/"
    return found


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of the list's counting query for each measured filter and sort."""
    from bench.run import list_plans
    from leads.lists import LEADS

    return list_plans(LEADS, rep, LIST_QUERIES)
