"""Pages of the sales module: the board, the list, an opportunity's page and form, a stage move.

Every record comes through `accounts.access`; the board and the list read the same scoped,
filtered rows (`sales.filters.OpportunityFilterSet`). A stage move answers the board's script
with JSON (new column totals, or the reason it was refused, status 422) and a form post without
JavaScript with a redirect and a message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import access
from accounts.models import User
from contacts.panels import panels_for
from crm import history, jobs
from crm.errors import DomainError
from crm.exports import export_response
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.links import record_url_parts
from crm.lists import ListFilterSet, filtered, list_response
from crm.models import Job
from sales import analytics, selectors, services, sources, tasks
from sales import rep_forecast as rep_forecasts
from sales.cards import Card, CardMaker, CardPage, stage_options
from sales.currency import RateBook, reporting_currency
from sales.forms import MAX_DIALOG_CONTACTS, ContactRoleForm, MoveForm, OpportunityForm
from sales.lists import OPPORTUNITIES
from sales.models import (
    ContactRole,
    ForecastRun,
    ForecastRunStatus,
    LossReason,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageKind,
    WinReason,
)
from sales.quotas import may_set_quotas

# Won and lost columns show the deals closed in this many days, so they stay small.
BOARD_CLOSED_DAYS = 30
# The list's filters that make sense on the board (a column per stage; archived deals not shown).
BOARD_FILTERS = (
    *("q", "pipeline", "owner", "tag"),
    *("team", "close_from", "close_to", "amount_min", "amount_max"),
)


def _board_filters(request: AuthedHttpRequest) -> tuple[ListFilterSet, Pipeline | None]:
    filterset = filtered(OPPORTUNITIES, request)
    filterset.form.is_valid()  # errors stay on the form; the valid filters still apply
    pipeline = filterset.form.cleaned_data.get("pipeline")
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_default=True).first() or selectors.pipelines().first()
    return filterset, pipeline


def _closed_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=BOARD_CLOSED_DAYS)


def _board_rows(filterset: ListFilterSet, pipeline: Pipeline) -> QuerySet[Opportunity]:
    """The board's deals: the user's filtered deals of the pipeline. Its won and lost columns
    hold the recently closed ones (the selectors' `closed_since`: a closed deal's
    `stage_entered_at` is its `closed_at`), its open columns every deal in them. An OR of
    "open or closed since" on every column made PostgreSQL AND a bitmap of the 33,000 open
    deals into each open column's read (a close period's cards: 21 ms for the open columns)."""
    return filterset.qs.filter(pipeline=pipeline)


@dataclass(frozen=True)
class BoardFilterBar:
    """What the shared filter bar (`components/list_filters.html`) reads from a kit list's
    result, for the board: its form swaps the board region."""

    filterset: ListFilterSet
    path: str
    results_id: str = "board"
    sort: str = ""
    fields: tuple[str, ...] = BOARD_FILTERS
    selected: dict[str, Any] = field(default_factory=dict)  # the pipeline shown

    @property
    def more_open(self) -> bool:
        data = self.filterset.data
        return any(data.get(name) for name in self.filterset.more_filters)


def _sums_key(request: AuthedHttpRequest, pipeline: Pipeline) -> str:
    """Whose board (`access.scope_signature`), which filters and which day: the key of its kept
    column sums."""
    query = request.GET.copy()
    query.pop("cursor", None)
    who = access.scope_signature(request.user)
    parts = (who, pipeline.pk, timezone.localdate(), query.urlencode())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _with_fresh(request: AuthedHttpRequest) -> str:
    """The page's query asking for figures computed now."""
    query = request.GET.copy()
    query["fresh"] = "1"
    return query.urlencode()


