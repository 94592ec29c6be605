"""Shape checks for interactions and tasks. Rules (outcome per channel, not in the future, who
may be assigned) are the services' (DomainError), shown next to the field by the views."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from contacts.activities.models import Channel, Direction, Outcome, Priority
from contacts.activities.services import InteractionInput, TaskInput

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    """`<input type="datetime-local">`: the phone's own date and time picker. The value is in the
    user's time zone (activated per request by UserPreferencesMiddleware)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_FORMAT)


def _local_field(label: Any, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=LocalDateTimeInput(),
        input_formats=[LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


def now_minute() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class InteractionForm(forms.Form):
    """What was logged. The contact/company come from the URL (fetched through the permission
    layer by the view), not from the form."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    occurred_at = _local_field(_("When"), required=True)
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        required=False,
        widget=forms.RadioSelect,
        initial=Direction.OUTBOUND,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=0, max_value=24 * 60, required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "---------"), *Outcome.choices], required=False
    )

    def to_input(self, **links: Any) -> InteractionInput:
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        return InteractionInput(
            channel=data["channel"],
            occurred_at=data["occurred_at"],
            direction=data.get("direction") or Direction.OUTBOUND,
            subject=data.get("subject", ""),
            body=data.get("body", ""),
            duration=dt.timedelta(minutes=minutes) if minutes is not None else None,
            outcome=data.get("outcome", ""),
            **links,
        )

    @classmethod
    def initial_for(cls, interaction: Any) -> dict[str, Any]:
        return {
            "channel": interaction.channel,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "direction": interaction.direction or Direction.OUTBOUND,
            "subject": interaction.subject,
            "body": interaction.body,
            "duration_minutes": interaction.duration_minutes,
            "outcome": interaction.outcome,
        }


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = _local_field(_("Due (the assignee's time)"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=User.objects.none(), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, assignees: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        if assignees is not None:
            field.queryset = assignees
        field.empty_label = _("Me")

    def clean(self) -> dict[str, Any]:
        """A due time is the assignee's wall-clock time: "call at 9:00" assigned to a colleague
        in Shanghai means 9:00 in Shanghai, whatever the zone of whoever typed it."""
        data = super().clean() or {}
        due, assignee = data.get("due_at"), data.get("assignee")
        if due is not None and assignee is not None:
            zone = zoneinfo.ZoneInfo(assignee.time_zone or "UTC")
            wall = timezone.make_naive(due, timezone.get_current_timezone())
            data["due_at"] = timezone.make_aware(wall, zone)
        return data

    def to_input(self, **links: Any) -> TaskInput:
        data = self.cleaned_data
        return TaskInput(
            title=data["title"],
            assignee=data.get("assignee"),
            notes=data.get("notes", ""),
            due_at=data.get("due_at"),
            priority=data.get("priority") or Priority.NORMAL,
            **links,
        )


class TaskCompleteForm(forms.Form):
    """Completing a task, optionally logging what happened (a call, a meeting, ...)."""

    log_channel = forms.ChoiceField(
        label=_("Log it as"),
        choices=[("", _("Don't log anything")), *Channel.choices],
        required=False,
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "---------"), *Outcome.choices], required=False
    )
    body = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def to_log(self, *, subject: str) -> InteractionInput | None:
        data = self.cleaned_data
        if not data.get("log_channel"):
            return None
        return InteractionInput(
            channel=data["log_channel"],
            occurred_at=timezone.now(),
            subject=subject,
            body=data.get("body", ""),
            outcome=data.get("outcome", ""),
        )
