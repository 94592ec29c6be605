"""The leads pages in the benchmark (see bench/modules/__init__.py): the lead list (first page,
filtered by status and source, sorted by score, a search), a lead page, the board by status and
a web form's public page and its post (`bench.run.PostPage`: issue 27's target, p95 under 150 ms
at 10 users, 50 submissions a second at 10 in flight, nothing lost), over 300,000 leads per
million contacts (`leads.demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from bench.run import Page, PostPage

VACUUM = ("leads_lead",)
NEVER_SEQ_SCAN = ("leads_lead",)
LEADS_PER_CONTACT = 0.3
FORM_SLUG = "bench"
# Every post comes from 127.0.0.1: the per-address limit (20 a minute in production) is raised
# for the benchmark's processes only. The benchmark sends no mail (the new owner's notice).
SERVER_ENV = {
    "LEADS_FORM_RATE_LIMIT": "1000000",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
SUBMISSIONS_PER_SECOND = 50  # issue 27: at 10 in flight, on this machine

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
        slug=FORM_SLUG, defaults={"name": "Bench", "owner": rep, "consent_text": "I agree."}
    )
    if created:
        for position, name in enumerate(("given_name", "email", "company_name", "notes")):
            LeadFormField.objects.create(
                form=form, field=name, required=name == "email", position=position
            )
    return {"web form": form.slug}


def pages(rep: User) -> dict[str, Page]:
    from accounts import access
    from leads.models import Lead

    found: dict[str, Page] = {
        f"lead {name}": f"/leads/?{query}" for name, query in LIST_QUERIES.items()
    }
    lead = access.scoped(rep, Lead).filter(archived_at__isnull=True).order_by("pk").first()
    if lead is not None:
        found["lead page"] = f"/leads/{lead.pk}/"
    # The count the pager loads after the rows (HTMX, `count=1`: see "Counting" in
    # docs/architecture.md).
    found["lead list, its count"] = "hx:/leads/?count=1"
    web_form = "hx:/leads/?status=new&source=web_form&count=1"
    found["lead list, new from web forms, its count"] = web_form
    found["lead board"] = "/leads/board/"
    found["lead web form (public page)"] = f"/forms/{FORM_SLUG}/"
    found["lead web form, its post"] = form_post()
    return found


def form_post() -> PostPage:
    """The web form's hosted page posted as a visitor fills it in: a fresh token per submission
    (its id is the lead's capture key), consent given, a person and company of their own."""
    from bench.run import PostPage
    from leads import webforms
    from leads.models import Lead

    return PostPage(
        form_url=f"/forms/{FORM_SLUG}/",
        form_id="lead-web-form",
        fields={
            "given_name": "Bench {key}",
            "email": "bench-{key}@leads.example",
            "company_name": "Bench Form Co {key}",
            "notes": "Interested in a demo for our team.",
            "consent": "on",
        },
        rows=Lead.objects.filter(web_form__slug=FORM_SLUG).count,
        min_seconds=webforms.min_seconds(),
        min_rps=SUBMISSIONS_PER_SECOND,
    )


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS), named like the pages ("lead ..."; other modules have lists
    too, and plans are one mapping): the list's counting query for each measured filter and
    sort (as the kit counts with the rows), the count the pager loads after them (`lazy_count`:
    the lead list counts after its rows, to 1,000), and the board's two queries."""
    from bench.run import list_plans
    from leads.lists import LEADS

    found = {f"lead {name}": plan for name, plan in list_plans(LEADS, rep, LIST_QUERIES).items()}
    found.update(count_plans(rep))
    found.update(board_plans(rep))
    return found


def count_plans(rep: User) -> dict[str, str]:
    """The count fragment's query (`crm.pagination.capped_count` over the page's queryset, as
    `count_response` runs it) for each measured list without a search."""
    from django.conf import settings
    from django.db import connection, transaction

    from crm.lists import query_for
    from crm.pagination import _bare
    from leads.lists import LEADS

    cap = LEADS.count_cap or settings.CRM_COUNT_CAP
    found = {}
    for name, query in LIST_QUERIES.items():
        page = query_for(LEADS, rep, query)
        if page.searching:
            continue
        sql, params = _bare(page.queryset)[: cap + 1].query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) q", params)
            found[f"lead {name} (its count)"] = "\n".join(row[0] for row in cursor.fetchall())
    return found


def board_plans(rep: User) -> dict[str, str]:
    """The board's queries on leads_lead (the grouped count, the cards), as the page runs them
    (`leads.selectors.board_columns` over the list's FilterSet)."""
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from crm.lists import filtered
    from leads.lists import LEADS
    from leads.selectors import board_columns

    request = RequestFactory().get("/leads/board/")
    request.user = rep
    with CaptureQueriesContext(connection) as ran:
        board_columns(qs=filtered(LEADS, request).qs)
    found = {}
    statements = [q["sql"] for q in ran if '"leads_lead"' in q["sql"]]
    for number, sql in enumerate(statements, 1):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        found[f"lead board (query {number} of {len(statements)})"] = plan
    return found
