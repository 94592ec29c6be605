"""Bulk actions of the list kit: a list's spec declares them, the kit renders the bar, checks
the post, runs the action and says what happened.

    bulk=BulkSpec(
        url_name="leads:lead-bulk",
        actions=(
            BulkAction(name="assign", label=_("Assign owner"), handler=assign,
                       messages=lead_messages, options=LeadOwnerForm),
            ...
        ),
        scope=lambda user: access.scoped(user, Lead, "change"),   # the permission door
        allowed=lambda user: access.has_model_perm(user, Lead, "change"),
        empty_message=lambda: _("Select at least one lead."),
    )

    def lead_bulk(request):                   # the app's URL (its name is in the matrix)
        return bulk_response(request, LEADS, back="leads:lead-list")

A handler is a service call: `handler(*, actor, ids, options) -> BulkOutcome`, given ids the
actor may change (the service scopes them again) and the action's options form's cleaned data.
`messages(outcome, options)` turns what it did into (level, text) pairs.

What the kit guarantees, for every list:
- The ids posted are only a wish: each is looked up through `BulkSpec.scope` (the rows the
  user may change); forged, stale or out-of-scope ids are counted ("refused") and never touched.
  At most `max_ids` ids a post; malformed ones are a form error.
- "All matching" (`all=1`): the post carries the list's query string, not ids. The server
  applies the list's own FilterSet to its selector's rows (`crm.lists.filtered`: unknown or
  invalid filter values drop only their own filter, as on the page) and intersects them with
  the scope. Up to CRM_BULK_IN_REQUEST rows (1,000; a list whose rows cost more lowers it
  with `BulkSpec.in_request`) run in the request; more run as a job (`crm.jobs`: the row is
  written first, the task handed to Celery after commit, so a worker that is down only delays
  it) in chunks of CHUNK ids, each its own transaction, with a progress fragment. The job
  finds the rows again the same way (its kwargs are the list, the query and the raw option
  values, checked again by the action's options form as the job's actor).
- A domain error of the service is shown as a message; bad input is a message, never a 500.
- An action that can take rows out of the user's sight (moving tickets to a queue the user
  does not see: a transfer) declares `unseen_message(n, options) -> text`. The kit then counts,
  per chunk, the rows of the list's selector (`ListSpec.selector`, what the list shows the
  user) among the ids before the handler runs and after it: those gone are
  `BulkOutcome.unseen`, and the text is added as an info message after the action's own (in
  the request and in a job's message). Two queries a chunk, only for such actions.
- An action that must do something once for the whole selection, not once a chunk (leads'
  "Assign owner": one notification per new owner, "Ana assigned you 1,240 leads") declares
  `finished(actor, summary)`. Its handler returns what to remember in `BulkOutcome.tally`
  (counts by key); the kit adds the chunks' tallies up and calls `finished` once, after the
  last chunk: in the request, or in the job, where each chunk's tally is written to the job's
  row (`Job.tally`) in the chunk's own transaction and `finished` runs in the transaction that
  claims `Job.wrapped_up_at`. A worker that dies between chunks loses nothing (the requeued
  run's chunks change, and count, only what is left), and a retried last chunk or a second
  run does not call it again. A job that fails (a domain error) does not call it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from auditlog.diff import model_instance_diff
from celery import shared_task
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_htmx.http import HttpResponseClientRedirect

from crm import jobs
from crm.errors import DomainError
from crm.lists import SPECS, BulkSpec, ListSpec, filtered

if TYPE_CHECKING:
    from crm.http import AuthedHttpRequest

CHUNK = 500  # ids per transaction in a job: each chunk's locks are short
MAX_QUERY = 2000  # characters of a list's query string kept for the redirect and the filter
_ID = re.compile(r"[0-9]{1,18}")  # a primary key (bigint), not any string of digits
JOB_KIND = "crm.bulk"

Message = tuple[int, str]


@dataclass(frozen=True)
class BulkOutcome:
    """What one run of an action did: rows changed, and rows skipped by reason (the kit adds
    "refused": ids the actor may not change or that do not exist)."""

    changed: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    # Rows the actor saw in the list before and no longer sees after (counted by the kit for
    # actions with `unseen_message`).
    unseen: int = 0
    # What an action with `finished` accumulates for it: counts by key (JSON: string keys),
    # added up over the chunks (e.g. leads given to each new owner: {"<owner id>": n}).
    tally: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: BulkOutcome) -> BulkOutcome:
        return BulkOutcome(
            self.changed + other.changed,
            dict(Counter(self.skipped) + Counter(other.skipped)),
            self.unseen + other.unseen,
            dict(Counter(self.tally) + Counter(other.tally)),
        )

    def count(self, reason: str) -> int:
        return int(self.skipped.get(reason, 0))


@dataclass(frozen=True)
class BulkAction:
    """One action of a list's bulk bar."""

    name: str
    label: Any  # lazy text
    handler: Callable[..., BulkOutcome]  # (*, actor, ids, options) -> what it did
    messages: Callable[[BulkOutcome, Mapping[str, Any]], list[Message]]
    options: Callable[..., forms.Form] | None = None  # (data=None, *, user) -> options form
    allowed: Callable[[Any], bool] = lambda user: True  # (user) -> offered at all
    # (n, options) -> what to say when n changed rows left the user's sight (see the module
    # docstring); None: the kit does not count them.
    unseen_message: Callable[[int, Mapping[str, Any]], str] | None = None
    # (actor, summary) -> None: called once after the last chunk with the tally of every chunk
    # (`BulkOutcome.tally`), e.g. one notification per new owner (see the module docstring).
    finished: Callable[[Any, Mapping[str, int]], None] | None = None

    def said(self, outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
        """The action's messages, then the kit's "no longer seen" one if any."""
        said = self.messages(outcome, options)
        if outcome.unseen and self.unseen_message is not None:
            said.append((messages.INFO, self.unseen_message(outcome.unseen, options)))
        return said


class BulkForm(forms.Form):
    """The bar's post: the action, the ids or "all matching", the list's query string. The
    chosen action's options form is checked too (`options_form`); the bar renders every
    offered action's options form (`options`, by action name)."""

    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=())
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=False)
    all = forms.BooleanField(required=False)
    return_query = forms.CharField(required=False, strip=False)

    def __init__(self, data: Any = None, *, bulk: BulkSpec, user: Any) -> None:
        super().__init__(data)
        self.bulk = bulk
        self.user = user
        self.actions: dict[str, BulkAction] = {a.name: a for a in bulk.actions if a.allowed(user)}
        action = cast("forms.ChoiceField", self.fields["action"])
        action.choices = [(a.name, a.label) for a in self.actions.values()]
        ids = self.fields["ids"]
        ids.valid_value = lambda value: bool(_ID.fullmatch(str(value)))  # type: ignore[attr-defined]
        self.options: dict[str, forms.Form] = {
            a.name: a.options(data, user=user) if data is not None else a.options(user=user)
            for a in self.actions.values()
            if a.options is not None
        }

    @property
    def option_fields(self) -> str:
        """The options' field names by action, as JSON: the bar's script shows only the chosen
        action's (static/js/bulk_bar.js); without it every option shows and the server reads
        only the chosen action's."""
        return json.dumps({name: list(form.fields) for name, form in self.options.items()})

    @property
    def chosen(self) -> BulkAction:
        return self.actions[self.cleaned_data["action"]]

    @property
    def option_values(self) -> dict[str, Any]:
        form = self.options.get(self.cleaned_data["action"])
        return dict(form.cleaned_data) if form is not None else {}

    def clean_return_query(self) -> str:
        return str(self.cleaned_data["return_query"])[:MAX_QUERY]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("all") and len(str(self.data.get("return_query", ""))) > MAX_QUERY:
            # Cut short, the filter could name more rows than the list showed: refused.
            self.add_error(None, _("This filter is too long to apply to all matching rows."))
        if not data.get("all") and "ids" in data:
            ids = data["ids"]
            if not ids:
                self.add_error("ids", self.bulk.empty_message())
            elif len(set(ids)) > self.bulk.max_ids:
                self.add_error(
                    "ids",
                    ngettext(
                        "Select at most %(max)d row at a time, or all that match the filter.",
                        "Select at most %(max)d rows at a time, or all that match the filter.",
                        self.bulk.max_ids,
                    )
                    % {"max": self.bulk.max_ids},
                )
        options = self.options.get(data.get("action", ""))
        if options is not None and not options.is_valid():
            for errors in options.errors.values():
                for error in errors:
                    self.add_error(None, error)
        return data

    def raw_options(self) -> dict[str, list[str]]:
        """The chosen action's option values as posted (a job's kwargs: JSON, checked again)."""
        form = self.options.get(self.cleaned_data["action"])
        if form is None or self.data is None:
            return {}
        data = cast("QueryDict", self.data)
        return {name: data.getlist(name) for name in form.fields if name in data}


