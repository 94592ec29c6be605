"""Every write to opportunities. Keyword-only, typed, one transaction each.

Each service checks that the actor may do it (`accounts.access`): a missing right is
`PermissionDenied`, a broken business rule a `DomainError` with a message to show. A stage move
locks the deal's row first, so two people moving one card at once are applied one after the
other: the last one wins, and the history reads as the chain of moves that really happened
(each change's `from_stage` is the previous change's `to_stage`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from crm.errors import DomainError
from crm.tags import resolve_names, tags_set
from sales.models import (
    QUALIFICATION_FIELDS,
    ContactRole,
    ForecastCategory,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    RequiredField,
    Stage,
    StageChange,
    StageKind,
    WinReason,
)

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.models import Company, Contact
    from leads.models import Lead

MAX_RATING_TOTAL = 3 * len(QUALIFICATION_FIELDS)


@dataclass
class OpportunityInput:
    """An opportunity as typed on a form or sent to the API (already shape-checked)."""

    name: str
    expected_close_date: dt.date
    pipeline: Pipeline | None = None  # None: the default pipeline
    stage: Stage | None = None  # None: the pipeline's first stage (creation only)
    company: Company | None = None
    contacts: Sequence[tuple[Contact, str]] = ()  # (contact, ContactRole)
    owner: User | None = None  # None: the actor
    amount: Decimal = Decimal("0.00")
    currency: str = "CNY"
    probability: int | None = None  # None: the stage's default
    next_step: str = ""
    source: str = ""
    source_lead: Lead | None = None  # the lead converted into this deal (creation only)
    forecast_category: str = ForecastCategory.PIPELINE
    ratings: dict[str, int] = field(default_factory=dict)  # QUALIFICATION_FIELDS -> 0..3
    # Tag names (crm.tags; new names are created if the actor may); None leaves them as they are.
    tag_names: Sequence[str] | None = None
    # A closed deal's reason, changed on its form (None leaves it); ignored for other kinds.
    won_reason: WinReason | None = None
    loss_reason: LossReason | None = None


def evaluation_score(ratings: dict[str, int]) -> int:
    """0-100 from the five qualification ratings (each 0-3), rounded half up."""
    total = sum(int(ratings.get(name, 0)) for name in QUALIFICATION_FIELDS)
    return (total * 200 + MAX_RATING_TOTAL) // (2 * MAX_RATING_TOTAL)


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        raise DomainError(_("Define a pipeline first."))
    return pipeline


def _missing_fields(opportunity: Opportunity, stage: Stage, *, contact_count: int) -> list[str]:
    values: dict[str, bool] = {
        RequiredField.AMOUNT: opportunity.amount > 0,
        RequiredField.COMPANY: opportunity.company_id is not None,
        RequiredField.NEXT_STEP: bool(opportunity.next_step.strip()),
        RequiredField.CONTACTS: contact_count > 0,
    }
    return [str(RequiredField(name).label) for name in stage.required_fields if not values[name]]


class MissingFields(DomainError):
    """A stage's required fields are not filled in; `fields` are their codes (RequiredField),
    so the board can ask for them."""

    def __init__(self, message: str, *, fields: list[str]) -> None:
        super().__init__(message, field=fields[0] if fields else None)
        self.fields = fields


def _check_required(opportunity: Opportunity, stage: Stage, *, contact_count: int) -> None:
    missing = _missing_fields(opportunity, stage, contact_count=contact_count)
    if missing:
        codes = [
            name for name in stage.required_fields if str(RequiredField(name).label) in missing
        ]
        raise MissingFields(
            _("A deal enters “%(stage)s” only with these filled in: %(fields)s.")
            % {"fields": ", ".join(missing).lower(), "stage": stage.name},
            fields=codes,
        )


# Required fields the board's dialog can fill in during a move.
FILLABLE = (
    RequiredField.AMOUNT,
    RequiredField.NEXT_STEP,
    RequiredField.COMPANY,
    RequiredField.CONTACTS,
)


def _check_amount_is_free(opportunity: Opportunity) -> None:
    """A deal with lines has their total as its amount (`sales.lines`): a typed amount would
    be set back by the next line change, so it is refused."""
    if OpportunityLine.objects.filter(opportunity_id=opportunity.pk).exists():
        raise DomainError(
            _("This deal's amount is the total of its products: change its lines instead."),
            field="amount",
        )


def _fill(opportunity: Opportunity, values: dict[str, Any], *, actor: User) -> list[str]:
    """Set the fields a move brings along (amount, next step, a company the actor may see);
    the names of those changed. Contacts are added by `_fill_contacts`."""
    changed = []
    amount = values.get(RequiredField.AMOUNT)
    if amount is not None:
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
            raise DomainError(_("The amount cannot be negative."), field="amount")
        if amount != opportunity.amount:
            _check_amount_is_free(opportunity)
        opportunity.amount = amount
        changed.append("amount")
    next_step = values.get(RequiredField.NEXT_STEP)
    if next_step is not None and str(next_step).strip():
        opportunity.next_step = str(next_step).strip()[:200]
        changed.append("next_step")
    company = values.get(RequiredField.COMPANY)
    if company is not None:
        if not access.can(actor, company, "view"):
            raise DomainError(
                _("No such record, or you do not have access to it."), field="company"
            )
        opportunity.company = company
        changed.append("company")
    return changed


def _fill_contacts(
    opportunity: Opportunity, contacts: Sequence[tuple[Contact, str]], *, actor: User
) -> None:
    """Give each contact (one the actor may see) its role in the deal, inside the move's
    transaction: a refused move keeps none of them."""
    for contact, role in contacts:
        if not access.can(actor, contact, "view"):
            raise DomainError(
                _("No such record, or you do not have access to it."), field="contacts"
            )
        if role not in ContactRole.values:
            raise DomainError(_("Choose each contact's role."), field="contacts")
        row, created = OpportunityContact.objects.get_or_create(
            opportunity=opportunity, contact=contact, defaults={"role": role}
        )
        if not created and row.role != role:
            row.role = role
            row.save(update_fields=["role"])


def _check_input(data: OpportunityInput, actor: User) -> None:
    if not data.name.strip():
        raise DomainError(_("Give the deal a name."), field="name")
    if data.amount < 0:
        raise DomainError(_("The amount cannot be negative."), field="amount")
    if data.probability is not None and not 0 <= data.probability <= 100:
        raise DomainError(_("The probability must be between 0 and 100."), field="probability")
    if data.forecast_category not in ForecastCategory.values:
        raise DomainError(_("Choose a forecast category."), field="forecast_category")
    for name, value in data.ratings.items():
        if name not in QUALIFICATION_FIELDS or not 0 <= int(value) <= 3:
            raise DomainError(_("Rate each criterion from 0 to 3."), field=name)
    if data.company is not None and not access.can(actor, data.company, "view"):
        raise DomainError(_("No such record, or you do not have access to it."), field="company")
    for contact, role in data.contacts:
        if not access.can(actor, contact, "view"):
            raise DomainError(
                _("No such record, or you do not have access to it."), field="contacts"
            )
        if role not in ContactRole.values:
            raise DomainError(_("Choose each contact's role."), field="contacts")
    if data.owner is not None and not access.can_assign(actor, Opportunity, data.owner):
        raise DomainError(_("You may not give this deal to that person."), field="owner")


def _set_contacts(opportunity: Opportunity, contacts: Sequence[tuple[Contact, str]]) -> None:
    wanted = {contact.pk: role for contact, role in contacts}
    OpportunityContact.objects.filter(opportunity=opportunity).exclude(
        contact_id__in=wanted
    ).delete()
    existing = {
        row.contact_id: row for row in OpportunityContact.objects.filter(opportunity=opportunity)
    }
    for contact_id, role in wanted.items():
        row = existing.get(contact_id)
        if row is None:
            OpportunityContact.objects.create(
                opportunity=opportunity, contact_id=contact_id, role=role
            )
        elif row.role != role:
            row.role = role
            row.save(update_fields=["role"])


def _record_change(
    opportunity: Opportunity, *, from_stage_id: int | None, at: dt.datetime, actor: User
) -> StageChange:
    """The move into the deal's current stage, with its amount, currency and probability as
    they are now (what the statistical forecast values this stay at)."""
    return StageChange.objects.create(
        opportunity=opportunity,
        from_stage_id=from_stage_id,
        to_stage_id=opportunity.stage_id,
        at=at,
        by=actor,
        amount=opportunity.amount,
        currency=opportunity.currency,
        probability=opportunity.probability,
    )


def _set_tags(opportunity: Opportunity, names: Sequence[str] | None, actor: User) -> None:
    """Inside the caller's transaction, after its permission check."""
    if names is not None:
        ids = resolve_names(names=names, actor=actor)
        tags_set(obj=opportunity, tags=ids, actor=actor, check=False)


