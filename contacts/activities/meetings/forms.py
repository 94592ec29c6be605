"""The meeting form: what the organiser types; the contacts and colleagues offered come from the
record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from contacts.activities.forms import LocalDateTimeInput
from contacts.activities.meetings.services import MAX_TITLE, MeetingInput
from contacts.models import Contact


class MeetingForm(forms.Form):
    """What the organiser types; the contacts and colleagues offered come from the record."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=MAX_TITLE)
    start = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    end = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        required=False,
        widget=LocalDateTimeInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Or duration (minutes)"), min_value=1, max_value=24 * 60, required=False
    )
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    video_url = forms.URLField(label=gettext_lazy("Video link"), max_length=500, required=False)
    contacts = forms.MultipleChoiceField(
        label=gettext_lazy("Contacts"), required=False, widget=forms.CheckboxSelectMultiple
    )
    colleagues = forms.MultipleChoiceField(
        label=gettext_lazy("Colleagues"), required=False, widget=forms.CheckboxSelectMultiple
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, contacts: list[Contact], colleagues: list[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.contact_rows = {str(c.pk): c for c in contacts}
        self.colleague_rows = {str(u.pk): u for u in colleagues}
        self.fields["contacts"].choices = [  # type: ignore[attr-defined]
            (str(c.pk), f"{c} <{c.primary_email}>") for c in contacts
        ]
        self.fields["colleagues"].choices = [  # type: ignore[attr-defined]
            (str(u.pk), u.get_full_name() or u.email) for u in colleagues
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, minutes = data.get("start"), data.get("end"), data.get("duration_minutes")
        if start and not end:
            if minutes:
                data["end"] = start + dt.timedelta(minutes=minutes)
            elif "end" not in self.errors:
                self.add_error("end", _("Give an end time or a duration."))
        return data

    def to_input(self) -> MeetingInput:
        data = self.cleaned_data
        return MeetingInput(
            title=data["title"],
            start=data["start"],
            end=data["end"],
            location=data.get("location", ""),
            video_url=data.get("video_url", ""),
            notes=data.get("notes", ""),
            contacts=[self.contact_rows[k] for k in data.get("contacts", [])],
            colleagues=[self.colleague_rows[k] for k in data.get("colleagues", [])],
        )