def audit_changes(before: Any, after: Any) -> dict[str, Any] | None:
    """The changes auditlog would record for saving `after` over `before` (a copy taken before
    the change; both fully loaded): a bulk service writes them with `crm.history.log_many`, so a
    bulk change reads in the history as the single-record save would."""
    return model_instance_diff(
        before, after, use_json_for_changes=getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
    )


def matching(spec: ListSpec[Any], user: Any, query: str) -> QuerySet[Any]:
    """The rows of `spec` that the list's filters in `query` show `user` and that the user may
    change: the same FilterSet over the same selector as the page (an invalid filter value drops
    only its own filter), intersected with the bulk scope. Never trusts ids."""
    assert spec.bulk is not None
    request = SimpleNamespace(user=user, GET=QueryDict(query))
    filterset = filtered(spec, request)
    filterset.form.is_valid()
    assert spec.bulk.scope is not None
    scope = spec.bulk.scope(user).values("pk")
    return filterset.qs.filter(pk__in=scope).order_by().values_list("pk", flat=True)


def run(
    action: BulkAction,
    *,
    actor: Any,
    ids: list[int],
    options: Mapping[str, Any],
    spec: ListSpec[Any] | None = None,
) -> BulkOutcome:
    """Run `action` over ids in chunks of CHUNK, or the list's `BulkSpec.chunk` (each a call of
    the handler: its own transaction), reporting progress when in a job. With `spec` and an
    action that declares `unseen_message`, count the rows of the list that leave the actor's
    sight. Then the action's `finished`, once, with the tally of all chunks: in a job, each
    chunk's tally is added to the job's row in the chunk's transaction and `finished` runs in
    the transaction that claims the job's wrap-up (`crm.jobs.wrap_up`), so neither a worker
    that died between chunks nor a retried last chunk changes what it is told, or how often."""
    outcome = BulkOutcome()
    watch = spec is not None and action.unseen_message is not None
    size = (spec.bulk.chunk if spec is not None and spec.bulk is not None else None) or CHUNK
    job_id = jobs.current_job_id() if action.finished is not None else None
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        before = _seen(spec, actor, chunk) if watch else set()
        with transaction.atomic() if job_id is not None else nullcontext():
            done = action.handler(actor=actor, ids=chunk, options=options)
            if job_id is not None:
                jobs.tally_add(job_id, done.tally)
        outcome += done
        if watch:
            outcome += BulkOutcome(unseen=len(before - _seen(spec, actor, chunk)))
        jobs.progress(done=start + len(chunk), total=len(ids))
    if action.finished is None:
        return outcome
    if job_id is None:
        action.finished(actor, dict(outcome.tally))
        return outcome
    with transaction.atomic():
        tally = jobs.wrap_up(job_id)
        if tally is not None:
            action.finished(actor, tally)
    return outcome


