"""REST API for interactions and tasks: the same scope as the pages (selectors.interaction_scope /
task_scope: the row's own owner/team rules, or a visible linked contact or company), every write
through the services. Filters: `?contact=<id>`, `?company=<id>`; tasks also `?status=`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from accounts import access
from accounts.api import ScopedViewSetMixin
from contacts.activities import selectors, services
from contacts.activities.models import Interaction, Task, TaskStatus
from contacts.models import Company, Contact
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination


def _domain(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field or "non_field_errors": [exc.message]})


class _LinkedSerializer(serializers.ModelSerializer):
    """Contact and company choices are the ones the caller may see."""

    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            for name, model in (("contact", Contact), ("company", Company)):
                field = self.fields[name]
                assert isinstance(field, serializers.PrimaryKeyRelatedField)
                field.queryset = access.scoped(request.user, model)


class InteractionSerializer(_LinkedSerializer):
    duration_minutes = serializers.IntegerField(
        min_value=0, max_value=24 * 60, required=False, allow_null=True
    )

    class Meta:
        model = Interaction
        fields = [
            "id", "channel", "direction", "subject", "body", "occurred_at", "duration_minutes",
            "outcome", "contact", "company", "logged_by", "owner", "team", "archived_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "logged_by", "owner", "team", "archived_at", "created_at", "updated_at",
        ]  # fmt: skip

    def to_input(self, instance: Interaction | None = None) -> services.InteractionInput:
        data = dict(self.validated_data)
        minutes = data.pop("duration_minutes", None)
        if instance is not None:  # a partial update keeps what it does not name
            base = {
                "channel": instance.channel,
                "occurred_at": instance.occurred_at,
                "direction": instance.direction,
                "subject": instance.subject,
                "body": instance.body,
                "outcome": instance.outcome,
                "contact": instance.contact,
                "company": instance.company,
            }
            data = {**base, **data}
            if "duration_minutes" not in self.validated_data:
                return services.InteractionInput(**data, duration=instance.duration)
        duration = dt.timedelta(minutes=minutes) if minutes is not None else None
        return services.InteractionInput(**data, duration=duration)


class TaskSerializer(_LinkedSerializer):
    class Meta:
        model = Task
        fields = [
            "id", "title", "notes", "due_at", "priority", "status", "owner", "contact",
            "company", "created_by", "completed_at", "completed_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "status", "created_by", "completed_at", "completed_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        extra_kwargs = {"owner": {"required": False}}

    def to_input(self, instance: Task | None = None) -> services.TaskInput:
        data = dict(self.validated_data)
        assignee = data.pop("owner", None)
        if instance is not None:
            base = {
                "title": instance.title,
                "notes": instance.notes,
                "due_at": instance.due_at,
                "priority": instance.priority,
                "contact": instance.contact,
                "company": instance.company,
            }
            data = {**base, **data}
            assignee = assignee or instance.owner
        return services.TaskInput(**data, assignee=assignee)


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValidationError({"detail": [_("Ids are whole numbers.")]})
    return int(value)


class _ScopedLinkedViewSet(ScopedViewSetMixin):
    """Objects come from this app's selectors (not `access.scoped` alone: a row is also visible
    through its linked record)."""

    def get_object(self) -> Any:
        action: Any = "view" if self.request.method in ("GET", "HEAD", "OPTIONS") else "change"
        user: Any = self.request.user
        getter = (
            selectors.interaction_get if self.scoped_model is Interaction else selectors.task_get
        )
        obj = getter(user=user, pk=self.kwargs["pk"], action=action)
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj

    def _record_filters(self, qs: Any) -> Any:
        params = self.request.query_params
        contact, company = _int(params.get("contact")), _int(params.get("company"))
        if contact is not None:
            qs = qs.filter(contact_id=contact)
        if company is not None:
            qs = qs.filter(company_id=company)
        return qs


class InteractionViewSet(
    _ScopedLinkedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Interactions the caller may see (archived ones have `archived_at` set)."""

    scoped_model = Interaction
    serializer_class = InteractionSerializer
    pagination_class = ApiCursorPagination
    request: AuthedRequest

    def get_queryset(self) -> Any:
        qs = selectors.interaction_scope(user=self.request.user)
        return self._record_filters(qs)

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.instance = services.interaction_log(
                data=serializer.to_input(), actor=self.request.user
            )
        except DomainError as exc:
            raise _domain(exc) from exc

    def perform_update(self, serializer: Any) -> None:
        instance = serializer.instance
        try:
            serializer.instance = services.interaction_update(
                interaction=instance, data=serializer.to_input(instance), actor=self.request.user
            )
        except DomainError as exc:
            raise _domain(exc) from exc


class TaskViewSet(
    _ScopedLinkedViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks the caller may see. `?status=open|done`."""

    scoped_model = Task
    serializer_class = TaskSerializer
    pagination_class = ApiCursorPagination
    request: AuthedRequest

    def get_queryset(self) -> Any:
        qs = self._record_filters(selectors.task_scope(user=self.request.user))
        status = self.request.query_params.get("status")
        if status:
            if status not in TaskStatus.values:
                values = ", ".join(TaskStatus.values)
                raise ValidationError({"status": [_("One of: %(values)s.") % {"values": values}]})
            qs = qs.filter(status=status)
        return qs

    def perform_create(self, serializer: Any) -> None:
        try:
            serializer.instance = services.task_create(
                data=serializer.to_input(), actor=self.request.user
            )
        except DomainError as exc:
            raise _domain(exc) from exc

    def perform_update(self, serializer: Any) -> None:
        instance = serializer.instance
        try:
            serializer.instance = services.task_update(
                task=instance, data=serializer.to_input(instance), actor=self.request.user
            )
        except DomainError as exc:
            raise _domain(exc) from exc
