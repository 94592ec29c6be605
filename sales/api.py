"""REST API for opportunities: the same scope and filters as the board and the list
(`sales.filters.OpportunityFilterSet`), every write through the services. A stage change is a
PATCH of `stage` (through `opportunity_move_stage`, with `loss_reason` for a lost stage and
`won_reason` for a won one while won reasons are defined); a closed deal's reason alone may be
corrected with a PATCH of it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from accounts import access
from accounts.api import ScopedViewSetMixin
from contacts.models import Company
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination
from crm.tags import labels_for
from sales import selectors, services
from sales.filters import OpportunityFilterSet
from sales.models import (
    QUALIFICATION_FIELDS,
    LossReason,
    Opportunity,
    Pipeline,
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
