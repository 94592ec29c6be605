"""Leads: people and companies not yet qualified, from every capture path (issue 27).

A lead is owned (`OwnedModel`: owner and team), so `accounts.access` scopes it like a contact.
Written only through `leads.services`. A converted lead is kept read-only and linked both ways
to the contact and company it became, so reports can trace revenue back to its source.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import OwnedModel, Team, User
from contacts.models import Company, CompanySize, Contact, Industry, Region, Tag
from crm.models import TimeStampedModel
from crm.tags import TagIdsField, tag_index

ACTIVE = Q(archived_at__isnull=True)


class LeadSource(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event or trade show")
    CAMPAIGN = "campaign", _("Campaign")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Manual")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class Temperature(models.TextChoices):
    """Where a lead's score stands against the admin's thresholds (`ScoreSettings`)."""

    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")


class DuplicateAction(models.TextChoices):
    """What a capture that matches an existing lead or contact does. Never a drop."""

    LINK = "link", _("Create and link to the match")
    FLAG = "flag", _("Create and flag for review")
    MERGE = "merge", _("Merge into the existing lead")


class AssignmentStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    FEWEST_OPEN = "fewest_open", _("Fewest open leads")


class Lead(OwnedModel):
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    # Derived by the services: shown everywhere, and sorted on (C collation: byte order).
    display_name = models.CharField(_("name"), max_length=210, editable=False)
    sort_name = models.CharField(max_length=210, editable=False, db_collation="C")
    email = models.EmailField(_("email"), blank=True)  # stored lower-cased
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, blank=True, editable=False)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)

    source = models.CharField(
        _("source"), max_length=12, choices=LeadSource.choices, default=LeadSource.MANUAL
    )
    source_detail = models.CharField(_("source detail"), max_length=200, blank=True)
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=100, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=100, blank=True)
    referring_contact = models.ForeignKey(
        Contact,
        verbose_name=_("referred by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referred_leads",
    )

    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    unqualified_reason = models.CharField(_("reason unqualified"), max_length=200, blank=True)

    score = models.IntegerField(_("score"), default=0)
    # [{"points": 15, "reason": "job title contains Director"}, ...], written by the scoring.
    score_breakdown = models.JSONField(_("score breakdown"), default=list, blank=True)
    # The score against the thresholds, kept with it so that becoming hot is seen once.
    temperature = models.CharField(
        _("temperature"),
        max_length=4,
        choices=Temperature.choices,
        default=Temperature.COLD,
        db_default=Temperature.COLD,
    )

    consent_text = models.TextField(_("consent wording"), blank=True)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_from = models.CharField(_("consent given from"), max_length=200, blank=True)

    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="leads")
    # The tags as ids (crm.tags), GIN-indexed with the status; written with the link table by
    # crm.tags.tags_set.
    tag_ids = TagIdsField()
    notes = models.TextField(_("notes"), blank=True)

    # Duplicates found at capture (see services.lead_find_matches); `needs_review` when the
    # source's policy is to flag them.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    matched_contact = models.ForeignKey(
        Contact,
        verbose_name=_("matching contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    needs_review = models.BooleanField(_("possible duplicate"), default=False)
    # The record's id in the system it was imported from (matched by an import that updates).
    external_source = models.CharField(
        _("source system"), max_length=40, blank=True, default="", db_default="", editable=False
    )
    external_id = models.CharField(
        _("ID in the source system"), max_length=100, blank=True, default="", db_default=""
    )
    # A caller's idempotency key (API header, form submission id): one lead per key.
    capture_key = models.CharField(max_length=100, blank=True, editable=False)
    web_form = models.ForeignKey(
        "LeadForm",
        verbose_name=_("web form"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    # The anonymous website visitor who sent the web form (activities' tracking script): the
    # visitor's page views, before and after, count for the engagement rules.
    visitor = models.UUIDField(_("website visitor"), null=True, blank=True, editable=False)
    # Set at capture when assignment rules are to run; the outbox task clears it (once).
    assignment_pending = models.BooleanField(default=False, editable=False)

    converted_contact = models.ForeignKey(
        Contact,
        verbose_name=_("converted to contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_leads",
    )
    converted_company = models.ForeignKey(
        Company,
        verbose_name=_("converted to company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="converted_leads",
    )
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [
            ("export_lead", _("Can export leads")),
            ("import_lead", _("Can import leads")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.CONVERTED)
                | Q(converted_contact__isnull=False, converted_at__isnull=False),
                name="lead_converted_linked",
            ),
            models.UniqueConstraint(
                fields=["capture_key"], condition=~Q(capture_key=""), name="lead_capture_key"
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="lead_external_id",
            ),
        ]
        indexes = [
            # The list's sorts (score, created, name), each also per status and per team and
            # owner (the scopes of reps), all keyset-paged so ending in id.
            models.Index(fields=["score", "id"], condition=ACTIVE, name="lead_score"),
            models.Index(
                fields=["visitor"], condition=Q(visitor__isnull=False), name="lead_visitor"
            ),
            models.Index(fields=["created_at", "id"], condition=ACTIVE, name="lead_created"),
            models.Index(fields=["sort_name", "id"], condition=ACTIVE, name="lead_name"),
            models.Index(
                fields=["status", "score", "id"], condition=ACTIVE, name="lead_status_score"
            ),
            models.Index(
                fields=["status", "created_at", "id"], condition=ACTIVE, name="lead_status_created"
            ),
            models.Index(
                fields=["source", "created_at", "id"], condition=ACTIVE, name="lead_source_created"
            ),
            models.Index(fields=["team", "score", "id"], condition=ACTIVE, name="lead_team_score"),
            models.Index(
                fields=["team", "created_at", "id"], condition=ACTIVE, name="lead_team_created"
            ),
            models.Index(
                fields=["owner", "status", "created_at", "id"],
                condition=ACTIVE,
                name="lead_owner_status",
            ),
            # The counts read this index alone (index-only scans): the list's count loaded after
            # its rows (the scope, any filter on status, source or score), the board's counts by
            # status, and the web-form filter (status and source lead). With the rep's dense
            # scope PostgreSQL otherwise read the table up to the cap (bench/results/
            # 2026-12-01-leads-counts.md).
            models.Index(
                fields=["status", "source", "created_at", "id"],
                include=["owner", "team", "score"],
                condition=ACTIVE,
                name="lead_count_cover",
            ),
            models.Index(fields=["archived_at"], condition=~ACTIVE, name="lead_archived"),
            tag_index(name="lead_active_tags", column="status", condition=ACTIVE),
            # Duplicate matching at capture.
            models.Index(fields=["email"], condition=~Q(email=""), name="lead_email"),
            models.Index(fields=["phone_digits"], condition=~Q(phone_digits=""), name="lead_phone"),
            models.Index(
                fields=["sort_name", "company_name"],
                condition=~Q(company_name=""),
                name="lead_name_company",
            ),
            models.Index(
                fields=["created_at", "id"], condition=Q(needs_review=True), name="lead_review"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email or str(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("leads:lead-detail", args=[self.pk])

    @property
    def is_read_only(self) -> bool:
        return self.status == LeadStatus.CONVERTED


class DuplicatePolicy(TimeStampedModel):
    """The admin's choice, per source, of what a capture matching a lead or contact does."""

    source = models.CharField(_("source"), max_length=12, choices=LeadSource.choices)
    action = models.CharField(
        _("when a match is found"),
        max_length=8,
        choices=DuplicateAction.choices,
        default=DuplicateAction.FLAG,
    )

    class Meta:
        verbose_name = _("duplicate policy")
        verbose_name_plural = _("duplicate policies")
        constraints = [
            models.UniqueConstraint(fields=["source"], name="lead_duplicate_policy_source")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.get_action_display()}"


