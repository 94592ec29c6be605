"""Email addresses as people have them: non-ASCII local parts (`zoë@example.com`, RFC 6531).

Django's EmailValidator accepts non-ASCII domains but only ASCII before the @. Mail servers with
SMTPUTF8 deliver to such addresses, and contacts from other CRMs have them, so the contact form,
the API and imports all check addresses with this validator instead.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import EmailValidator
from django.utils.regex_helper import _lazy_re_compile

# RFC 6531 atext: RFC 5322's ASCII atext plus any non-ASCII character except spaces and
# controls (U+0080-U+00A0 are C1 controls and the no-break space).
_ATEXT = (
    r"[-!#$%&'*+/=?^_`{|}~0-9A-Z"
    r"\u00a1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff"
    r"\u3001-\U0010ffff]"
)


class UnicodeEmailValidator(EmailValidator):
    user_regex = _lazy_re_compile(
        rf"(^{_ATEXT}+(\.{_ATEXT}+)*\Z"
        # quoted-string, as Django's
        r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])'
        r'*"\Z)',
        re.IGNORECASE,
    )


validate_email_address = UnicodeEmailValidator()


class EmailAddressField(forms.EmailField):
    """A form field for an email address that may have a non-ASCII local part. Its input is a
    text box (with the email keyboard): browsers refuse such addresses in type="email"."""

    default_validators = [validate_email_address]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "email", "autocomplete": "email"})
        )
        super().__init__(**kwargs)
