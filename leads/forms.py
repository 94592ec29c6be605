"""Shapes of input for leads. Rules (duplicates, ownership, read-only once converted) live in
`leads.services`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts.forms import OwnerChoiceField
from leads.models import Lead, LeadFormField, LeadStatus
from leads.models import LeadForm as LeadFormModel
from leads.services import LEAD_FIELDS

if TYPE_CHECKING:
    from accounts.models import User

FORM_FIELDS = [
    name
    for name in LEAD_FIELDS
    if name not in {"referring_contact", "consent_text", "consent_at", "consent_from"}
]


class LeadForm(forms.ModelForm):
    class Meta:
        model = Lead
        fields = [*FORM_FIELDS, "owner"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast("OwnerChoiceField", self.fields["owner"])
        owner.queryset = access.assignable_owners(user, Lead)
        owner.required = False
        owner.help_text = _("Leave empty to own it yourself.")
        if self.instance.pk:
            # Ownership changes through assignment (recorded), not the edit form.
            del self.fields["owner"]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FORM_FIELDS}


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED],
    )
    reason = forms.CharField(label=_("Reason (if unqualified)"), max_length=200, required=False)


class BulkStatusForm(forms.Form):
    """The lead list's bulk "set status" options (`crm.bulk_actions`): new, contacted, qualified
    or unqualified with the reason it needs (converted only through Convert, one by one)."""

    status = forms.ChoiceField(
        label=_("New status"),
        choices=[("", "—"), *StatusForm.base_fields["status"].choices],  # type: ignore[attr-defined]
        error_messages={
            "required": _("Choose the new status."),
            "invalid_choice": _("Choose a status; a lead is converted with Convert."),
        },
    )
    reason = forms.CharField(label=_("Reason (if unqualified)"), max_length=200, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status_options = [c for c in self.fields["status"].choices if c[0]]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == LeadStatus.UNQUALIFIED and not data.get("reason", "").strip():
            self.add_error("reason", _("Say why the lead is unqualified."))
        return data


class ConvertForm(forms.Form):
    """Link the lead to one of the matching contacts offered, or create a new one."""

    contact = forms.TypedChoiceField(label=_("Contact"), coerce=int, required=False)
    create_company = forms.BooleanField(label=_("Create the company"), required=False)

    def __init__(self, *args: Any, matches: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.matches = {c.pk: c for c in matches}
        choices: list[tuple[Any, Any]] = [("", _("Create a new contact"))]
        choices += [(c.pk, str(c)) for c in matches]
        self.fields["contact"].choices = choices  # type: ignore[attr-defined]


class LeadFormSettingsForm(forms.ModelForm):
    """A web form's settings (admin and the staff page). Origins are checked line by line."""

    class Meta:
        model = LeadFormModel
        fields = [
            "name", "slug", "title", "title_zh", "consent_text", "consent_text_zh", "thank_you",
            "thank_you_zh", "redirect_url", "owner", "use_assignment_rules", "allowed_origins",
            "active",
        ]  # fmt: skip
        widgets = {
            "consent_text": forms.Textarea(attrs={"rows": 2}),
            "consent_text_zh": forms.Textarea(attrs={"rows": 2}),
            "thank_you": forms.Textarea(attrs={"rows": 2}),
            "thank_you_zh": forms.Textarea(attrs={"rows": 2}),
            "allowed_origins": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_allowed_origins(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
        for line in filter(None, lines):
            parts = urlsplit(line)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path.strip("/"):
                raise forms.ValidationError(
                    _("“%(origin)s” is not an origin: write it as https://www.example.com"),
                    params={"origin": line[:100]},
                )
        return "\n".join(filter(None, lines))


FormFieldFormSet: type[forms.BaseInlineFormSet[Any, Any, Any]] = forms.inlineformset_factory(
    LeadFormModel,
    LeadFormField,
    fields=["position", "field", "required", "label", "label_zh"],
    extra=2,
    can_delete=True,
)
