"""Input shapes for contacts and companies. Forms check shape; services check rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts.models import (
    Company,
    Contact,
    EmailLabel,
    PhoneLabel,
)
from contacts.search import digits_of
from contacts.services import EmailInput, PhoneInput
from contacts.validators import EmailAddressField
from crm.tags import TagNamesField

if TYPE_CHECKING:
    from accounts.models import User


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.team})" if obj.team_id else str(obj)


class CompanyPicker(forms.Widget):
    """Type-ahead for a company: a text box that asks the server (HTMX) for matches, and a
    hidden input with the chosen id. Never renders every company as an <option>."""

    template_name = "components/company_picker.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queryset: Any = None

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        label = ""
        if value and self.queryset is not None and str(value).isdigit():
            company = self.queryset.filter(pk=value).only("name").first()
            label = company.name if company else ""
        context["widget"]["label"] = label
        return context


class ContactForm(forms.ModelForm):
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Contact
        fields = [
            "name_order",
            "given_name",
            "family_name",
            "company",
            "job_title",
            "department",
            "lifecycle_stage",
            "source",
            "region",
            "owner",
            "website",
            "linkedin",
            "x_handle",
            "wechat",
            "birthday",
            "street",
            "city",
            "state",
            "postal_code",
            "country",
            "notes",
        ]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "company": CompanyPicker,
        }
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, user: User, companies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only owners the user may assign (access.can_assign); a forged id is a form error.
        cast("OwnerChoiceField", self.fields["owner"]).queryset = access.assignable_owners(
            user, Contact
        )
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        cast("forms.ModelChoiceField[Company]", self.fields["company"]).queryset = companies
        self.fields["company"].widget.queryset = companies
        if self.instance.pk:
            self.initial["tags"] = [t.name for t in self.instance.tags.all()]


class CompanyForm(forms.ModelForm):
    tags = TagNamesField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    class Meta:
        model = Company
        fields = [
            "name",
            "website",
            "email",
            "phone",
            "industry",
            "size",
            "region",
            "lifecycle_stage",
            "source",
            "owner",
            "linkedin",
            "x_handle",
            "wechat",
            "street",
            "city",
            "state",
            "postal_code",
            "country",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"owner": OwnerChoiceField}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only owners the user may assign (access.can_assign); a forged id is a form error.
        cast("OwnerChoiceField", self.fields["owner"]).queryset = access.assignable_owners(
            user, Company
        )
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        if self.instance.pk:
            self.initial["tags"] = [t.name for t in self.instance.tags.all()]


class EmailForm(forms.Form):
    email = EmailAddressField(label=_("Email"), required=False)  # zoë@example.com is valid
    label = forms.ChoiceField(label=_("Label"), choices=EmailLabel.choices, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class PhoneForm(forms.Form):
    number = forms.CharField(label=_("Phone"), required=False, max_length=40)
    label = forms.ChoiceField(label=_("Label"), choices=PhoneLabel.choices, required=False)
    is_primary = forms.BooleanField(label=_("Primary"), required=False)

    def clean_number(self) -> str:
        number = self.cleaned_data.get("number", "").strip()
        if number and len(digits_of(number)) < 3:
            raise forms.ValidationError(_("Enter a phone number with at least three digits."))
        return number


EmailFormSet = forms.formset_factory(EmailForm, extra=1, max_num=6, validate_max=True)
PhoneFormSet = forms.formset_factory(PhoneForm, extra=1, max_num=6, validate_max=True)


def emails_from(formset: Any) -> list[EmailInput]:
    return [
        EmailInput(
            f.cleaned_data["email"],
            f.cleaned_data.get("label") or EmailLabel.WORK,
            f.cleaned_data.get("is_primary", False),
        )
        for f in formset.forms
        if f.cleaned_data.get("email")
    ]


def phones_from(formset: Any) -> list[PhoneInput]:
    return [
        PhoneInput(
            f.cleaned_data["number"],
            f.cleaned_data.get("label") or PhoneLabel.MOBILE,
            f.cleaned_data.get("is_primary", False),
        )
        for f in formset.forms
        if f.cleaned_data.get("number")
    ]


# Fields that can be edited in place on the contact page.
INLINE_CONTACT_FIELDS = (
    "job_title",
    "department",
    "lifecycle_stage",
    "source",
    "region",
    "website",
    "linkedin",
    "x_handle",
    "wechat",
    "birthday",
    "city",
    "country",
    "notes",
)


def inline_contact_form(field: str, *args: Any, **kwargs: Any) -> forms.ModelForm:
    """A one-field form for inline editing; `field` must be in INLINE_CONTACT_FIELDS."""
    widgets = {k: v for k, v in ContactForm.Meta.widgets.items() if k == field}
    meta = type("Meta", (), {"model": Contact, "fields": [field], "widgets": widgets})
    form_class = type("InlineContactForm", (forms.ModelForm,), {"Meta": meta})
    return form_class(*args, **kwargs)


# The company fields edited in place on its page (the rest: name, owner, address, through the form).
INLINE_COMPANY_FIELDS = (
    "lifecycle_stage",
    "industry",
    "size",
    "region",
    "source",
    "website",
    "email",
    "phone",
    "linkedin",
    "x_handle",
    "wechat",
    "city",
    "country",
    "description",
)


def inline_company_form(field: str, *args: Any, **kwargs: Any) -> forms.ModelForm:
    """A one-field form for inline editing; `field` must be in INLINE_COMPANY_FIELDS."""
    widgets = {k: v for k, v in CompanyForm.Meta.widgets.items() if k == field}
    meta = type("Meta", (), {"model": Company, "fields": [field], "widgets": widgets})
    form_class = type("InlineCompanyForm", (forms.ModelForm,), {"Meta": meta})
    return form_class(*args, **kwargs)


class BulkOwnerForm(forms.Form):
    """A bulk bar's "assign owner" options (`crm.bulk_actions`): the owners this user may
    assign (can_assign) for `model`; a forged id is a form error. The bar offers the same
    people (cached options, no query when warm). Leads subclass it with their model."""

    model: ClassVar[type[Model]] = Contact
    owner = OwnerChoiceField(
        label=_("New owner"),
        queryset=None,
        error_messages={"required": _("Choose the new owner.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast("OwnerChoiceField", self.fields["owner"])
        owner.queryset = access.assignable_owners(user, self.model)
        self.owner_options = access.assignable_owner_options(user, self.model)


class BulkTagsForm(forms.Form):
    """A bulk bar's "add tags" options: names, found or created by the action's service."""

    tags = TagNamesField(
        label=_("Tags to add"), error_messages={"required": _("Enter at least one tag.")}
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
