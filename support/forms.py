"""Shapes of input for the agent workspace. Rules (who may work a ticket, SLA pauses, the
collision guard) live in `support.services`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.tags import TagNamesField, labels_for
from support import selectors
from support.models import Channel, MessageKind, Priority, Queue, Status, TicketType

if TYPE_CHECKING:
    from accounts.models import User


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class QueueChoiceField(forms.TypedChoiceField):
    """Any queue (a ticket may be moved to another team's queue: `services.ticket_move`), from
    the cached options (read once per form: `offer_queues`), so a page showing it reads no
    queue on a warm cache; cleans to the `Queue` or None."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": _("Pick a queue from the list.")})
        super().__init__(coerce=int, empty_value=None, **kwargs)

    def clean(self, value: Any) -> Queue | None:
        pk = super().clean(value)
        if pk is None:
            return None
        queue = Queue.objects.filter(pk=pk).first()
        if queue is None:  # deleted since the options were cached
            raise forms.ValidationError(self.error_messages["invalid_choice"] % {"value": value})
        return queue


def offer_queues(form: forms.Form) -> None:
    form.fields["queue"].choices = [("", "—"), *selectors.all_queues()]  # type: ignore[attr-defined]


class _BulkOptions(forms.Form):
    """A bulk action's options (`crm.bulk_actions` builds them with the user)."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user


class BulkAssignForm(_BulkOptions):
    """The ticket list's bulk "assign" options (support/bulk.py): an agent of some queue (the
    service skips tickets of queues they are not an agent of). The bar offers the agents the
    list's assignee filter already holds (`selectors.agent_options`, cached); a forged id is a
    form error."""

    assignee = AgentChoiceField(
        label=_("New assignee"),
        queryset=None,
        error_messages={
            "required": _("Choose the new assignee."),
            "invalid_choice": _("Pick an assignee from the list."),
        },
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["assignee"].queryset = selectors.queue_agents()  # type: ignore[attr-defined]


class BulkStatusForm(_BulkOptions):
    """The ticket list's bulk "set status" options."""

    status = forms.ChoiceField(
        label=_("New status"),
        choices=[("", "—"), *Status.choices],
        error_messages={
            "required": _("Choose the new status."),
            "invalid_choice": _("Pick a status from the list."),
        },
    )


class BulkPriorityForm(_BulkOptions):
    """The ticket list's bulk "set priority" options."""

    priority = forms.ChoiceField(
        label=_("New priority"),
        choices=[("", "—"), *Priority.choices],
        error_messages={
            "required": _("Choose the new priority."),
            "invalid_choice": _("Pick a priority from the list."),
        },
    )


class BulkQueueForm(_BulkOptions):
    """The ticket list's bulk "move to queue" options: any queue (a transfer; the kit says how
    many moved tickets the user no longer sees)."""

    queue = QueueChoiceField(label=_("Move to queue"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["queue"].error_messages["required"] = _("Choose the queue to move them to.")
        offer_queues(self)


class TicketCreateForm(forms.Form):
    """An agent's new ticket (a phone call in a few taps: the requester, a subject, go)."""

    requester_email = forms.EmailField(label=_("Requester's email"), max_length=254, required=False)
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What the customer said"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
        required=False,
    )
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none())
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False, initial=True)
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    def __init__(self, *args: Any, user: User, requester: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requester = requester
        queues = Queue.objects.order_by("name")
        self.fields["queue"].queryset = queues  # type: ignore[attr-defined]
        mine = selectors.user_queues(user=user)
        if mine:
            self.fields["queue"].initial = mine[0].pk
        if requester is not None:
            del self.fields["requester_email"]
            del self.fields["requester_name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.requester is None and not data.get("requester_email"):
            self.add_error("requester_email", _("Give the requester's email address."))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class MessageForm(forms.Form):
    """The composer: a public reply or an internal note, files, and the newest message the
    agent saw (the collision guard)."""

    kind = forms.ChoiceField(
        label=_("Send as"),
        choices=[(MessageKind.PUBLIC, _("Reply")), (MessageKind.NOTE, _("Internal note"))],
        initial=MessageKind.PUBLIC,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=50000
    )
    attachments = MultipleFileField(label=_("Attach files"), required=False)
    seen = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    canned = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class TicketUpdateForm(forms.Form):
    """Status, priority, assignee and tags from the ticket page's side form (each optional)."""

    status = forms.ChoiceField(label=_("Status"), choices=Status.choices, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, required=False)
    assignee = AgentChoiceField(label=_("Assignee"), queryset=None, required=False)
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))
    queue = QueueChoiceField(label=_("Queue"), required=False)

    def __init__(
        self, *args: Any, queue_id: int, tag_ids: list[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("queue", queue_id)
        offer_queues(self)
        self.fields["assignee"].queryset = selectors.queue_agents(queue_ids=[queue_id])  # type: ignore[attr-defined]
        self.current_tags = [t.name for t in labels_for(tag_ids or [])]
        self.initial.setdefault("tags", self.current_tags)

    def tags_changed(self) -> bool:
        """Whether the posted names differ from the ticket's (letter case aside)."""
        posted = {n.casefold() for n in self.cleaned_data.get("tags") or []}
        return "tags" in self.data and posted != {n.casefold() for n in self.current_tags}
