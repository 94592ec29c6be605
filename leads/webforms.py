"""Web-to-lead forms: the submission form built from a `LeadForm`, and the spam checks.

- The form asks for the fields the admin chose (labels in the visitor's language, English or
  Chinese), plus consent when the form has consent wording, a honeypot field people do not see
  and a signed token (`issue_token`) that carries when the form was shown and a submission id.
- `check_token`: a submission sooner than `LEADS_FORM_MIN_SECONDS` (3) after the form was shown
  is too fast for a person; a token older than a day is stale. The submission id becomes the
  lead's `capture_key`, so a retried post of one filled-in form makes one lead.
- `over_rate_limit`: per IP address, `LEADS_FORM_RATE_LIMIT` (20) posts a minute, counted in the
  cache; a cache that is down lets everything through (fail-open) rather than lose leads.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from auditlog.context import set_actor
from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from leads.models import FormFieldName, Lead, LeadForm, LeadSource
from leads.services import LeadInput

if TYPE_CHECKING:
    from accounts.models import User

HONEYPOT = "nickname"
TOKEN = "form_token"  # noqa: S105 - a field name
TOKEN_SALT = "leads.webform"  # noqa: S105 - a signing namespace, not a secret
TOKEN_MAX_AGE = 24 * 3600
MAX_BODY = 32 * 1024
MAX_NOTES = 4000
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def min_seconds() -> float:
    return float(getattr(settings, "LEADS_FORM_MIN_SECONDS", 3))


def rate_limit() -> int:
    return int(getattr(settings, "LEADS_FORM_RATE_LIMIT", 20))


def chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def localised(english: str, chinese_text: str) -> str:
    return chinese_text if chinese() and chinese_text else english


def title(form: LeadForm) -> str:
    return localised(form.title, form.title_zh) or form.name


def consent_text(form: LeadForm) -> str:
    return localised(form.consent_text, form.consent_text_zh)


def thank_you(form: LeadForm) -> str:
    return localised(form.thank_you, form.thank_you_zh) or _("Thank you. We will be in touch.")


# --- the token ---------------------------------------------------------------------------------


def issue_token(form: LeadForm) -> str:
    return signing.dumps(
        {"f": form.pk, "n": secrets.token_urlsafe(12), "t": time.time()}, salt=TOKEN_SALT
    )


def check_token(form: LeadForm, token: str) -> tuple[str | None, str]:
    """(submission id, "") for a good token, or (None, the message to show)."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None, _("This form has expired. Reload the page and send it again.")
    if not isinstance(data, dict) or data.get("f") != form.pk:
        return None, _("This form has expired. Reload the page and send it again.")
    if time.time() - float(data.get("t", 0)) < min_seconds():
        return None, _(
            "That was quicker than a person can type. Please wait a moment and send it again."
        )
    return str(data.get("n", ""))[:40], ""


# --- rate limit --------------------------------------------------------------------------------


def over_rate_limit(ip: str) -> bool:
    """True when `ip` posted more than the limit in the current minute. Fail-open: when the
    cache cannot count (Redis down), nobody is refused."""
    key = f"leads:form-rate:{ip}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, timeout=70):
            return False
        count = cache.incr(key)
    except Exception:  # the cache is down (or the key expired in between): let it through
        return False
    return int(count) > rate_limit()


# --- the form ----------------------------------------------------------------------------------


def _field(name: str, required: bool) -> forms.Field:
    model_field = cast("models.Field[Any, Any]", Lead._meta.get_field(name))
    if name == "notes":
        return forms.CharField(
            required=required, max_length=MAX_NOTES, widget=forms.Textarea(attrs={"rows": 4})
        )
    field = model_field.formfield(required=required)
    assert field is not None
    return field


