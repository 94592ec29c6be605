"""REST API for opportunities: the same scope and filters as the board and the list
(`sales.filters.OpportunityFilterSet`), every write through the services. A stage change is a
PATCH of `stage` (through `opportunity_move_stage`, with `loss_reason` for a lost stage and
`won_reason` for a won one while won reasons are defined); a closed deal's reason alone may be
corrected with a PATCH of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access
from accounts.api import ScopedViewSetMixin
from contacts.models import Company
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination
from crm.tags import labels_for
from sales import lines, selectors, services
from sales.filters import OpportunityFilterSet
from sales.models import (
    QUALIFICATION_FIELDS,
    LossReason,
    Opportunity,
    OpportunityLine,
    Pipeline,
    Product,
    Stage,
    WinReason,
)


def _domain(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field or "non_field_errors": [exc.message]})


class TagNamesApiField(serializers.ListField):
    """A deal's tags by name: read from its `tag_ids`, written as names (created if the caller
    may, as on the form; otherwise a 400 naming the field)."""

    child = serializers.CharField(max_length=60)

    def to_representation(self, data: Any) -> list[str]:
        return [label.name for label in labels_for(data or ())]


class OpportunitySerializer(serializers.ModelSerializer):
    tags = TagNamesApiField(source="tag_ids", required=False)
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.none(), required=False, allow_null=True
    )
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), required=False)
    loss_reason = serializers.PrimaryKeyRelatedField(
        queryset=LossReason.objects.filter(active=True), required=False, allow_null=True
    )
    won_reason = serializers.PrimaryKeyRelatedField(
        queryset=WinReason.objects.filter(active=True), required=False, allow_null=True
    )
    probability = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True
    )

    class Meta:
        model = Opportunity
        fields = [
            "id", "name", "company", "pipeline", "stage", "amount", "currency",
            "expected_close_date", "probability", "next_step", "source", "forecast_category",
            *QUALIFICATION_FIELDS, "score", "owner", "team", "stage_entered_at", "closed_at",
            "loss_reason", "loss_note", "won_reason", "archived_at", "created_at", "updated_at",
            "tags",
        ]  # fmt: skip
        read_only_fields = [
            "id", "score", "owner", "team", "stage_entered_at", "closed_at", "loss_note",
            "archived_at", "created_at", "updated_at",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            field = self.fields["company"]
            assert isinstance(field, serializers.PrimaryKeyRelatedField)
            field.queryset = access.scoped(request.user, Company)

    def to_input(self, instance: Opportunity | None = None) -> services.OpportunityInput:
        data = dict(self.validated_data)
        data.pop("stage", None)
        if instance is None:  # a new deal's reasons go with its move (perform_create)
            data.pop("loss_reason", None)
            data.pop("won_reason", None)
        names = data.pop("tag_ids", None)
        if names is not None:
            data["tag_names"] = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        if instance is not None:  # a partial update keeps what it does not name
            base: dict[str, Any] = {
                name: getattr(instance, name)
                for name in (
                    "name", "company", "amount", "currency", "expected_close_date", "next_step",
                    "source", "forecast_category", *QUALIFICATION_FIELDS,
                )
            }  # fmt: skip
            base["contacts"] = [(r.contact, r.role) for r in instance.contact_roles.all()]
            data = {**base, **data}
            data.pop("pipeline", None)
        ratings = {name: data.pop(name) for name in QUALIFICATION_FIELDS if name in data}
        return services.OpportunityInput(**data, ratings=ratings)


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "sku", "description", "unit_price", "currency"]


class LineSerializer(serializers.ModelSerializer):
    """A deal's line. Written through `sales.lines` (the deal's amount stays the lines' total);
    an empty `unit_price` takes the product's price; a PATCH keeps what it does not name."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(active=True), required=False, allow_null=True
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    quantity = serializers.DecimalField(
        max_digits=11, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    discount = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
    )
    total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OpportunityLine
        fields = [
            "id",
            "product",
            "name",
            "quantity",
            "unit_price",
            "discount",
            "position",
            "total",
        ]
        read_only_fields = ["id", "position", "total"]

    def to_input(self, line: OpportunityLine | None = None) -> lines.LineInput:
        data = self.validated_data
        if line is not None:  # a PATCH: the line's own values for what it does not name
            data = {
                "product": line.product,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
                **data,
            }
        return lines.LineInput(
            product=data.get("product"),
            name=data.get("name") or "",
            quantity=data.get("quantity", Decimal("1")),
            unit_price=data.get("unit_price"),
            discount=data.get("discount") or Decimal("0.00"),
        )