def opportunity_create(*, data: OpportunityInput, actor: User) -> Opportunity:
    """Create a deal in its pipeline's first stage (or the stage given, whose required fields
    must then be met) and record its first StageChange. Atomic; needs the add permission."""
    access.require_model_perm(actor, Opportunity, "add")
    _check_input(data, actor)
    pipeline = data.pipeline or default_pipeline()
    stage = data.stage or pipeline.stages.order_by("position").first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        raise DomainError(_("Choose a stage of this pipeline."), field="stage")
    now = timezone.now()
    owner = data.owner or actor
    opportunity = Opportunity(
        name=data.name.strip(),
        company=data.company,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        team_id=owner.team_id,
        amount=data.amount,
        currency=data.currency,
        expected_close_date=data.expected_close_date,
        probability=stage.probability if data.probability is None else data.probability,
        next_step=data.next_step,
        source=data.source,
        source_lead=data.source_lead,
        forecast_category=data.forecast_category,
        stage_entered_at=now,
        **{name: int(data.ratings.get(name, 0)) for name in QUALIFICATION_FIELDS},
        score=evaluation_score(data.ratings),
    )
    _check_required(opportunity, stage, contact_count=len(data.contacts))
    _apply_closing(
        opportunity, stage, loss_reason=data.loss_reason, won_reason=data.won_reason, now=now
    )
    with transaction.atomic(), set_actor(actor):
        opportunity.full_clean(exclude=["owner", "team", "stage_entered_at"])
        opportunity.save()
        _set_contacts(opportunity, data.contacts)
        _record_change(opportunity, from_stage_id=None, at=now, actor=actor)
        _set_tags(opportunity, data.tag_names, actor)
    return opportunity


