"""The permission door for DRF viewsets: one mixin, so an API over any owned model is scoped the
same way as its pages (`accounts.access`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework.exceptions import PermissionDenied

from accounts import access

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from rest_framework.request import Request
    from rest_framework.response import Response

_ACTIONS: dict[str, access.Action] = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "DELETE": "delete",
}


class ScopedViewSetMixin:
    """Put before `GenericViewSet` (or its mixins) and set `scoped_model`.

    - list: `get_queryset()` starts from `access.scoped(user, scoped_model)`; subclasses that
      narrow or shape it call `super().get_queryset()` (filter backends narrow it further).
    - retrieve, update, delete: the object comes through `access.get_for_user_or_404` (404 when
      the user may not see it, 403 when they may see but not change or delete it), from
      `get_object_queryset()`, which list filters do not touch.
    - create: 403 without the role's add permission, before the input is validated.
    - read-only viewsets (`ReadOnlyModelViewSet`) use it too: it adds no method.
    Services still check again (`access.require`), so a viewset that overrides these stays safe.
    """

    scoped_model: ClassVar[type[Model]]
    request: Request
    kwargs: dict[str, Any]
    lookup_field: str = "pk"
    lookup_url_kwarg: str | None = None

    def get_queryset(self) -> QuerySet[Any]:
        return access.scoped(self.request.user, self.scoped_model)

    def get_object_queryset(self) -> QuerySet[Any]:
        """The rows a single-object request may fetch; override to add select_related."""
        return access.scoped(self.request.user, self.scoped_model)

    def get_object(self) -> Any:
        action = _ACTIONS.get(self.request.method or "GET", "change")
        pk = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            obj = access.get_for_user_or_404(
                self.request.user,
                self.scoped_model,
                pk,
                action=action,
                queryset=self.get_object_queryset(),
            )
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The add check runs before the handler (so before the input is validated), and is a
        # hook, not a `create` method: a read-only viewset on this mixin offers no POST.
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if getattr(self, "action", None) == "create" and not access.can_add(
            request.user, self.scoped_model
        ):
            raise PermissionDenied()

    def handle_exception(self, exc: Exception) -> Response:
        # A service's own check (access.require) answers 403 with its message, like the door.
        if isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)  # type: ignore[misc]
