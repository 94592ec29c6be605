"""Pipelines and their stages, opportunities (deals) and every stage change they went through.

An opportunity is owned (`OwnedModel`: owner and team), so `accounts.access` scopes it like a
contact. Its stage history (`StageChange`) is scoped through the opportunity (ACCESS_PARENT):
time in stage, conversion and velocity are read from it, never estimated.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import OwnedModel
from contacts.models import Company, Contact
from crm.links import record_url
from crm.models import TimeStampedModel
from crm.tags import TagIdsField, tag_index

ACTIVE = Q(archived_at__isnull=True)
DEFAULT_CURRENCY = "CNY"


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class RequiredField(models.TextChoices):
    """Fields a stage may require before a deal enters it."""

    AMOUNT = "amount", _("Amount")
    COMPANY = "company", _("Company")
    NEXT_STEP = "next_step", _("Next step")
    CONTACTS = "contacts", _("Contacts")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")


class DealSource(models.TextChoices):
    LEAD = "lead", _("Lead")
    CAMPAIGN = "campaign", _("Campaign")
    REFERRAL = "referral", _("Referral")
    EXISTING_CUSTOMER = "existing_customer", _("Existing customer")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class Rating(models.IntegerChoices):
    """How well one qualification criterion is met."""

    UNKNOWN = 0, _("Unknown")
    WEAK = 1, _("Weak")
    FAIR = 2, _("Fair")
    STRONG = 3, _("Strong")


QUALIFICATION_FIELDS = ("need", "budget", "decision_maker", "timeline", "purchase_intent")


class Pipeline(TimeStampedModel):
    """A sales process: ordered stages, one of which deals start in."""

    name = models.CharField(_("name"), max_length=80)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="sales_pipeline_name_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="sales_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Stage(TimeStampedModel):
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(
        _("default probability (%)"), validators=[MaxValueValidator(100)]
    )
    kind = models.CharField(
        _("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN
    )
    required_fields = ArrayField(
        models.CharField(max_length=20, choices=RequiredField.choices),
        verbose_name=_("required fields"),
        default=list,
        blank=True,
    )
    # A deal that stays longer than this in the stage is shown as stalled.
    stall_days = models.PositiveSmallIntegerField(_("stalled after (days)"), default=30)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "position"], name="sales_stage_position_unique"
            ),
            models.UniqueConstraint(fields=["pipeline", "name"], name="sales_stage_name_unique"),
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="sales_stage_probability_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class Reason(TimeStampedModel):
    """An entry of an administrator's list of reasons (why deals are lost, or won)."""

    name = models.CharField(_("name"), max_length=80)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LossReason(Reason):
    class Meta(Reason.Meta):
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="sales_loss_reason_name_unique")
        ]


class WinReason(Reason):
    """Why deals are won: asked when a deal enters a won stage while any reason is active."""

    class Meta(Reason.Meta):
        verbose_name = _("won reason")
        verbose_name_plural = _("won reasons")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="sales_win_reason_name_unique")
        ]


currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter currency code (CNY)."))


