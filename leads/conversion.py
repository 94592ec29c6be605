"""Steps other apps add to a lead's conversion (issue 27), without leads importing them.

An app registers a step once (from its `AppConfig.ready()`): a form of its own fields, shown
on the lead's Convert card only to users for whom `available(actor)` is true, and `run`,
which `leads.services.lead_convert` calls inside its transaction once the contact (and
company) exist. A step that raises (a `DomainError` to show, or anything else) rolls the whole
conversion back. A step whose form is not filled in as "wanted" is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:
    from accounts.models import User
    from leads.models import Lead


class StepForm(forms.Form):
    """A step's fields. Built with the lead and actor (for initial values); `wanted()` says
    whether the user asked for the step (e.g. ticked its box)."""

    def __init__(self, *args: Any, lead: Lead, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lead, self.actor = lead, actor

    def wanted(self) -> bool:
        """Read from the raw data, so an invalid form still says whether it was wanted."""
        return True


Run = Callable[..., None]  # run(*, lead, contact, company, data, actor)


@dataclass(frozen=True)
class ConversionStep:
    name: str
    form_class: type[StepForm]
    run: Run
    available: Callable[[Any], bool]


_STEPS: dict[str, ConversionStep] = {}


def register_conversion_step(
    name: str,
    form_class: type[StepForm],
    run: Run,
    *,
    available: Callable[[Any], bool] = lambda actor: True,
) -> None:
    """Add (or replace, by name) a conversion step; its form's fields are prefixed `name-`."""
    _STEPS[name] = ConversionStep(name, form_class, run, available)


def steps_for(actor: Any) -> list[ConversionStep]:
    """The steps this user may be offered, in registration order."""
    return [step for step in _STEPS.values() if step.available(actor)]


def get_step(name: str) -> ConversionStep | None:
    return _STEPS.get(name)


def step_forms(actor: Any, lead: Lead, data: Any = None) -> list[tuple[ConversionStep, StepForm]]:
    """Each offered step with its form (bound to `data` when given)."""
    return [
        (step, step.form_class(data, lead=lead, actor=actor, prefix=step.name))
        for step in steps_for(actor)
    ]
