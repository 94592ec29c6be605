"""What the sales URLs need, for the permission matrix (tests/matrix.py explains the terms).

Opportunities are owned records (the roles' scopes apply); stages are configuration that every
role with the sales grants may read. The API viewset (ScopedViewSetMixin) needs no declaration."""

from __future__ import annotations

from accounts.models import Scope, User
from sales.models import ForecastRun, Opportunity, Pipeline, Quota, Stage
from tests import matrix
from tests.sales.factories import STAGES, make_deal


def _pipeline() -> Pipeline:
    pipeline, created = Pipeline.objects.get_or_create(name="Matrix pipeline")
    if created:
        for position, (name, probability, kind, required) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
                required_fields=required,
            )
    return pipeline


def _opportunity(owner: User, admin: User) -> Opportunity:
    return make_deal(owner, actor=admin, name=f"Deal of {owner.pk}", pipeline=_pipeline())


def _stage(owner: User, admin: User) -> Stage:
    return _pipeline().stages.order_by("position").first()  # type: ignore[return-value]


def _may_open_forecast(user: User, rep: User, action: str) -> bool:
    """A rep's forecast (`sales:rep-forecast`): the rep, and whoever sets their quotas (the quota
    permissions, and the rep among the owners they may give deals to: a team change scope for a
    team-mate, an all-records one for anyone)."""
    if user.is_superuser or rep.pk == user.pk:
        return True
    if not all(matrix.has_perm(user, Quota, p) for p in ("add", "change")):
        return False
    if not matrix.has_perm(user, Opportunity, "change"):
        return False
    scope = matrix._scope(user, "change")
    same_team = user.team_id is not None and rep.team_id == user.team_id
    return scope == Scope.ALL or (scope == Scope.TEAM and same_team)


matrix.records(Opportunity, make=_opportunity)  # type: ignore[arg-type]
# A user's own forecast page: the record is the user.
matrix.records(User, make=lambda owner, admin: owner, may=_may_open_forecast)  # type: ignore[arg-type]
matrix.records(Stage, make=_stage)  # type: ignore[arg-type]

matrix.route("sales:board", get="login")
matrix.route("sales:opportunity-list", get="login")
matrix.route("sales:forecast", get="login")
matrix.route("sales:rep-forecast", User, get="view")
matrix.route("sales:analytics", get="login")
matrix.route("sales:quotas", Quota, get="login", post="add")  # a role permission
matrix.route("sales:board-column", Stage, get="view")
matrix.route("sales:opportunity-create", Opportunity, get="add", post="add")
matrix.route("sales:opportunity-detail", Opportunity, get="view")
matrix.route("sales:opportunity-edit", Opportunity, get="change", post="change")
matrix.route("sales:opportunity-move", Opportunity, post="change")
matrix.route("sales:forecast-recompute", ForecastRun, post="run")  # a role permission
matrix.route("sales:opportunity-contacts", Opportunity, get="view", post="change")
matrix.route("sales:opportunity-contact-remove", Opportunity, post="change")
matrix.route("sales:opportunity-contact-lookup", Opportunity, get="change")
matrix.route("sales:opportunity-export", Opportunity, get="export")  # a role permission
matrix.route("sales:home-quarter", Opportunity, get="add")  # the home card: a role permission
matrix.route("sales:opportunity-lines", Opportunity, get="view", post="change")
matrix.route("sales:opportunity-line", Opportunity, post="change", kwargs={"line_pk": 999999})
# The API's lines of a deal (OpportunityViewSet actions): scoped like the deal.
matrix.route("opportunity-lines", Opportunity, get="view", post="change")
matrix.route(
    "opportunity-line", Opportunity, patch="change", delete="change", kwargs={"line_pk": 999999}
)
# The price list (read-only; kept in the admin): every signed-in user gets the rows their role
# may read (none without a sales role).
matrix.route("product-list", get="login")
