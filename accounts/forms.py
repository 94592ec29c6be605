"""Forms for signing in and for a user's own profile."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TIME_ZONE_CHOICES, NameOrder, User

# Offered first: Greater China's zones, then the main business centres from east to west.
COMMON_TIME_ZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Australia/Sydney", "Asia/Tokyo",
    "Asia/Seoul", "Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Europe/Moscow",
    "Europe/Berlin", "Europe/Paris", "Europe/London", "UTC", "America/Sao_Paulo",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
)  # fmt: skip
# The regions of the IANA database in their own group; the rest (legacy names such as
# "US/Eastern" or "PRC", and Etc/…) go to "Other" so a stored value stays selectable.
TIME_ZONE_REGIONS = {
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific"),
}


def utc_offset(name: str, at: dt.datetime) -> str:
    """The zone's offset at `at` (summer time included), as "UTC+08:00"."""
    offset = at.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_zone_choices(at: dt.datetime | None = None) -> list[tuple[Any, Any]]:
    """Every time zone the model accepts, grouped for a <select>: the common ones first, then one
    <optgroup> per region in name order, each labelled with its offset now
    ("Asia/Shanghai (UTC+08:00)")."""
    at = at or timezone.now()

    def label(name: str) -> str:
        return f"{name.replace('_', ' ')} ({utc_offset(name, at)})"

    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in TIME_ZONE_REGIONS}
    other: list[tuple[str, str]] = []
    for name, _name in TIME_ZONE_CHOICES:
        region = name.split("/", 1)[0]
        (groups[region] if "/" in name and region in groups else other).append((name, label(name)))
    return [
        (_("Common"), [(name, label(name)) for name in COMMON_TIME_ZONES]),
        *((TIME_ZONE_REGIONS[region], zones) for region, zones in groups.items() if zones),
        (_("Other"), other),
    ]


class EmailAuthenticationForm(AuthenticationForm):
    """Login by email address; the address is matched case-insensitively."""

    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True})
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "first_name", "last_name", "name_order", "phone", "photo", "language", "time_zone",
        ]  # fmt: skip
        labels = {"first_name": _("Given name"), "last_name": _("Family name")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["photo"].help_text = _("JPEG, PNG or WebP, up to 2 MB.")
        order = self.fields["name_order"]
        assert isinstance(order, forms.ChoiceField)
        order.choices = [("", _("By the name's script (吴强, John Smith)")), *NameOrder.choices]
        order.help_text = _("How your name is shown to everyone, e.g. as a record's owner.")
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        now = timezone.now()
        zone.choices = time_zone_choices(now)
        current = self.instance.time_zone or "UTC"
        zone.help_text = _("Now %(offset)s, %(time)s in %(zone)s.") % {
            "offset": utc_offset(current, now),
            "time": now.astimezone(zoneinfo.ZoneInfo(current)).strftime("%H:%M"),
            "zone": current,
        }

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The photo is larger than 2 MB."))
        return photo