class SubmissionForm(forms.Form):
    """What a visitor fills in; built from the admin's fields."""

    def __init__(self, *args: Any, lead_form: LeadForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead_form = lead_form
        self.specs = list(lead_form.fields.all())
        for spec in self.specs:
            field = _field(spec.field, spec.required)
            field.label = localised(spec.label, spec.label_zh) or FormFieldName(spec.field).label
            self.fields[spec.field] = field
        if lead_form.consent_text:
            self.fields["consent"] = forms.BooleanField(
                label=consent_text(lead_form),
                required=True,
                error_messages={"required": gettext_lazy("Please agree to continue.")},
            )
        self.fields[TOKEN] = forms.CharField(widget=forms.HiddenInput, required=False)
        self.fields[HONEYPOT] = forms.CharField(
            required=False,
            label=gettext_lazy("Leave this empty"),
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )
        for name in UTM:
            self.fields[name] = forms.CharField(
                required=False, max_length=100, widget=forms.HiddenInput
            )

    def visible_fields_only(self) -> list[forms.BoundField]:
        hidden = {TOKEN, HONEYPOT, *UTM}
        return [self[name] for name in self.fields if name not in hidden]

    def is_spam(self) -> bool:
        return bool(str(self.data.get(HONEYPOT, "") or "").strip())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reach = ("given_name", "family_name", "email", "phone")
        if not any(str(self.data.get(k, "") or "").strip() for k in reach):
            asked = [k for k in ("email", "phone", "given_name") if k in self.fields]
            if asked:
                self.add_error(asked[0], _("Please give us a way to reach you."))
        submission, message = check_token(self.lead_form, str(cleaned.get(TOKEN) or ""))
        if submission is None:
            raise forms.ValidationError(message, code="token")
        cleaned["submission"] = submission
        return cleaned

    def lead_input(self, *, ip: str, page: str) -> LeadInput:
        data = self.cleaned_data
        names = {spec.field for spec in self.specs}
        values: dict[str, Any] = {name: data.get(name) or "" for name in names}
        values.update({name: data.get(name) or "" for name in UTM})
        values["source"] = LeadSource.WEB_FORM
        values["source_detail"] = self.lead_form.name[:200]
        if "consent" in self.fields:
            values["consent_text"] = str(self.fields["consent"].label)
            values["consent_at"] = timezone.now()
            where = ip if not page else f"{ip} {urlsplit(page).netloc}"
            values["consent_from"] = where[:200]
        return LeadInput(
            values=values,
            owner=self.lead_form.owner,
            capture_key=f"form:{self.lead_form.pk}:{data['submission']}",
            web_form=self.lead_form,
            assign=self.lead_form.use_assignment_rules,
        )

    def describe(self) -> list[dict[str, Any]]:
        """The fields as JSON for the embed script."""
        out = []
        for bound in self.visible_fields_only():
            field = bound.field
            kind = "checkbox" if isinstance(field, forms.BooleanField) else "text"
            if isinstance(field.widget, forms.Textarea):
                kind = "textarea"
            elif isinstance(field, forms.EmailField):
                kind = "email"
            elif isinstance(field, forms.URLField):
                kind = "url"
            elif bound.name == "phone":
                kind = "tel"
            item: dict[str, Any] = {
                "name": bound.name,
                "label": str(field.label),
                "required": field.required,
                "type": kind,
                "max_length": getattr(field, "max_length", None),
            }
            if isinstance(field, forms.ChoiceField):
                item["type"] = "select"
                choices = cast("list[tuple[Any, Any]]", field.choices)
                item["choices"] = [[str(v), str(label)] for v, label in choices]
            out.append(item)
        return out


# --- saving a form (staff page) -------------------------------------------------------------


def lead_form_save(*, form: Any, fields: Any, actor: User) -> LeadForm:
    """Save a web form's settings and its fields together (shape already checked). Atomic;
    needs the add or change permission on web forms."""
    instance = form.instance
    access.require_model_perm(actor, LeadForm, "change" if instance.pk else "add")
    with transaction.atomic(), set_actor(actor):
        saved = form.save()
        fields.instance = saved
        fields.save()
    return saved
