"""The filters of the ticket list (the page, the API and the bulk bar's return share them and
refuse the same values): the workspace views (my open, unassigned, breaching soon, open),
queue, status, priority, channel, tags, assignee and a search by number or subject."""

from __future__ import annotations

from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.lists import ListFilterSet, SearchFilter
from crm.tags import TagFilter, tag_options
from support import selectors
from support.models import Channel, Priority, Status, Ticket

ANY = _("Any")

VIEW_CHOICES = [
    ("mine", _("My open tickets")),
    ("unassigned", _("Unassigned")),
    ("breaching", _("Breaching soon")),
    ("open", _("All open, by queue")),
    ("all", _("All tickets")),
]


class TicketFilterSet(ListFilterSet):
    view = django_filters.ChoiceFilter(
        label=_("View"),
        choices=VIEW_CHOICES,
        method="filter_view",
        empty_label=None,
        error_messages={"invalid_choice": _("Pick a view from the list.")},
    )
    q = SearchFilter(match=selectors.ticket_match)
    queue = django_filters.ChoiceFilter(
        label=_("Queue"),
        method="filter_queue",
        empty_label=_("Every queue"),
        # Unknown ids and queues whose tickets the user does not see alike (the choices are
        # the user's: `selectors.queue_options`); the kit keeps the other filters.
        error_messages={
            "invalid_choice": _(
                "No queue with that id among those whose tickets you see: pick one from the list."
            )
        },
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Status.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a status from the list.")},
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priority"),
        choices=Priority.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a priority from the list.")},
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"),
        choices=Channel.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a channel from the list.")},
    )
    tag = TagFilter()
    assignee = django_filters.ChoiceFilter(
        label=_("Assignee"),
        method="filter_assignee",
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Pick an assignee from the list.")},
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    more_filters = ("channel", "tag")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The queues whose tickets the user sees (an agent: their own), not every queue.
        queues = (
            selectors.queue_options(user=self.user)
            if self.user is not None and self.user.is_authenticated
            else selectors.all_queues()
        )
        self.queues = [(str(pk), name) for pk, name in queues]
        self.agents = [(str(pk), name) for pk, name in selectors.agent_options()]
        self.filters["queue"].extra["choices"] = self.queues
        self.filters["assignee"].extra["choices"] = [
            ("me", _("Me")),
            ("none", _("Unassigned")),
            *self.agents,
        ]

    def prepare_form(self, form: forms.Form) -> None:
        form.queue_choices = [("", _("Every queue")), *self.queues]  # type: ignore[attr-defined]
        form.assignee_choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Unassigned")),
            *self.agents,
        ]
        form.agents = self.agents  # type: ignore[attr-defined]
        form.tag_options = tag_options()  # type: ignore[attr-defined]

    def filter_view(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if not value or value == "all" or self.user is None:
            return qs
        return qs.filter(selectors.view_q(value, user=self.user))

    def filter_queue(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(queue_id=int(value))

    def filter_assignee(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "me":
            return qs.filter(assignee_id=getattr(self.user, "pk", None))
        if value == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee_id=int(value))
