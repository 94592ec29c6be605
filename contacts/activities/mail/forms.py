"""Shape checks for the email composer and the unmatched-mail actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.activities.mail.models import MailTemplate, SmtpSecurity


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
    formatted = forms.BooleanField(
        label=_("Also send as formatted HTML"),
        required=False,
        initial=True,
        help_text=_("Paragraphs and links in HTML, with the plain text as the alternative."),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

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


class MailboxForm(forms.Form):
    address = forms.EmailField(label=_("Email address"))
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993)
    imap_ssl = forms.BooleanField(label=_("IMAP over SSL/TLS"), required=False, initial=True)
    imap_user = forms.CharField(label=_("IMAP user name"), max_length=255)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the saved one."),
    )
    sent_folder = forms.CharField(
        label=_("Sent mail folder"), max_length=100, required=False, initial="Sent"
    )
    smtp_host = forms.CharField(
        label=_("SMTP server"),
        max_length=255,
        required=False,
        help_text=_("Optional: email you write in the CRM is then sent from your own account."),
    )
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535, initial=587)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=SmtpSecurity.choices)
    smtp_user = forms.CharField(label=_("SMTP user name"), max_length=255, required=False)
    smtp_password = forms.CharField(
        label=_("SMTP password"), required=False, widget=forms.PasswordInput(render_value=False)
    )

    def clean_imap_host(self) -> str:
        return _host(self.cleaned_data["imap_host"])

    def clean_smtp_host(self) -> str:
        value = self.cleaned_data.get("smtp_host", "")
        return _host(value) if value else ""


class MailboxTrackingForm(forms.Form):
    track_opens = forms.BooleanField(
        label=_("Track when my emails are opened"),
        required=False,
        help_text=_("Adds an invisible image to the HTML email."),
    )
    track_clicks = forms.BooleanField(
        label=_("Track clicks on links in my emails"),
        required=False,
        help_text=_("Links go through the CRM before reaching their address."),
    )


def _host(value: str) -> str:
    value = value.strip()
    if not value or any(c.isspace() or c in "/@:?#" for c in value):
        raise forms.ValidationError(_("Give a host name, like imap.example.com."))
    return value