def _set_reason(opportunity: Opportunity, stage: Stage, data: OpportunityInput) -> None:
    """A won deal's won reason, a lost deal's loss reason, as corrected on its form."""
    if stage.kind == StageKind.WON and data.won_reason is not None:
        if not data.won_reason.active:
            raise DomainError(_("Choose why the deal was won."), field="won_reason")
        opportunity.won_reason = data.won_reason
    if stage.kind == StageKind.LOST and data.loss_reason is not None:
        if not data.loss_reason.active:
            raise DomainError(_("Choose why the deal was lost."), field="loss_reason")
        opportunity.loss_reason = data.loss_reason


def opportunity_update(
    *, opportunity: Opportunity, data: OpportunityInput, actor: User
) -> Opportunity:
    """Change a deal's fields (not its stage: `opportunity_move_stage`). The current stage's
    required fields must stay met; a closed deal's won or loss reason may be corrected. Atomic;
    the row is locked while it is changed."""
    access.require(actor, opportunity, "change")
    _check_input(data, actor)
    with transaction.atomic(), set_actor(actor):
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        stage = Stage.objects.get(pk=locked.stage_id)
        if data.amount != locked.amount:
            _check_amount_is_free(locked)
        locked.name = data.name.strip()
        locked.company = data.company
        locked.amount = data.amount
        locked.currency = data.currency
        locked.expected_close_date = data.expected_close_date
        if data.probability is not None:
            locked.probability = data.probability
        locked.next_step = data.next_step
        locked.source = data.source
        locked.forecast_category = data.forecast_category
        for name in QUALIFICATION_FIELDS:
            setattr(locked, name, int(data.ratings.get(name, 0)))
        locked.score = evaluation_score(data.ratings)
        if data.owner is not None and data.owner.pk != locked.owner_id:
            locked.owner, locked.team_id = data.owner, data.owner.team_id
        _set_reason(locked, stage, data)
        _check_required(locked, stage, contact_count=len(data.contacts))
        locked.full_clean(exclude=["owner", "team", "stage_entered_at"])
        locked.save()
        _set_contacts(locked, data.contacts)
        _set_tags(locked, data.tag_names, actor)
    return locked


def _apply_closing(
    opportunity: Opportunity,
    stage: Stage,
    *,
    loss_reason: LossReason | None,
    now: dt.datetime,
    won_reason: WinReason | None = None,
) -> None:
    """Won and lost stages close the deal with their reason; an open stage (re)opens it. Lost
    always needs a reason; won needs one while any won reason is active (none defined: wins
    are not asked why)."""
    if stage.kind == StageKind.OPEN:
        opportunity.closed_at = None
        opportunity.loss_reason = None
        opportunity.loss_note = ""
        opportunity.won_reason = None
        if opportunity.forecast_category == ForecastCategory.CLOSED:
            opportunity.forecast_category = ForecastCategory.PIPELINE
        return
    opportunity.closed_at = now
    opportunity.forecast_category = ForecastCategory.CLOSED
    opportunity.loss_reason = loss_reason if stage.kind == StageKind.LOST else None
    opportunity.won_reason = won_reason if stage.kind == StageKind.WON else None
    if stage.kind == StageKind.LOST and loss_reason is None:
        raise DomainError(_("Choose why the deal was lost."), field="loss_reason")
    if (
        stage.kind == StageKind.WON
        and won_reason is None
        and WinReason.objects.filter(active=True).exists()
    ):
        raise DomainError(_("Choose why the deal was won."), field="won_reason")