def _seen(spec: ListSpec[Any] | None, actor: Any, ids: list[int]) -> set[int]:
    """Which of `ids` the list shows `actor` (its selector: the user's scope, no filter)."""
    assert spec is not None
    rows = spec.selector(user=actor).filter(pk__in=ids).order_by()
    return set(rows.values_list("pk", flat=True))


def bulk_response(request: AuthedHttpRequest, spec: ListSpec[Any], *, back: str) -> HttpResponse:
    """The kit's bulk view for `spec` (the app's URL calls it; `back` is the list's URL name):
    check, run or start a job, message, and go back to the list with its query string."""
    bulk = spec.bulk
    assert bulk is not None
    assert bulk.scope is not None
    form = cast("BulkForm", bulk.make_form(request.POST, user=request.user))
    query = str(request.POST.get("return_query", ""))[:MAX_QUERY]
    url = reverse(back) + "?" + query
    if not bulk.allowed(request.user):
        messages.error(request, _("Your role may not change these rows."))
        return _back(request, url)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)  # type: ignore[arg-type]
        return _back(request, url)
    data = form.cleaned_data
    action, options = form.chosen, form.option_values
    refused = 0
    if data["all"]:
        rows = matching(spec, request.user, data["return_query"])
        total = rows.count()
        limit: int = settings.CRM_BULK_IN_REQUEST
        if bulk.in_request is not None:
            limit = min(limit, bulk.in_request)
        if total > limit:
            job = jobs.job_start(
                kind=JOB_KIND,
                task=bulk_run,
                kwargs={
                    "list_name": spec.name,
                    "action": action.name,
                    "query": data["return_query"],
                    "options": form.raw_options(),
                    "actor_id": request.user.pk,
                },
                actor=request.user,
                total=total,
            )
            context = {"job": job, "total": total, "action": action, "back": url}
            return render(request, "components/bulk_job.html", context, status=202)
        ids = sorted(rows)
    else:
        wanted = set(data["ids"])
        ids = sorted(bulk.scope(request.user).filter(pk__in=wanted).values_list("pk", flat=True))
        refused = len(wanted) - len(ids)
    try:
        outcome = run(action, actor=request.user, ids=ids, options=options, spec=spec)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request, url)
    if refused:
        outcome += BulkOutcome(skipped={"refused": refused})
    for level, text in action.said(outcome, options):
        messages.add_message(request, level, text)
    return _back(request, url)


