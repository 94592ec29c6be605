"""REST API for contacts and companies. Same door as the pages: every queryset comes from
`accounts.access.scoped`, every write goes through `contacts.services`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination

from accounts import access
from contacts import selectors, services
from contacts.forms import CompanyFilterForm, ContactFilterForm
from contacts.models import Company, Contact, ContactEmail, ContactPhone, Tag
from crm.errors import DomainError
from crm.http import AuthedRequest


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class EmailSerializer(serializers.ModelSerializer):
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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts the caller may see. Filters: q, owner, stage, tag, region, industry, archived."""

    serializer_class = ContactSerializer
    pagination_class = IdCursorPagination
    filter_backends: list[Any] = []
    request: AuthedRequest

    def get_queryset(self) -> Any:
        form = ContactFilterForm(self.request.query_params or None, user=self.request.user)
        qs = selectors.contact_list(user=self.request.user, filters=form.to_filters())
        return qs.prefetch_related("emails", "phones")

    def get_object(self) -> Contact:
        try:
            obj = access.get_for_user_or_404(
                self.request.user,
                Contact,
                self.kwargs["pk"],
                action="change" if self.request.method not in ("GET", "HEAD") else "view",
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return obj

    def perform_create(self, serializer: serializers.BaseSerializer[Contact]) -> None:
        if not access.can_add(self.request.user, Contact):
            raise PermissionDenied()
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
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CompanySerializer
    pagination_class = IdCursorPagination
    filter_backends: list[Any] = []
    request: AuthedRequest

    def get_queryset(self) -> Any:
        form = CompanyFilterForm(self.request.query_params or None, user=self.request.user)
        return selectors.company_list(user=self.request.user, filters=form.to_filters())

    def get_object(self) -> Company:
        try:
            return access.get_for_user_or_404(
                self.request.user,
                Company,
                self.kwargs["pk"],
                action="change" if self.request.method not in ("GET", "HEAD") else "view",
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc

    def perform_create(self, serializer: serializers.BaseSerializer[Company]) -> None:
        if not access.can_add(self.request.user, Company):
            raise PermissionDenied()
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
