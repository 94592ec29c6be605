"""Shapes of input: the opportunity form and a stage move. Rules live in `sales.services`."""

from __future__ import annotations

from itertools import zip_longest
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts.forms import CompanyPicker, OwnerChoiceField
from crm.tags import TagNamesField, labels_for
from sales.models import (
    QUALIFICATION_FIELDS,
    ContactRole,
    LossReason,
    Opportunity,
    Pipeline,
    Stage,
    StageKind,
    WinReason,
)
from sales.services import OpportunityInput

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.models import Company


def _reason_field(
    model: type[LossReason | WinReason], label: Any, required: Any, deal: Opportunity
) -> forms.ModelChoiceField[Any]:
    initial = deal.won_reason_id if model is WinReason else deal.loss_reason_id
    return forms.ModelChoiceField(
        label=label,
        queryset=model.objects.filter(active=True),
        initial=initial,
        error_messages={
            "required": required,
            "invalid_choice": _("Pick a reason from the list."),
        },
    )


class OpportunityForm(forms.ModelForm):
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "pipeline",
            "company",
            "amount",
            "currency",
            "expected_close_date",
            "probability",
            "next_step",
            "source",
            "forecast_category",
            *QUALIFICATION_FIELDS,
            "owner",
        ]
        widgets = {
            "expected_close_date": forms.DateInput(attrs={"type": "date"}),
            "company": CompanyPicker,
        }
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from contacts.models import Company

        companies = access.scoped(user, Company).filter(archived_at__isnull=True)
        company = cast("forms.ModelChoiceField[Company]", self.fields["company"])
        company.queryset = companies
        company.widget.queryset = companies
        owner = cast("OwnerChoiceField", self.fields["owner"])
        owner.queryset = access.assignable_owners(user, Opportunity)
        owner.required = False
        owner.help_text = _("Leave empty to own it yourself.")
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Leave empty for the stage's default.")
        pipeline = cast("forms.ModelChoiceField[Pipeline]", self.fields["pipeline"])
        pipeline.queryset = Pipeline.objects.order_by("position", "id")
        if self.instance.pk:
            # The stage (and so the pipeline) changes on the board, through a move.
            del self.fields["pipeline"]
            if self.instance.lines.exists():
                # The amount is the lines' total (sales.lines); a typed one would not last.
                amount = self.fields["amount"]
                amount.disabled = True
                amount.help_text = _(
                    "The total of the deal's products: change the products to change it."
                )
            self.initial["tags"] = [t.name for t in labels_for(self.instance.tag_ids)]
            self._add_reason_field()

    def _add_reason_field(self) -> None:
        """A won deal's form corrects its won reason, a lost deal's its loss reason."""
        kind = self.instance.stage.kind
        if kind == StageKind.WON and WinReason.objects.filter(active=True).exists():
            self.fields["won_reason"] = _reason_field(
                WinReason, _("Won reason"), _("Choose why the deal was won."), self.instance
            )
        elif kind == StageKind.LOST:
            self.fields["loss_reason"] = _reason_field(
                LossReason, _("Loss reason"), _("Choose why the deal was lost."), self.instance
            )

    def to_input(self) -> OpportunityInput:
        data = self.cleaned_data
        return OpportunityInput(
            name=data["name"],
            expected_close_date=data["expected_close_date"],
            pipeline=data.get("pipeline"),
            company=data.get("company"),
            owner=data.get("owner"),
            amount=data["amount"],
            currency=data["currency"],
            probability=data.get("probability"),
            next_step=data.get("next_step", ""),
            source=data.get("source", ""),
            forecast_category=data["forecast_category"],
            ratings={name: int(data.get(name) or 0) for name in QUALIFICATION_FIELDS},
            tag_names=data.get("tags") or [],
            won_reason=data.get("won_reason"),
            loss_reason=data.get("loss_reason"),
            contacts=[(r.contact, r.role) for r in self.instance.contact_roles.all()]
            if self.instance.pk
            else [],
        )