def _back(request: AuthedHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def spec_named(name: str) -> ListSpec[Any]:
    """A declared list by name; the apps' `lists` modules are loaded first (a worker has not
    imported them: it loads no URL conf)."""
    if name not in SPECS:
        autodiscover_modules("lists")
    return SPECS[name]


@shared_task(base=jobs.JobTask, **jobs.RETRY)
def bulk_run(
    *,
    job_id: int,
    list_name: str,
    action: str,
    query: str,
    options: dict[str, list[str]],
    actor_id: int,
) -> str:
    """A bulk action over all the rows matching a list's filters (see the module docstring):
    the rows found again through the list's FilterSet and the actor's scope, the options
    checked again as the actor. Chunked; idempotent as its actions are (a second run adds
    nothing new: tags already there, leads already enrolled, owners already set). Returns the
    outcome as text (the job's message)."""
    del job_id  # JobTask's
    spec = spec_named(list_name)
    assert spec.bulk is not None
    actor = get_user_model().objects.get(pk=actor_id)
    data = QueryDict(mutable=True)
    for name, values in options.items():
        data.setlist(name, values)
    data.update({"action": action, "all": "on", "return_query": query})
    form = cast("BulkForm", spec.bulk.make_form(data, user=actor))
    if not form.is_valid():  # e.g. the sequence was switched off, the owner left
        raise DomainError(" ".join(str(e) for errs in form.errors.values() for e in errs))
    ids = sorted(matching(spec, actor, query))
    outcome = run(form.chosen, actor=actor, ids=ids, options=form.option_values, spec=spec)
    return " ".join(text for _level, text in form.chosen.said(outcome, form.option_values))
