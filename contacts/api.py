"""REST API for contacts and companies. Same door as the pages: every queryset comes from
`accounts.access.scoped`, every write goes through `contacts.services`."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from accounts import access
from accounts.api import ScopedViewSetMixin
from contacts import selectors, services
from contacts.filters import CompanyFilterSet, ContactFilterSet
from contacts.models import Company, Contact, ContactEmail, ContactPhone, Tag
from contacts.validators import validate_email_address
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination


class EmailSerializer(serializers.ModelSerializer):
    # Non-ASCII local parts (zoë@example.com) are valid: not DRF's ASCII-only EmailField.
    email = serializers.CharField(max_length=254, validators=[validate_email_address])

    class Meta:
        model = ContactEmail
        fields = ["email", "label", "is_primary"]


class PhoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPhone
        fields = ["number", "label", "is_primary"]


class ContactSerializer(serializers.ModelSerializer):
    emails = EmailSerializer(many=True, required=False)
    phones = PhoneSerializer(many=True, required=False)
    tags = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Tag.objects.all(), required=False
    )
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Contact
        fields = [
            "id", "display_name", "given_name", "family_name", "name_order", "company",
            "job_title", "department", "lifecycle_stage", "source", "region", "website",
            "linkedin", "x_handle", "wechat", "birthday", "notes", "street", "city", "state",
            "postal_code", "country", "owner", "team", "emails", "phones", "tags",
            "primary_email", "primary_phone", "archived_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "display_name", "team", "primary_email", "primary_phone", "archived_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"owner": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            company = self.fields["company"]
            assert isinstance(company, serializers.PrimaryKeyRelatedField)
            company.queryset = access.scoped(request.user, Company)


class CompanySerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Tag.objects.all(), required=False
    )

    class Meta:
        model = Company
        fields = [
            "id", "name", "website", "email", "phone", "industry", "size", "region",
            "lifecycle_stage", "source", "description", "linkedin", "x_handle", "wechat",
            "street", "city", "state", "postal_code", "country", "owner", "team", "tags",
            "archived_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "team", "archived_at", "created_at", "updated_at"]
        extra_kwargs = {"owner": {"required": False}}


def _domain(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field or "non_field_errors": [exc.message]})


class ContactViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts the caller may see. Filters: q, owner, stage, tag, region, industry, archived."""

    scoped_model = Contact
    serializer_class = ContactSerializer
    pagination_class = ApiCursorPagination
    # The list page's filters (contacts.filters): an invalid value is a 400 with its errors.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContactFilterSet
    request: AuthedRequest

    def get_queryset(self) -> Any:
        return selectors.contact_list(user=self.request.user).prefetch_related(
            "emails", "phones", "tags"
        )

    def get_object_queryset(self) -> Any:
        return super().get_object_queryset().prefetch_related("emails", "phones", "tags")

    def perform_create(self, serializer: serializers.BaseSerializer[Contact]) -> None:
        data = dict(serializer.validated_data)
        emails = [services.EmailInput(**e) for e in data.pop("emails", [])]
        phones = [services.PhoneInput(**p) for p in data.pop("phones", [])]
        tags = data.pop("tags", None)
        try:
            serializer.instance = services.contact_create(
                data=services.ContactInput(values=data, emails=emails, phones=phones, tags=tags),
                actor=self.request.user,
            )
        except DomainError as exc:
            raise _domain(exc) from exc

    def perform_update(self, serializer: serializers.BaseSerializer[Contact]) -> None:
        assert serializer.instance is not None  # update() passes the object it fetched
        data = dict(serializer.validated_data)
        emails = data.pop("emails", None)
        phones = data.pop("phones", None)
        try:
            serializer.instance = services.contact_update(
                contact=serializer.instance,
                actor=self.request.user,
                values=data,
                emails=None if emails is None else [services.EmailInput(**e) for e in emails],
                phones=None if phones is None else [services.PhoneInput(**p) for p in phones],
                tags=data.pop("tags", None),
            )
        except DomainError as exc:
            raise _domain(exc) from exc


class CompanyViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    scoped_model = Company
    serializer_class = CompanySerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = CompanyFilterSet
    request: AuthedRequest

    def get_queryset(self) -> Any:
        return selectors.company_list(user=self.request.user).prefetch_related("tags")

    def perform_create(self, serializer: serializers.BaseSerializer[Company]) -> None:
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        try:
            serializer.instance = services.company_create(
                values=data, actor=self.request.user, tags=tags
            )
        except DomainError as exc:
            raise _domain(exc) from exc

    def perform_update(self, serializer: serializers.BaseSerializer[Company]) -> None:
        assert serializer.instance is not None  # update() passes the object it fetched
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        try:
            serializer.instance = services.company_update(
                company=serializer.instance, actor=self.request.user, values=data, tags=tags
            )
        except DomainError as exc:
            raise _domain(exc) from exc
