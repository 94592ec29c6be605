"""REST API for leads: the list's scope and filters (`leads.filters.LeadFilterSet`), writes
through the services. A POST may carry an `Idempotency-Key` header: a retried POST with the
same key (per user) returns the lead the first one created (200) instead of a second lead."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import ScopedViewSetMixin
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination
from leads import selectors, services
from leads.filters import LeadFilterSet
from leads.models import Lead, LeadSource

MAX_KEY_LENGTH = 64


def _domain(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field or "non_field_errors": [exc.message]})


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id", "given_name", "family_name", "display_name", "email", "phone", "job_title",
            "company_name", "website", "industry", "size", "region", "source", "source_detail",
            "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
            "consent_text", "consent_at", "consent_from", "notes", "status",
            "unqualified_reason", "score", "score_breakdown", "owner", "team", "duplicate_of",
            "matched_contact", "needs_review", "converted_contact", "converted_company",
            "converted_at", "archived_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "display_name", "status", "unqualified_reason", "score", "score_breakdown",
            "owner", "team", "duplicate_of", "matched_contact", "needs_review",
            "converted_contact", "converted_company", "converted_at", "archived_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"source": {"default": LeadSource.API}}


class LeadViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Leads the caller may see; filters as on the list (`?status=&source=&score_min=&q=`)."""

    request: AuthedRequest
    scoped_model = Lead
    serializer_class = LeadSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadFilterSet

    def get_queryset(self) -> Any:
        return selectors.lead_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise ValidationError({"Idempotency-Key": [_("Use a key of at most 64 characters.")]})
        capture_key = f"api:{self.request.user.pk}:{key}" if key else ""
        if capture_key:
            existing = selectors.lead_list(user=self.request.user).filter(capture_key=capture_key)
            lead = existing.first()
            if lead is not None:
                return Response(self.get_serializer(lead).data, status=status.HTTP_200_OK)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            lead = services.lead_create(
                # A lead from the API goes through the assignment rules after commit.
                data=services.LeadInput(
                    values=dict(serializer.validated_data), capture_key=capture_key, assign=True
                ),
                actor=self.request.user,
            )
        except DomainError as exc:
            raise _domain(exc) from exc
        return Response(self.get_serializer(lead).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        try:
            serializer.instance = services.lead_update(
                lead=serializer.instance,
                values=dict(serializer.validated_data),
                actor=self.request.user,
            )
        except DomainError as exc:
            raise _domain(exc) from exc