def _lines_body(opportunity: Opportunity) -> dict[str, Any]:
    rows = lines.deal_lines(opportunity=opportunity)
    return {
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "lines": LineSerializer(rows, many=True).data,
    }


class OpportunityViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Deals the caller may see; filters as on the list (`?pipeline=&stage=&owner=me&q=`)."""

    request: AuthedRequest
    scoped_model = Opportunity
    serializer_class = OpportunitySerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OpportunityFilterSet

    def get_queryset(self) -> Any:
        return selectors.opportunity_list(user=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        try:
            with transaction.atomic():
                opportunity = services.opportunity_create(
                    data=serializer.to_input(), actor=self.request.user
                )
                stage = serializer.validated_data.get("stage")
                if stage is not None and stage.pk != opportunity.stage_id:
                    opportunity = services.opportunity_move_stage(
                        opportunity=opportunity,
                        stage=stage,
                        actor=self.request.user,
                        loss_reason=serializer.validated_data.get("loss_reason"),
                        won_reason=serializer.validated_data.get("won_reason"),
                    )
        except DomainError as exc:
            raise _domain(exc) from exc
        serializer.instance = opportunity

    def perform_update(self, serializer: Any) -> None:
        instance = serializer.instance
        user = self.request.user
        try:
            with transaction.atomic():
                opportunity = services.opportunity_update(
                    opportunity=instance, data=serializer.to_input(instance), actor=user
                )
                stage = serializer.validated_data.get("stage")
                if stage is not None and stage.pk != opportunity.stage_id:
                    opportunity = services.opportunity_move_stage(
                        opportunity=opportunity,
                        stage=stage,
                        actor=user,
                        loss_reason=serializer.validated_data.get("loss_reason"),
                        won_reason=serializer.validated_data.get("won_reason"),
                    )
        except DomainError as exc:
            raise _domain(exc) from exc
        serializer.instance = opportunity

    def _deal(self, request: Request, pk: Any, action_name: access.Action) -> Opportunity:
        """The deal of a lines request: 404 unless the caller may see it, 403 unless they may
        do `action_name` to it."""
        try:
            return access.get_for_user_or_404(request.user, Opportunity, pk, action=action_name)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc

    @action(detail=True, methods=["get", "post"], url_path="lines", url_name="lines")
    def lines(self, request: Request, pk: Any = None, format: str | None = None) -> Response:
        """GET: the deal's lines, amount and currency. POST: one more line (201 with the deal's
        lines and new amount)."""
        if request.method == "GET":
            return Response(_lines_body(self._deal(request, pk, "view")))
        opportunity = self._deal(request, pk, "change")
        serializer = LineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            lines.line_add(
                opportunity=opportunity, data=serializer.to_input(), actor=self.request.user
            )
        except DomainError as exc:
            raise _domain(exc) from exc
        return Response(_lines_body(opportunity), status=status.HTTP_201_CREATED)

    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_pk>[0-9]+)",
        url_name="line",
    )
    def line(
        self, request: Request, pk: Any = None, line_pk: Any = None, format: str | None = None
    ) -> Response:
        """PATCH: change a line (the fields it names). DELETE: take it off the deal. Both answer
        with the deal's lines and amount."""
        opportunity = self._deal(request, pk, "change")
        line = OpportunityLine.objects.filter(pk=line_pk, opportunity=opportunity).first()
        if line is None:  # as on the deal page: the deal is there, the line is not (any more)
            raise ValidationError({"line": [_("That line is not on this deal any more.")]})
        try:
            if request.method == "DELETE":
                lines.line_remove(opportunity=opportunity, line_id=line.pk, actor=self.request.user)
            else:
                serializer = LineSerializer(line, data=request.data, partial=True)
                serializer.is_valid(raise_exception=True)
                lines.line_update(
                    opportunity=opportunity,
                    line=line,
                    data=serializer.to_input(line),
                    actor=self.request.user,
                )
        except DomainError as exc:
            raise _domain(exc) from exc
        return Response(_lines_body(opportunity))


class ProductViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The active price list (for a line's `product`): for roles that may read it, empty for
    others."""

    request: AuthedRequest
    scoped_model = Product
    serializer_class = ProductSerializer
    http_method_names = ["get", "head", "options"]  # the list is kept in the admin
    pagination_class = ApiCursorPagination

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(active=True).order_by("name", "id")