class Opportunity(OwnedModel):
    """A deal in a pipeline's stage. Written only through `sales.services`."""

    name = models.CharField(_("name"), max_length=200)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    contacts: models.ManyToManyField[Contact, OpportunityContact] = models.ManyToManyField(
        Contact,
        through="OpportunityContact",
        verbose_name=_("contacts"),
        related_name="opportunities",
        blank=True,
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    # Zero means "no amount yet" (a stage may require one).
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=DEFAULT_CURRENCY, validators=[currency_validator]
    )
    expected_close_date = models.DateField(_("expected close date"))
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MaxValueValidator(100)]
    )
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=DealSource.choices, blank=True)
    # The lead this deal came from (set by the lead conversion step, sales.registrations).
    source_lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("source lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=12,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    need = models.PositiveSmallIntegerField(_("need"), choices=Rating.choices, default=0)
    budget = models.PositiveSmallIntegerField(_("budget"), choices=Rating.choices, default=0)
    decision_maker = models.PositiveSmallIntegerField(
        _("decision maker"), choices=Rating.choices, default=0
    )
    timeline = models.PositiveSmallIntegerField(_("timeline"), choices=Rating.choices, default=0)
    purchase_intent = models.PositiveSmallIntegerField(
        _("purchase intent"), choices=Rating.choices, default=0
    )
    # 0-100 from the five ratings; stored (set by the services) so lists sort by it.
    score = models.PositiveSmallIntegerField(_("evaluation score"), default=0, editable=False)
    stage_entered_at = models.DateTimeField(_("in stage since"), editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    loss_note = models.CharField(_("loss note"), max_length=300, blank=True)
    won_reason = models.ForeignKey(
        WinReason,
        verbose_name=_("won reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)
    # The deal's tags (crm.tags): written by crm.tags.tags_set, GIN-indexed with the stage.
    tag_ids = TagIdsField()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        permissions = [("export_opportunity", _("Can export opportunities"))]
        indexes = [
            # The board: a pipeline's cards per stage in card order, for everyone, an owner and a
            # team (the scopes' filters lead).
            models.Index(
                fields=["pipeline", "stage", "stage_entered_at", "id"],
                condition=ACTIVE,
                name="opp_board",
            ),
            models.Index(
                fields=["owner", "pipeline", "stage", "stage_entered_at", "id"],
                condition=ACTIVE,
                name="opp_owner_board",
            ),
            models.Index(
                fields=["team", "pipeline", "stage", "stage_entered_at", "id"],
                condition=ACTIVE,
                name="opp_team_board",
            ),
            # The list's sorts, each ending in id.
            models.Index(
                fields=["expected_close_date", "id"], condition=ACTIVE, name="opp_close_date"
            ),
            models.Index(fields=["amount", "id"], condition=ACTIVE, name="opp_amount"),
            models.Index(fields=["name", "id"], condition=ACTIVE, name="opp_name"),
            models.Index(fields=["score", "id"], condition=ACTIVE, name="opp_score"),
            models.Index(
                fields=["owner", "expected_close_date", "id"],
                condition=ACTIVE,
                name="opp_owner_close",
            ),
            models.Index(
                fields=["team", "expected_close_date", "id"],
                condition=ACTIVE,
                name="opp_team_close",
            ),
            # Closed deals by date; what the forecast sums of them is included, so a period's
            # won amounts are read from the index alone (4,112 -> 101 blocks for a team's
            # quarter at 300,000 deals).
            models.Index(
                fields=["closed_at", "id"],
                include=["stage", "team", "owner", "currency", "amount", "archived_at"],
                name="opp_closed_cover",
            ),
            # icontains compares UPPER(name): the trigram index is on that expression, with the
            # scope columns (btree_gin), so a rep's search is one index scan per scope arm that
            # hands back only their own and their team's matches (contacts.scope_led).
            GinIndex(
                OpClass(Upper("name"), name="gin_trgm_ops"),
                OpClass(F("team"), name="int8_ops"),
                OpClass(F("owner"), name="int8_ops"),
                name="opp_name_trgm_scope",
            ),
            # A list's matches (up to the count cap, in any order) are read from this index
            # alone, scope and sort keys included, instead of the table (see crm.pagination).
            models.Index(
                fields=["id"],
                include=["owner", "team", "pipeline", "stage", "expected_close_date", "amount"],
                condition=ACTIVE,
                name="opp_active_cover",
            ),
            # "Deals in this stage tagged X" (and any tag alone) is one index lookup.
            tag_index(name="opp_active_tags", column="stage", condition=ACTIVE),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opp_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opp_probability_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return record_url("sales:opportunity-detail", self.pk)

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class OpportunityContact(models.Model):
    """A contact's role in a deal."""

    ACCESS_PARENT: ClassVar[str] = "opportunity"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="contact_roles", db_index=False
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(
        _("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.INFLUENCER
    )

    class Meta:
        verbose_name = _("opportunity contact")
        verbose_name_plural = _("opportunity contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"], name="sales_opp_contact_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class Product(TimeStampedModel):
    """An item of the price list that deals (and later quotes and invoices) are made of.
    Administrators keep the list; a line copies the price, so a later change of the list does
    not rewrite a deal."""

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=DEFAULT_CURRENCY, validators=[currency_validator]
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=~Q(sku=""), name="sales_product_sku_unique"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="sales_product_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})" if self.sku else self.name


class OpportunityLine(models.Model):
    """A product (or a line typed by hand) on a deal: quantity, unit price, discount. When a
    deal has lines, its amount is their total (`sales.lines`), so quotes and invoices can be
    made of the same lines later."""

    ACCESS_PARENT: ClassVar[str] = "opportunity"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    discount = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("100.00"))],
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        indexes = [models.Index(fields=["opportunity", "position", "id"], name="opp_line_order")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="opp_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="opp_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=100), name="opp_line_discount_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"

    @property
    def total(self) -> Decimal:
        """Quantity x unit price less the discount, to the cent (half up)."""
        gross = self.quantity * self.unit_price
        net = gross * (Decimal(100) - self.discount) / Decimal(100)
        return net.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class StageChange(models.Model):
    """One move of a deal between stages (from_stage is None for the stage it was created in),
    with the deal's amount, currency and probability as they were at that moment, so the
    statistical forecast and its backtest value each past stay at what was known then (rows
    written before these columns existed have no amount: the deal's current one is used)."""

    ACCESS_PARENT: ClassVar[str] = "opportunity"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    probability = models.PositiveSmallIntegerField(_("probability (%)"), null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            # A deal's history in order; with the stage, so the analytics read stays from the
            # index alone.
            models.Index(
                fields=["opportunity", "at", "id"],
                include=["to_stage"],
                name="stagechange_opp_at_to",
            ),
            # Conversion per stage over a period: the period's changes with their deal and id
            # (the order of a deal's changes), read from the index alone
            # (sales.analytics.stage_metrics).
            models.Index(
                fields=["to_stage", "at"],
                include=["opportunity", "id"],
                name="stagechange_to_at_opp_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class OpportunityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Opportunity, on_delete=models.CASCADE)


class OpportunityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Opportunity, on_delete=models.CASCADE)


class Quota(TimeStampedModel):
    """A sales target for one month: a rep's (user) or a team's, never both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=DEFAULT_CURRENCY, validators=[currency_validator]
    )

    class Meta:
        ordering = ["-month", "id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, team__isnull=False)
                | Q(user__isnull=False, team__isnull=True),
                name="sales_quota_user_or_team",
            ),
            models.UniqueConstraint(
                fields=["user", "month"], condition=Q(user__isnull=False), name="quota_user_month"
            ),
            models.UniqueConstraint(
                fields=["team", "month"], condition=Q(team__isnull=False), name="quota_team_month"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="sales_quota_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} {self.month:%Y-%m}"


class ExchangeRate(TimeStampedModel):
    """One unit of `currency` is worth `rate` units of `to_currency` from `date` on (until a
    later rate). Loaded from a CSV (`manage.py load_exchange_rates`) or typed in the admin; the
    app never fetches rates from the internet."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    to_currency = models.CharField(_("to currency"), max_length=3, validators=[currency_validator])
    date = models.DateField(_("date"))
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
    )

    class Meta:
        ordering = ["currency", "to_currency", "-date"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "to_currency", "date"], name="sales_rate_unique"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="sales_rate_positive"),
            models.CheckConstraint(
                condition=~Q(currency=models.F("to_currency")), name="sales_rate_two_currencies"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {self.to_currency} ({self.date:%Y-%m-%d})"


class ForecastRunStatus(models.TextChoices):
    DONE = "done", _("Done")
    SHORT = "short", _("History too short")
    FAILED = "failed", _("Failed")


class ForecastRun(models.Model):
    """One computation of the statistical forecast (`sales.forecasting`): the forecast of the
    months from `as_of` on, and the backtest of the months before, for the company (lines with
    no team) and each team. Written by the Celery task `sales.tasks.forecast_compute`."""

    as_of = models.DateField(_("as of"), help_text=_("The first day of the first month forecast."))
    created_at = models.DateTimeField(_("computed"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=8, choices=ForecastRunStatus.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    # What the method used (lookback, horizon, minimum history...), for the record.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("forecast run")
        verbose_name_plural = _("forecast runs")
        permissions = [("run_forecastrun", _("Can recompute the statistical forecast"))]
        indexes = [models.Index(fields=["-created_at", "-id"], name="forecastrun_latest")]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m} ({self.get_status_display()})"


class ForecastLineKind(models.TextChoices):
    FORECAST = "forecast", _("Forecast")
    BACKTEST = "backtest", _("Backtest")


class ForecastLine(models.Model):
    """One month of a run for the company (team None) or a team: the statistical forecast (the
    open pipeline valued by historical win rates by stage and age, plus the run-rate of new
    business), the naive baseline, and for backtest months what was actually won."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="lines")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=ForecastLineKind.choices)
    month = models.DateField(_("month"))
    expected = models.DecimalField(_("forecast"), max_digits=18, decimal_places=2)
    from_pipeline = models.DecimalField(
        _("from the open pipeline"), max_digits=18, decimal_places=2
    )
    new_business = models.DecimalField(_("new business"), max_digits=18, decimal_places=2)
    baseline = models.DecimalField(_("naive baseline"), max_digits=18, decimal_places=2)
    actual = models.DecimalField(
        _("actual"), max_digits=18, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["run", "team", "kind", "month"]
        verbose_name = _("forecast line")
        verbose_name_plural = _("forecast lines")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "team", "kind", "month"],
                name="sales_forecast_line_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m}: {self.expected}"


class ForecastAccuracy(models.Model):
    """A run's backtest error for the company (team None) or a team: the mean absolute
    percentage error of the method and of the naive baseline over the backtest months."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="accuracy")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    mape = models.DecimalField(_("MAPE (%)"), max_digits=9, decimal_places=2, null=True)
    baseline_mape = models.DecimalField(
        _("baseline MAPE (%)"), max_digits=9, decimal_places=2, null=True
    )
    months = models.PositiveSmallIntegerField(_("months compared"), default=0)

    class Meta:
        verbose_name = _("forecast accuracy")
        verbose_name_plural = _("forecast accuracies")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "team"], name="sales_forecast_accuracy_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"MAPE {self.mape}% (baseline {self.baseline_mape}%)"