MAX_DIALOG_CONTACTS = 20


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.all(),
        error_messages={
            "required": _("Choose a stage."),
            "invalid_choice": _("Pick a stage from the list."),
        },
    )
    loss_reason = forms.ModelChoiceField(
        queryset=LossReason.objects.filter(active=True),
        required=False,
        error_messages={"invalid_choice": _("Pick a reason from the list.")},
    )
    loss_note = forms.CharField(max_length=300, required=False)
    won_reason = forms.ModelChoiceField(
        queryset=WinReason.objects.filter(active=True),
        required=False,
        error_messages={"invalid_choice": _("Pick a reason from the list.")},
    )
    # What the stage requires, asked by the board's dialog (empty: not brought along).
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        error_messages={"invalid": _("Enter the amount as a number.")},
    )
    next_step = forms.CharField(max_length=200, required=False, strip=True)
    # A company the user may see (the dialog's picker), and contacts with their roles: the
    # repeated `contact` and `contact_role` values, in pairs.
    company: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Pick a company from the suggestions.")},
    )

    def __init__(self, *args: Any, opportunity: Opportunity, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from contacts.models import Company

        self.user = user
        stage = cast("forms.ModelChoiceField[Stage]", self.fields["stage"])
        stage.queryset = Stage.objects.filter(pipeline_id=opportunity.pipeline_id)
        company = cast("forms.ModelChoiceField[Company]", self.fields["company"])
        company.queryset = access.scoped(user, Company).filter(archived_at__isnull=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        getlist = getattr(self.data, "getlist", None)  # a QueryDict: repeated values
        given = getlist("contact") if getlist else []
        given_roles = getlist("contact_role") if getlist else []
        # The dialog's rows in pairs; a row left without a contact is skipped with its role.
        pairs = [
            (contact.strip(), role)
            for contact, role in zip_longest(given, given_roles, fillvalue="")
            if contact.strip()
        ]
        data["contacts"] = []
        if not pairs:
            return data
        if len(pairs) > MAX_DIALOG_CONTACTS:
            self.add_error(
                None,
                _("Add at most %(n)s contacts at once.") % {"n": MAX_DIALOG_CONTACTS},
            )
            return data
        ids = [contact for contact, _role in pairs]
        roles = [role for _contact, role in pairs]
        if any(r not in ContactRole.values for r in roles):
            self.add_error(None, _("Choose each contact's role."))
            return data
        from contacts.models import Contact

        if not all(i.isascii() and i.isdigit() and len(i) <= 18 for i in ids):
            self.add_error(None, _("Pick a contact from the suggestions."))
            return data
        found = (
            access.scoped(self.user, Contact)
            .filter(archived_at__isnull=True)
            .in_bulk([int(i) for i in ids])
        )
        if len(found) != len(set(ids)):
            self.add_error(None, _("No such record, or you do not have access to it."))
            return data
        data["contacts"] = [(found[int(i)], role) for i, role in zip(ids, roles, strict=False)]
        return data

    def fill(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {}
        if data.get("amount") is not None:
            values["amount"] = data["amount"]
        if data.get("next_step"):
            values["next_step"] = data["next_step"]
        if data.get("company") is not None:
            values["company"] = data["company"]
        if data.get("contacts"):
            values["contacts"] = data["contacts"]
        return values


class ContactRoleForm(forms.Form):
    """A contact the user may see (the picker's hidden id) and their role in the deal."""

    contact: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        error_messages={
            "required": _("Pick a contact from the suggestions."),
            "invalid_choice": _("No such record, or you do not have access to it."),
        },
    )
    role = forms.ChoiceField(
        choices=ContactRole.choices,
        error_messages={"invalid_choice": _("Choose each contact's role.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from contacts.models import Contact

        contact = cast("forms.ModelChoiceField[Contact]", self.fields["contact"])
        contact.queryset = access.scoped(user, Contact).filter(archived_at__isnull=True)
