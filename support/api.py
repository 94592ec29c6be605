"""REST API for tickets and their messages: the list's scope and filters
(`support.filters.TicketFilterSet`), writes through the services. A ticket POST may carry an
`Idempotency-Key` header: a retried POST with the same key (per user) returns the ticket the
first one created (200) instead of a second ticket."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import access
from accounts.api import ScopedViewSetMixin
from crm.errors import DomainError
from crm.http import AuthedRequest
from crm.pagination import ApiCursorPagination
from support import selectors, services
from support.filters import TicketFilterSet
from support.models import Channel, MessageKind, Queue, Ticket, TicketMessage

MAX_KEY_LENGTH = 64


def _domain(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field or "non_field_errors": [exc.message]})


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all())
    requester_email = serializers.EmailField(write_only=True, required=False)
    requester_name = serializers.CharField(write_only=True, required=False, max_length=200)
    # The linked deal's id, or null to a caller who may not see that deal (as the ticket page
    # says "a deal you cannot see"): one query for the whole page (`_visible_deals`).
    opportunity = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "reference", "subject", "description", "requester", "company",
            "channel", "type", "priority", "status", "queue", "assignee", "tier", "opportunity",
            "first_response_due", "resolution_due", "first_responded_at", "solved_at",
            "created_at", "updated_at", "requester_email", "requester_name", "tag_ids",
        ]  # fmt: skip
        read_only_fields = [
            "id", "number", "reference", "requester", "company", "status", "assignee", "tier",
            "first_response_due", "resolution_due", "first_responded_at", "solved_at",
            "created_at", "updated_at", "tag_ids",
        ]  # fmt: skip
        extra_kwargs = {"channel": {"default": Channel.API}}

    def get_opportunity(self, ticket: Ticket) -> int | None:
        if ticket.opportunity_id is None:
            return None
        return ticket.opportunity_id if ticket.opportunity_id in self._visible_deals() else None

    def _visible_deals(self) -> set[int]:
        """The linked deals of the tickets being shown (the page, or the one ticket) that the
        caller may see, read once per response."""
        if "visible_deals" not in self.context:
            from sales.models import Opportunity

            shown = getattr(self.parent, "instance", None) or [self.instance]
            ids = {t.opportunity_id for t in shown if getattr(t, "opportunity_id", None)}
            user = self.context["request"].user
            visible = access.scoped(user, Opportunity).filter(pk__in=ids)
            self.context["visible_deals"] = (
                set(visible.values_list("pk", flat=True)) if ids else set()
            )
        return self.context["visible_deals"]


class TicketViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets the caller may see; filters as on the list (`?view=mine&status=&queue=&q=`).
    Status, priority and assignment change through the workspace (audited services)."""

    request: AuthedRequest
    scoped_model = Ticket
    serializer_class = TicketSerializer
    pagination_class = ApiCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = TicketFilterSet

    def get_queryset(self) -> Any:
        return selectors.ticket_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not access.can_add(request.user, Ticket):
            raise PermissionDenied()
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise ValidationError({"Idempotency-Key": [_("Use a key of at most 64 characters.")]})
        stored_key = f"api:{self.request.user.pk}:{key}" if key else ""
        if stored_key:
            found = selectors.ticket_list(user=self.request.user).filter(idempotency_key=stored_key)
            ticket = found.first()
            if ticket is not None:
                return Response(self.get_serializer(ticket).data, status=status.HTTP_200_OK)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            ticket = services.ticket_create(
                data=services.TicketInput(
                    subject=data["subject"],
                    queue=data["queue"],
                    channel=data.get("channel", Channel.API),
                    description=data.get("description", ""),
                    requester_email=data.get("requester_email", ""),
                    requester_name=data.get("requester_name", ""),
                    type=data.get("type", "question"),
                    priority=data.get("priority", "normal"),
                    idempotency_key=stored_key,
                ),
                actor=self.request.user,
            )
        except DomainError as exc:
            raise _domain(exc) from exc
        return Response(self.get_serializer(ticket).data, status=status.HTTP_201_CREATED)


class TicketMessageSerializer(serializers.ModelSerializer):
    ticket = serializers.PrimaryKeyRelatedField(queryset=Ticket.objects.all())
    kind = serializers.ChoiceField(
        choices=[MessageKind.PUBLIC, MessageKind.NOTE], default=MessageKind.PUBLIC
    )

    class Meta:
        model = TicketMessage
        fields = ["id", "ticket", "kind", "author", "body", "emailed_at", "created_at"]
        read_only_fields = ["id", "author", "emailed_at", "created_at"]


class TicketMessageViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Messages of the tickets the caller may see (`?ticket=<id>`), oldest first. POST a reply
    (emailed to the requester) or a note to a ticket the caller may work."""

    request: AuthedRequest
    scoped_model = TicketMessage
    serializer_class = TicketMessageSerializer
    pagination_class = ApiCursorPagination

    def get_queryset(self) -> Any:
        qs = access.scoped(self.request.user, TicketMessage).select_related("ticket")
        ticket = self.request.query_params.get("ticket", "")
        if ticket:
            if not ticket.isdigit():
                raise ValidationError({"ticket": [_("Give a ticket id.")]})
            qs = qs.filter(ticket_id=int(ticket))
        return qs

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        ticket = data["ticket"]
        if not access.can(self.request.user, ticket, "view"):
            raise ValidationError(
                {"ticket": [_("No such ticket, or you do not have access to it.")]}
            )
        try:
            if data["kind"] == MessageKind.NOTE:
                message = services.ticket_note(
                    ticket=ticket, body=data["body"], actor=self.request.user
                )
            else:
                message = services.ticket_reply(
                    ticket=ticket, body=data["body"], actor=self.request.user
                )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(_("You may see this ticket but not work on it.")) from exc
        except DomainError as exc:
            raise _domain(exc) from exc
        serializer.instance = message
