"""Shape checks for the email composer and the unmatched-mail actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.activities.mail.models import MailTemplate


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ComposeForm(forms.Form):
    to = forms.ChoiceField(label=_("To"))
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=MailTemplate.objects.none(), required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 10}))
    attachments = MultipleFileField(label=_("Attachments"), required=False)

    def __init__(self, *args: Any, addresses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to = self.fields["to"]
        assert isinstance(to, forms.ChoiceField)
        to.choices = [(a, a) for a in addresses]
        field = self.fields["template"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = MailTemplate.objects.filter(active=True)
        self.fields["body"].help_text = _(
            "Merge fields: {{ first_name }}, {{ last_name }}, {{ full_name }}, {{ company }}, "
            "{{ email }}, {{ sender_name }}."
        )


class AttachForm(forms.Form):
    contact = forms.IntegerField(label=_("Contact"), min_value=1)