# --- web-to-lead forms ------------------------------------------------------------------------


class FormFieldName(models.TextChoices):
    """The lead fields a web form may ask for."""

    GIVEN_NAME = "given_name", _("Given name")
    FAMILY_NAME = "family_name", _("Family name")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    JOB_TITLE = "job_title", _("Job title")
    COMPANY_NAME = "company_name", _("Company")
    WEBSITE = "website", _("Website")
    INDUSTRY = "industry", _("Industry")
    SIZE = "size", _("Company size")
    REGION = "region", _("Region")
    NOTES = "notes", _("Message")


class LeadForm(TimeStampedModel):
    """A web-to-lead form an admin builds: hosted at /forms/<slug>/ and embeddable elsewhere."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=150, blank=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=150, blank=True)
    consent_text = models.TextField(_("consent wording"), blank=True)
    consent_text_zh = models.TextField(_("consent wording (Chinese)"), blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    thank_you_zh = models.TextField(_("thank-you message (Chinese)"), blank=True)
    redirect_url = models.URLField(
        _("redirect to"), blank=True, help_text=_("Instead of the thank-you message.")
    )
    owner = models.ForeignKey(
        User,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Owns the leads, or receives them when no assignment rule applies."),
    )
    use_assignment_rules = models.BooleanField(_("use assignment rules"), default=True)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_("Sites that may embed the form, one per line, e.g. https://www.example.com"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        permissions = [("manage_leadform", _("Can build web-to-lead forms"))]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("leads:form-edit", args=[self.pk])

    def origins(self) -> set[str]:
        return {
            line.strip().rstrip("/").lower()
            for line in self.allowed_origins.splitlines()
            if line.strip()
        }


class LeadFormField(models.Model):
    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, related_name="fields")
    field = models.CharField(_("field"), max_length=20, choices=FormFieldName.choices)
    required = models.BooleanField(_("required"), default=False)
    label = models.CharField(_("label"), max_length=100, blank=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("form field")
        verbose_name_plural = _("form fields")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "field"], name="lead_form_field_once")
        ]

    def __str__(self) -> str:
        return self.get_field_display()


# --- assignment and scoring rules -----------------------------------------------------------


class AssignmentRule(TimeStampedModel):
    """Ordered; the first active rule whose conditions all hold assigns a captured lead, to
    `user` or round-robin over `members` (or the active members of `team`)."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    source = models.CharField(
        _("source"), max_length=12, choices=LeadSource.choices, blank=True, help_text=_("Any")
    )
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    web_form = models.ForeignKey(
        LeadForm, verbose_name=_("web form"), on_delete=models.CASCADE, null=True, blank=True
    )
    min_score = models.IntegerField(_("score at least"), null=True, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("assign to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    members = models.ManyToManyField(
        User, verbose_name=_("round-robin over"), blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("or round-robin over team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    strategy = models.CharField(
        _("share out by"),
        max_length=12,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
        db_default=AssignmentStrategy.ROUND_ROBIN,
    )
    # The round-robin pointer: the rule's row is locked (SELECT ... FOR UPDATE) to advance it.
    turn = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadAvailability(TimeStampedModel):
    """Whether a user takes new leads from team assignment rules (round-robin and fewest open
    leads skip a member who is away). No row means available; the user toggles it on the home
    page's leads card, an admin in the Django admin."""

    user = models.OneToOneField(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="lead_availability",
    )
    available = models.BooleanField(_("available for new leads"), default=True)

    class Meta:
        verbose_name = _("lead availability")
        verbose_name_plural = _("lead availability")

    def __str__(self) -> str:
        return str(self.user)


class ScoringField(models.TextChoices):
    JOB_TITLE = "job_title", _("job title")
    COMPANY_NAME = "company_name", _("company")
    EMAIL = "email", _("email")
    WEBSITE = "website", _("website")
    INDUSTRY = "industry", _("industry")
    SIZE = "size", _("company size")
    REGION = "region", _("region")
    SOURCE = "source", _("source")
    UTM_SOURCE = "utm_source", _("UTM source")
    UTM_CAMPAIGN = "utm_campaign", _("UTM campaign")
    PHONE = "phone", _("phone")
    INTERACTIONS = "interactions", _("logged interactions")
    MEETINGS = "meetings", _("meetings logged")
    REPLIES = "replies", _("replies received")
    FORM_SUBMITTED = "form_submitted", _("web form submitted")
    EMAIL_OPENED = "email_opened", _("emails opened")
    EMAIL_CLICKED = "email_clicked", _("email links clicked")
    PAGE_VISITED = "page_visited", _("website pages visited")


class ScoringOperator(models.TextChoices):
    EQUALS = "equals", _("is")
    CONTAINS = "contains", _("contains")
    IN = "in", _("is one of")
    NOT_EMPTY = "not_empty", _("is given")
    AT_LEAST = "at_least", _("at least")


class ScoringRule(TimeStampedModel):
    """Points a lead gets when a field matches (fit) or for logged interactions (engagement).
    Changing the rules recomputes every lead's score in a background job."""

    field = models.CharField(_("field"), max_length=20, choices=ScoringField.choices)
    operator = models.CharField(_("operator"), max_length=10, choices=ScoringOperator.choices)
    value = models.CharField(
        _("value"), max_length=200, blank=True, help_text=_("For 'is one of': comma-separated.")
    )
    points = models.IntegerField(_("points"))
    half_life_days = models.PositiveSmallIntegerField(
        _("halve the points every (days)"),
        null=True,
        blank=True,
        help_text=_(
            "For engagement (interactions, meetings, replies, form submitted): the points "
            "fade with the age of the activity that earned them. Empty: the default in the "
            "score settings."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=-1000, points__lte=1000), name="lead_scoring_points"
            ),
            models.CheckConstraint(
                condition=Q(half_life_days__isnull=True) | Q(half_life_days__gte=1),
                name="lead_scoring_half_life",
            ),
        ]

    def __str__(self) -> str:
        field, operator = self.get_field_display(), self.get_operator_display()
        return f"{self.points:+d} {field} {operator} {self.value}"


class ScoreSettings(TimeStampedModel):
    """One row (pk 1): the thresholds that make a lead hot or warm, the default decay of
    engagement points, and what happens when a lead becomes hot. Saved in the admin; a change
    recomputes every lead in the background."""

    hot_at = models.IntegerField(_("hot from score"), default=50)
    warm_at = models.IntegerField(_("warm from score"), default=20)
    half_life_days = models.PositiveSmallIntegerField(
        _("engagement points halve every (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: engagement points do not fade unless their rule says so."),
    )
    notify_when_hot = models.BooleanField(
        _("notify the owner when a lead becomes hot"), default=True
    )
    task_when_hot = models.BooleanField(
        _("create a call task for the owner when a lead becomes hot"), default=False
    )
    status_when_hot = models.CharField(
        _("move a new lead that becomes hot to"),
        max_length=12,
        blank=True,
        choices=[
            (LeadStatus.CONTACTED.value, LeadStatus.CONTACTED.label),
            (LeadStatus.QUALIFIED.value, LeadStatus.QUALIFIED.label),
        ],
        help_text=_("Empty: its status stays."),
    )

    class Meta:
        verbose_name = _("score settings")
        verbose_name_plural = _("score settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(warm_at__lte=models.F("hot_at")), name="lead_warm_le_hot"
            ),
            models.CheckConstraint(
                condition=Q(half_life_days__isnull=True) | Q(half_life_days__gte=1),
                name="lead_settings_half_life",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Score settings"))

    @classmethod
    def current(cls) -> ScoreSettings:
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)


class LeadUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Lead, on_delete=models.CASCADE)


class LeadGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Lead, on_delete=models.CASCADE)


from leads.file_models import LeadFile  # noqa: E402, F401  (files uploaded by hand)
from leads.nurture_models import (  # noqa: E402, F401  (nurture sequences)
    NurtureDelivery,
    NurtureEnrolment,
    NurtureSequence,
    NurtureStep,
)