def _without_cursor(request: AuthedHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


def duration_label(duration: dt.timedelta) -> str:
    """ "3 d 4 h" (days and hours; minutes under an hour)."""
    hours, seconds = divmod(int(duration.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": seconds // 60}


def _money(value: Any) -> str:
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def opportunity_board(request: AuthedHttpRequest) -> HttpResponse:
    """The board: a column per stage of the chosen pipeline with its first cards."""
    filterset, pipeline = _board_filters(request)
    book = RateBook.load()
    columns: list[selectors.Column] = []
    if pipeline is not None:
        stages = list(pipeline.stages.order_by("position", "id"))
        columns = selectors.board_columns(
            qs=_board_rows(filterset, pipeline),
            stages=stages,
            book=book,
            closed_since=_closed_since(),
            sums_key=_sums_key(request, pipeline),
        )
    unconverted = sum(c.unconverted for c in columns)
    page = _card_page(request, request.GET.urlencode())
    for column in columns:
        column.html = page.html(column.cards, stage_options=column.stage_options)
    # The board always shows one pipeline: its select offers no "any".
    form = filterset.form
    form.pipeline_choices = [(p.pk, p.name) for p in selectors.pipelines()]  # type: ignore[attr-defined]
    context = {
        "form": filterset.form,
        "filter_bar": BoardFilterBar(
            filterset=filterset,
            path=reverse("sales:board"),
            selected={"pipeline": pipeline.pk if pipeline else None},
        ),
        "pipeline": pipeline,
        "columns": columns,
        "loss_reasons": list(LossReason.objects.filter(active=True)),
        "won_reasons": list(WinReason.objects.filter(active=True)),
        "closed_days": BOARD_CLOSED_DAYS,
        "currency": book.to_currency,
        "unconverted": unconverted,
        "can_add": access.can_add(request.user, Opportunity),
        # The required-fields dialog: the roles, and a deal's contact suggestions URL by pk.
        "contact_roles": ContactRole.choices,
        "contact_lookup": record_url_parts("sales:opportunity-contact-lookup"),
        "max_dialog_contacts": MAX_DIALOG_CONTACTS,
        "company_widget": {"name": "company", "attrs": {"id": "fields-company"}, "value": None},
        "query": request.GET.urlencode(),
    }
    template = "sales/board.html"
    if is_fragment_request(request):
        template += "#board"
    status = 400 if filterset.form.errors else 200
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET"])
def opportunity_board_column(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A column's next cards (the board asks when its last card scrolls into view)."""
    stage = access.get_for_user_or_404(request.user, Stage, pk)
    filterset, _pipeline = _board_filters(request)
    cards, next_cursor = selectors.board_column_page(
        qs=_board_rows(filterset, stage.pipeline),
        stage=stage,
        cursor=request.GET.get("cursor"),
        closed_since=_closed_since(),
    )
    stages = list(stage.pipeline.stages.order_by("position", "id"))
    context = _column_context(request, cards, stage=stage, stages=stages, next_cursor=next_cursor)
    return render(request, "sales/partials/cards.html", context)


def _column_context(
    request: AuthedHttpRequest,
    cards: list[Card],
    *,
    stage: Stage,
    stages: list[Stage],
    next_cursor: str | None,
) -> dict[str, Any]:
    """`sales/partials/cards.html`'s context for some cards of one column (the board's query
    string, without a cursor, kept in their links and forms)."""
    query = _without_cursor(request)
    options = stage_options(stages, selected=stage.pk)
    return {
        "cards": cards,
        "cards_html": _card_page(request, query).html(cards, stage_options=options),
        "stage": stage,
        "next_cursor": next_cursor,
        "query": query,
    }


def _card_page(request: AuthedHttpRequest, query: str) -> CardPage:
    """What every card of a page shares (`sales.cards.CardPage`), worked out once."""
    can_change = access.has_model_perm(request.user, Opportunity, "change")
    return CardPage(
        can_change=can_change,
        # What `{% csrf_token %}` writes, once for all the cards' move forms.
        csrf_input=csrf_input(request) if can_change else "",
        board_next=f"{reverse('sales:board')}?{query}",
    )


def _wants_json(request: AuthedHttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def opportunity_move(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage through the service. JSON for the board's script (200 with
    every column's totals, 422 with the reason), else a redirect back with a message."""
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action="change")
    form = MoveForm(request.POST, opportunity=opportunity, user=request.user)
    error = ""
    missing: list[str] = []
    field = ""  # the dialog's field a refusal is about, if any
    if form.is_valid():
        try:
            opportunity = services.opportunity_move_stage(
                opportunity=opportunity,
                stage=form.cleaned_data["stage"],
                actor=request.user,
                loss_reason=form.cleaned_data["loss_reason"],
                loss_note=form.cleaned_data["loss_note"],
                won_reason=form.cleaned_data["won_reason"],
                fill=form.fill(),
            )
        except services.MissingFields as exc:
            error, missing = exc.message, exc.fields
        except DomainError as exc:
            error, field = exc.message, exc.field or ""
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        field = next(iter(form.errors), "")
        field = "contacts" if field == "__all__" else field
    if _wants_json(request):
        if error:
            # The fields the board's dialog can ask for; others need the deal's page.
            ask = [name for name in missing if name in services.FILLABLE]
            return JsonResponse(
                {
                    "error": error,
                    "ask": ask if len(ask) == len(missing) else [],
                    "field": field,
                    "edit_url": opportunity.get_absolute_url(),
                },
                status=422,
            )
        return JsonResponse(_move_result(request, opportunity))
    if error:
        messages.warning(request, error)
    else:
        messages.success(
            request,
            _("“%(deal)s” moved to %(stage)s.")
            % {"deal": opportunity.name, "stage": opportunity.stage.name},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = reverse("sales:board")
    return redirect(back)


def _move_result(request: AuthedHttpRequest, opportunity: Opportunity) -> dict[str, Any]:
    """The moved card's new state and every column's totals under the board's filters (the
    script sends the board's query string along). `card` is the card re-rendered as the board
    draws it (days in its new stage, no longer stalled, its stage menu): the script swaps it in."""
    filterset, _pipeline = _board_filters(request)
    totals = selectors.column_totals(
        qs=_board_rows(filterset, opportunity.pipeline),
        book=RateBook.load(),
        closed_since=_closed_since(),
    )
    stages = list(opportunity.pipeline.stages.order_by("position", "id"))
    empty = {"count": 0, "total": 0, "weighted": 0}
    return {
        "stage": opportunity.stage_id,
        "probability": opportunity.probability,
        "amount": _money(opportunity.amount),
        "card": _card_html(request, opportunity, stages),
        "columns": {
            str(pk): {
                "count": totals.get(pk, empty)["count"],
                "total": _money(totals.get(pk, empty)["total"]),
                "weighted": _money(totals.get(pk, empty)["weighted"]),
            }
            for pk in (s.pk for s in stages)
        },
    }


def _card_html(request: AuthedHttpRequest, opportunity: Opportunity, stages: list[Stage]) -> str:
    """One deal's card as the board renders it (`sales.cards.CardMaker`, the column template)."""
    selectors.attach_card_relations([opportunity])
    stage = opportunity.stage
    cards = CardMaker(now=timezone.now()).cards([opportunity], stage=stage)
    context = _column_context(request, cards, stage=stage, stages=stages, next_cursor=None)
    return render_to_string("sales/partials/cards.html", context, request=request).strip()


@login_required
@require_http_methods(["GET"])
def opportunity_list(request: AuthedHttpRequest) -> HttpResponse:
    return list_response(
        request,
        OPPORTUNITIES,
        {
            "can_add": access.can_add(request.user, Opportunity),
            "currency": reporting_currency(),
        },
    )


@login_required
@require_http_methods(["GET"])
def opportunity_export(request: AuthedHttpRequest) -> HttpResponseBase:
    """The deal list as the user filtered it, CSV (streamed) or XLSX; needs the export
    permission. Invalid filters: 400 with their errors and no rows."""
    export = OPPORTUNITIES.export
    assert export is not None
    if not export.allowed(request.user):
        raise PermissionDenied(export.denied_message())
    return export_response(request, OPPORTUNITIES)


@login_required
@require_http_methods(["GET"])
def opportunity_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    opportunity = access.get_for_user_or_404(
        request.user,
        Opportunity,
        pk,
        queryset=Opportunity.objects.select_related(
            "company",
            "owner",
            "team",
            "stage",
            "pipeline",
            "loss_reason",
            "won_reason",
            "source_lead__web_form",
        ),
    )
    now = timezone.now()
    # The lead it was converted from (issue 27: its source, form and campaign), if visible.
    lead = opportunity.source_lead
    source_lead = lead if lead is not None and access.can(request.user, lead, "view") else None
    stays = selectors.stage_history(opportunity=opportunity)
    entries = history.history_entries(opportunity)
    context = {
        "opportunity": opportunity,
        "contact_roles": selectors.contact_roles(opportunity=opportunity),
        "roles": ContactRole.choices,
        "stays": [(stay, duration_label(stay.duration(now))) for stay in reversed(stays)],
        "history_items": history.history_items(entries, Opportunity, viewer=request.user),
        "days_in_stage": selectors.days_in_stage(opportunity, now=now),
        "stages": list(opportunity.pipeline.stages.order_by("position", "id")),
        "loss_reasons": list(LossReason.objects.filter(active=True)),
        "won_reasons": list(WinReason.objects.filter(active=True)),
        "can_change": access.can(request.user, opportunity, "change"),
        "lost_kind": StageKind.LOST,
        "campaign": sources.campaign_of(opportunity, user=request.user),
        "source_lead": source_lead,
        # Other modules' panels for a deal (support's linked tickets): contacts.panels.
        "side_panels": panels_for(opportunity, "side"),
    }
    return render(request, "sales/opportunity_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Opportunity):
        raise PermissionDenied(_("Your role does not allow this."))
    form = OpportunityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(data=form.to_input(), actor=request.user)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Deal created."))
            return redirect(opportunity.get_absolute_url())
    status = 422 if form.errors else 200
    return render(request, "sales/opportunity_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action="change")
    form = OpportunityForm(request.POST or None, instance=opportunity, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_update(
                opportunity=opportunity, data=form.to_input(), actor=request.user
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Deal saved."))
            return redirect(opportunity.get_absolute_url())
    status = 422 if form.errors else 200
    context = {"form": form, "opportunity": opportunity}
    return render(request, "sales/opportunity_form.html", context, status=status)


def parse_period(value: str, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """ "2026-11" (a month) or "2026-Q4" (a quarter), empty for this quarter: (start, end
    exclusive, the period's name). ValueError with a message for anything else."""
    value = value.strip().upper()
    if not value:
        value = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    try:
        year_text, part = value.split("-")
        year = int(year_text)
        if not 2000 <= year <= 2100:
            raise ValueError
        if part.startswith("Q"):
            quarter = int(part[1:])
            if not 1 <= quarter <= 4:
                raise ValueError
            start = dt.date(year, 3 * quarter - 2, 1)
            months = 3
        else:
            start = dt.date(year, int(part), 1)
            months = 1
    except ValueError as exc:
        raise ValueError(_("Give the period as a month (2026-11) or a quarter (2026-Q4).")) from exc
    month = start.month - 1 + months
    end = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return start, end, value


FORECAST_WHO = ("me", "team", "company")


def _forecast_who(request: AuthedHttpRequest) -> str:
    who = request.GET.get("who", "me")
    if who not in FORECAST_WHO:
        return "me"
    if who == "team" and not request.user.team_id:
        return "me"
    if who == "company" and not selectors.may_see_company_forecast(request.user):
        return "team" if request.user.team_id else "me"
    return who


@dataclass(frozen=True)
class ChartRow:
    """One month of the forecast-against-actual chart (widths in % of the largest value)."""

    month: dt.date
    kind: str
    expected: Decimal
    baseline: Decimal
    actual: Decimal | None
    expected_pct: float
    baseline_pct: float
    actual_pct: float


def forecast_chart(stat: selectors.StatisticalForecast | None) -> list[ChartRow]:
    if stat is None or not stat.ready:
        return []
    lines = [*stat.backtest, *stat.forecast]
    top = max(
        [max(line.expected, line.baseline, line.actual or 0) for line in lines] or [Decimal(0)]
    )

    def pct(value: Decimal | None) -> float:
        return round(float(value or 0) * 100 / float(top), 1) if top else 0.0

    return [
        ChartRow(
            line.month,
            line.kind,
            line.expected,
            line.baseline,
            line.actual,
            pct(line.expected),
            pct(line.baseline),
            pct(line.actual),
        )
        for line in lines
    ]


def _job_param(request: AuthedHttpRequest) -> Job | None:
    value = request.GET.get("job", "")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return Job.objects.filter(pk=int(value), actor_id=request.user.pk).first()


@login_required
@require_http_methods(["GET"])
def forecast(request: AuthedHttpRequest) -> HttpResponse:
    """The period's closed won, commit, best case, pipeline and weighted pipeline against quota,
    for the user's own deals, their team's or the company's (only deals they may see), beside
    the latest statistical forecast (the team's or the company's) with its backtest error; the
    team's and company's with a row per rep for those who set quotas (`sales.rep_forecast`)."""
    return _forecast_page(request, rep=None)


@login_required
@require_http_methods(["GET"])
def rep_forecast(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One rep's forecast, for the rep and whoever sets their quotas (404 for anyone else)."""
    rep = User.objects.filter(pk=pk).select_related("team").first()
    if rep is None or not rep_forecasts.may_open_rep(request.user, rep):
        raise Http404(_("No such record, or you do not have access to it."))
    return _forecast_page(request, rep=rep)


def _forecast_page(request: AuthedHttpRequest, rep: User | None) -> HttpResponse:
    today = timezone.localdate()
    error = ""
    try:
        start, end, period = parse_period(request.GET.get("period", ""), today)
    except ValueError as exc:
        error = str(exc)
        start, end, period = parse_period("", today)
    who = "rep" if rep is not None else _forecast_who(request)
    user = request.user
    book = RateBook.load()
    team_id = user.team_id if rep is None else rep.team_id
    breakdown = None
    if who in ("team", "company"):
        team = team_id if who == "team" else None
        if may_set_quotas(user):  # the breakdown by rep reads the deals; their sums are the total
            breakdown = rep_forecasts.rep_breakdown(
                user=user, start=start, end=end, team_id=team, book=book
            )
        numbers = selectors.forecast(
            user=user,
            start=start,
            end=end,
            team_id=team,
            book=book,
            summed=breakdown.summed if breakdown is not None else None,
        )
    else:
        owner = rep or user
        numbers = selectors.forecast(user=user, start=start, end=end, owner=owner, book=book)
    stat_team = None if who == "company" or not team_id else team_id
    stat = selectors.statistical_forecast(user=user, team_id=stat_team)
    context = {
        "numbers": numbers,
        "period": period,
        "who": who,
        "rep": rep,
        "breakdown": breakdown,
        "error": error,
        "currency": numbers.currency,
        "last_day": end - dt.timedelta(days=1),
        "can_see_company": selectors.may_see_company_forecast(user),
        "stat": stat,
        "chart": forecast_chart(stat),
        "can_recompute": access.has_model_perm(user, ForecastRun, "run"),
        "job": _job_param(request),
        "status_short": ForecastRunStatus.SHORT,
    }
    return render(request, "sales/forecast.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET"])
def pipeline_analytics(request: AuthedHttpRequest) -> HttpResponse:
    """A pipeline's stage conversion, time in stage, velocity and loss reasons over a period,
    for the user's deals, their team's or the company's (only deals they may see)."""
    today = timezone.localdate()
    errors = []
    try:
        start, end, period = parse_period(request.GET.get("period", ""), today)
    except ValueError as exc:
        errors.append(str(exc))
        start, end, period = parse_period("", today)
    pipelines = list(selectors.pipelines())
    value = request.GET.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == value), None)
    if value and pipeline is None:
        errors.append(_("Pick a pipeline from the list."))
    if pipeline is None:
        pipeline = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
    who = _forecast_who(request)
    deals = access.scoped(request.user, Opportunity)
    if who == "me":
        deals = deals.filter(owner=request.user)
    elif who == "team":
        deals = deals.filter(team_id=request.user.team_id or 0)
    computed = None
    if pipeline is not None:
        computed = analytics.cached_pipeline_metrics(
            user=request.user,
            view=who,
            deals=deals,
            pipeline=pipeline,
            start=start,
            end=end,
            fresh=request.GET.get("fresh") == "1",
        )
    context = {
        "metrics": computed.metrics if computed else None,
        "computed_at": computed.at if computed else None,
        "refresh_query": _with_fresh(request),
        "pipeline": pipeline,
        "pipelines": pipelines,
        "period": period,
        "who": who,
        "errors": errors,
        "can_see_company": selectors.may_see_company_forecast(request.user),
        "last_day": end - dt.timedelta(days=1),
        "start": start,
    }
    status = 400 if errors else 200
    return render(request, "sales/analytics.html", context, status=status)


@login_required
@require_POST
def forecast_recompute(request: AuthedHttpRequest) -> HttpResponse:
    """Compute the statistical forecast now (a job in the background; the page shows its
    progress). Needs the `run_forecastrun` permission (managers)."""
    if not access.has_model_perm(request.user, ForecastRun, "run"):
        raise PermissionDenied(_("Your role does not allow this."))
    with transaction.atomic():
        job = jobs.job_start(
            kind="sales.forecast", task=tasks.forecast_recompute, kwargs={}, actor=request.user
        )
    messages.info(request, _("The statistical forecast is being computed."))
    return redirect(f"{reverse('sales:forecast')}?{urlencode({'job': job.pk})}")


def _contacts_fragment(
    request: AuthedHttpRequest, opportunity: Opportunity, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "opportunity": opportunity,
        "contact_roles": selectors.contact_roles(opportunity=opportunity),
        "roles": ContactRole.choices,
        "can_change": access.can(request.user, opportunity, "change"),
        "error": error,
    }
    return render(request, "sales/partials/contact_roles.html", context, status=status)


def _contacts_done(
    request: AuthedHttpRequest, opportunity: Opportunity, error: str, done: str
) -> HttpResponse:
    """HTMX: the editor again (422 with the reason); a plain post: back to the deal's page."""
    if is_fragment_request(request):
        return _contacts_fragment(request, opportunity, error=error, status=422 if error else 200)
    if error:
        messages.warning(request, error)
    else:
        messages.success(request, done)
    return redirect(opportunity.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_contacts(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The deal's contacts and their roles (GET), or one more (POST: contact, role)."""
    action: Any = "change" if request.method == "POST" else "view"
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action=action)
    if request.method == "GET":
        return _contacts_fragment(request, opportunity)
    form = ContactRoleForm(request.POST, user=request.user)
    error = ""
    if form.is_valid():
        try:
            services.opportunity_contact_add(
                opportunity=opportunity,
                contact=form.cleaned_data["contact"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _contacts_done(request, opportunity, error, _("Contact added."))


@login_required
@require_POST
def opportunity_contact_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Take a contact off the deal (POST role=<the contact role's id>)."""
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action="change")
    value = request.POST.get("role", "")
    row = None
    if value.isascii() and value.isdigit() and len(value) < 19:
        row = OpportunityContact.objects.filter(pk=int(value), opportunity=opportunity).first()
    error = ""
    if row is None:
        error = _("That contact is not on this deal any more.")
    else:
        try:
            services.opportunity_contact_remove(
                opportunity=opportunity, contact_role=row, actor=request.user
            )
        except DomainError as exc:
            error = exc.message
    return _contacts_done(request, opportunity, error, _("Contact removed."))


@login_required
@require_http_methods(["GET"])
def opportunity_contact_lookup(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Suggestions for the contact picker: contacts the user may see matching the query; with
    no query, the contacts of the deal's company."""
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action="change")
    query = request.GET.get("contact_query", "")[:100]
    contacts = selectors.contact_suggestions(
        user=request.user, opportunity=opportunity, query=query
    )
    return render(
        request, "sales/partials/contact_options.html", {"contacts": contacts, "query": query}
    )