def opportunity_move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    actor: User,
    loss_reason: LossReason | None = None,
    loss_note: str = "",
    fill: dict[str, Any] | None = None,
    won_reason: WinReason | None = None,
) -> Opportunity:
    """Move a deal to `stage` of its pipeline and record the move (who, when, from where).

    Atomic. The row is locked (SELECT ... FOR UPDATE) and re-read, so concurrent moves of one
    deal queue up: each sees the stage the previous one left, the last one wins, and the history
    stays a chain. Required fields are checked against the locked row: a refused move changes
    nothing and says why. The probability becomes the new stage's default. Won and lost close
    the deal (lost needs a reason, won one while won reasons are defined); moving a closed deal
    to an open stage reopens it. Moving to the stage it is in changes nothing. `fill` (amount,
    next step, company, contacts as (contact, role) pairs: `FILLABLE`; the company and contacts
    ones the actor may see) is written in the same transaction before the rules are checked, so
    the board can ask for what a stage needs and move in one step; a refused move writes none
    of it."""
    access.require(actor, opportunity, "change")
    if loss_reason is not None and not loss_reason.active:
        raise DomainError(_("Choose why the deal was lost."), field="loss_reason")
    if won_reason is not None and not won_reason.active:
        raise DomainError(_("Choose why the deal was won."), field="won_reason")
    with transaction.atomic(), set_actor(actor):
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if locked.archived_at is not None:
            raise DomainError(_("This deal is archived. Restore it first."))
        if stage.pipeline_id != locked.pipeline_id:
            raise DomainError(_("Choose a stage of this deal's pipeline."), field="stage")
        if stage.pk == locked.stage_id:
            return locked
        filled = _fill(locked, fill or {}, actor=actor)
        _fill_contacts(locked, (fill or {}).get(RequiredField.CONTACTS, ()), actor=actor)
        contact_count = OpportunityContact.objects.filter(opportunity=locked).count()
        _check_required(locked, stage, contact_count=contact_count)
        now = timezone.now()
        from_stage_id = locked.stage_id
        _apply_closing(locked, stage, loss_reason=loss_reason, won_reason=won_reason, now=now)
        locked.loss_note = loss_note.strip() if stage.kind == StageKind.LOST else ""
        locked.stage = stage
        locked.probability = stage.probability
        locked.stage_entered_at = now
        locked.save(
            update_fields=[
                "stage",
                "probability",
                "stage_entered_at",
                "closed_at",
                "loss_reason",
                "loss_note",
                "won_reason",
                "forecast_category",
                "updated_at",
                *filled,
            ]
        )
        _record_change(locked, from_stage_id=from_stage_id, at=now, actor=actor)
    return locked


def opportunity_archive(*, opportunity: Opportunity, actor: User) -> Opportunity:
    """Take a deal off the board and lists (kept, with its history). Atomic, idempotent."""
    access.require(actor, opportunity, "change")
    with transaction.atomic(), set_actor(actor):
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if locked.archived_at is None:
            locked.archived_at = timezone.now()
            locked.save(update_fields=["archived_at", "updated_at"])
    return locked


def opportunity_contact_add(
    *, opportunity: Opportunity, contact: Contact, role: str, actor: User
) -> OpportunityContact:
    """Give `contact` a role in the deal (a contact already there gets the new role). The actor
    must be able to change the deal and see the contact. Atomic; the deal's row is locked."""
    access.require(actor, opportunity, "change")
    if not access.can(actor, contact, "view"):
        raise DomainError(_("No such record, or you do not have access to it."), field="contact")
    if role not in ContactRole.values:
        raise DomainError(_("Choose each contact's role."), field="role")
    with transaction.atomic(), set_actor(actor):
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        row, created = OpportunityContact.objects.get_or_create(
            opportunity=locked, contact=contact, defaults={"role": role}
        )
        if not created and row.role != role:
            row.role = role
            row.save(update_fields=["role"])
    return row


def opportunity_contact_remove(
    *, opportunity: Opportunity, contact_role: OpportunityContact, actor: User
) -> None:
    """Take a contact off the deal, unless the deal's stage needs contacts and it is the last
    one. Atomic; the deal's row is locked (a concurrent move sees the result)."""
    access.require(actor, opportunity, "change")
    if contact_role.opportunity_id != opportunity.pk:
        raise DomainError(_("No such record, or you do not have access to it."))
    with transaction.atomic(), set_actor(actor):
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        stage = Stage.objects.get(pk=locked.stage_id)
        others = OpportunityContact.objects.filter(opportunity=locked).exclude(pk=contact_role.pk)
        if RequiredField.CONTACTS in stage.required_fields and not others.exists():
            raise DomainError(
                _("A deal in “%(stage)s” needs at least one contact.") % {"stage": stage.name}
            )
        OpportunityContact.objects.filter(pk=contact_role.pk).delete()
