"""Companies (accounts) and contacts (people), with their emails, phones and tags."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Collate, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import NameOrder, OwnedModel
from contacts.search import DigitSuffixes, digits_match
from crm.links import record_url
from crm.models import FastChoiceDisplay, TimeStampedModel
from crm.storage import import_upload_to, private_storage
from crm.tags import TagIdsField, tag_index

ACTIVE = Q(archived_at__isnull=True)


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")


class Source(models.TextChoices):
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    COLD_CALL = "cold_call", _("Cold call")
    ADVERTISING = "advertising", _("Advertising")
    PARTNER = "partner", _("Partner")
    SOCIAL = "social", _("Social media")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Region(models.TextChoices):
    NORTH_AMERICA = "north_america", _("North America")
    LATIN_AMERICA = "latin_america", _("Latin America")
    EUROPE = "europe", _("Europe")
    MIDDLE_EAST_AFRICA = "middle_east_africa", _("Middle East and Africa")
    ASIA_PACIFIC = "asia_pacific", _("Asia Pacific")
    NORTH_CHINA = "north_china", _("North China")
    EAST_CHINA = "east_china", _("East China")
    CENTRAL_CHINA = "central_china", _("Central China")
    SOUTH_CHINA = "south_china", _("South China")
    WEST_CHINA = "west_china", _("West China")


class Industry(models.TextChoices):
    SOFTWARE = "software", _("Software and IT")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail and e-commerce")
    FINANCE = "finance", _("Finance and insurance")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics")
    CONSTRUCTION = "construction", _("Construction and real estate")
    ENERGY = "energy", _("Energy")
    HOSPITALITY = "hospitality", _("Hospitality")
    AGRICULTURE = "agriculture", _("Agriculture")
    GOVERNMENT = "government", _("Government and non-profit")
    MEDIA = "media", _("Media")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "1-10", _("1-10 employees")
    SMALL = "11-50", _("11-50 employees")
    MEDIUM = "51-200", _("51-200 employees")
    LARGE = "201-1000", _("201-1,000 employees")
    XLARGE = "1001-5000", _("1,001-5,000 employees")
    ENTERPRISE = "5000+", _("More than 5,000 employees")


class EmailLabel(models.TextChoices):
    WORK = "work", _("Work")
    PERSONAL = "personal", _("Personal")
    OTHER = "other", _("Other")


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    FAX = "fax", _("Fax")
    OTHER = "other", _("Other")


class TagColor(models.TextChoices):
    GREY = "secondary", _("Grey")
    BLUE = "primary", _("Blue")
    GREEN = "success", _("Green")
    RED = "danger", _("Red")
    YELLOW = "warning", _("Yellow")
    CYAN = "info", _("Cyan")


class Tag(TimeStampedModel):
    """A label shared by everyone; used to segment contacts and companies."""

    name = models.CharField(_("name"), max_length=60)
    color = models.CharField(
        _("colour"), max_length=12, choices=TagColor.choices, default=TagColor.GREY
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(Lower("name"), name="contacts_tag_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class AddressFields(models.Model):
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state or province"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)

    class Meta:
        abstract = True

    @property
    def address_lines(self) -> list[str]:
        locality = " ".join(p for p in (self.postal_code, self.city, self.state) if p)
        return [line for line in (self.street, locality, self.country) if line]


class SearchableModel(models.Model):
    """Denormalised search columns, kept up to date by the services (contacts/search.py).

    `search_text` holds the normalised words and phone digits (trigram index: partial matches);
    `search_vector` the same plus CJK bigrams as full-text tokens (GIN: whole and prefix words,
    two-character Chinese names, which trigrams cannot index).
    """

    search_text = models.TextField(editable=False, default="")
    search_vector = models.GeneratedField(
        expression=SearchVector("search_text", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        abstract = True


class Company(OwnedModel, AddressFields, SearchableModel):
    # The company list's name sort (contacts.lists): lower case in byte order, so a search for a
    # name's start reads one range of company_active_name_key whatever the letters' case.
    NAME_KEY: ClassVar = Collate(Lower("name"), "C")

    name = models.CharField(_("name"), max_length=200)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    linkedin = models.CharField(_("LinkedIn"), max_length=200, blank=True)
    x_handle = models.CharField(_("X (Twitter)"), max_length=100, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=100, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="companies")
    # The tags again, as ids (crm.tags): what filters and row badges read. Written with the link
    # table by crm.tags.tags_set / tags_add and by the bulk writers.
    tag_ids = TagIdsField()
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Latest interaction that was a contact (not a note), kept by contacts.activities.services.
    last_contacted_at = models.DateTimeField(
        _("last contacted"), null=True, blank=True, editable=False
    )
    # The next open task on the record (soonest due first, undated last), kept by
    # contacts.activities.services: its due time and title.
    next_step_at = models.DateTimeField(_("next step due"), null=True, blank=True, editable=False)
    # A database default too: the bulk writers (COPY with their own column lists) leave it out.
    next_step = models.CharField(
        _("next step"), max_length=200, blank=True, editable=False, db_default=""
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        permissions = [
            ("export_company", _("Can export companies")),
            ("import_company", _("Can import companies")),
        ]
        indexes = [
            models.Index(fields=["name", "id"], condition=ACTIVE, name="company_active_name"),
            models.Index(
                Collate(Lower("name"), "C"), "id", condition=ACTIVE, name="company_active_name_key"
            ),
            # accounts.access probes a company by id with its owner/team (a ticket seen through
            # its company, ACCESS_VIEW_THROUGH): answered from this index alone, archived or not
            # (company_active_* are partial). bench/results/2026-11-30-support-viewthrough-index.md
            models.Index(fields=["id"], include=["owner", "team"], name="company_id_scope"),
            models.Index(
                fields=["created_at", "id"], condition=ACTIVE, name="company_active_created"
            ),
            models.Index(
                fields=["updated_at", "id"], condition=ACTIVE, name="company_active_updated"
            ),
            models.Index(
                fields=["last_contacted_at", "id"],
                condition=ACTIVE,
                name="company_active_contacted",
            ),
            models.Index(
                fields=["next_step_at", "id"],
                condition=ACTIVE,
                name="company_active_next_step",
            ),
            models.Index(fields=["archived_at"], condition=~ACTIVE, name="company_archived"),
            models.Index(fields=["region"], name="company_region"),
            models.Index(fields=["industry"], name="company_industry"),
            models.Index(fields=["lifecycle_stage"], name="company_stage"),
            tag_index(name="company_active_tags", column="lifecycle_stage", condition=ACTIVE),
            GinIndex(
                fields=["search_text"], opclasses=["gin_trgm_ops"], name="company_search_trgm"
            ),
            GinIndex(fields=["search_vector"], name="company_search_fts"),
            GinIndex(DigitSuffixes("phone"), name="company_phone_digits"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return record_url("contacts:company-detail", self.pk)

    @classmethod
    def phone_match(cls, digits: str) -> Q:
        """Companies whose phone holds `digits` (contacts.search.phone_condition)."""
        return Q(digits_match("phone", digits))

    @property
    def next_step_overdue(self) -> bool:
        return self.next_step_at is not None and self.next_step_at < timezone.now()


class Contact(OwnedModel, AddressFields, SearchableModel):
    # Every index costs each insert (an import writes thousands a second): contact_active_created
    # serves lists by date. Archived contacts are found through contact_archived and sorted, by
    # date as by name (~100 ms for a big team with 20,000 archived of a million).
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    name_order = models.CharField(
        _("name order"), max_length=12, choices=NameOrder.choices, default=NameOrder.GIVEN_FIRST
    )
    # Derived from the name fields by the services; stored so lists sort and show without work.
    display_name = models.CharField(_("name"), max_length=210, editable=False)
    # Byte order ("C"): already lower-cased and unaccented, so it sorts the same on every server
    # whatever its locale, and PostgreSQL compares and sorts it without the locale library.
    sort_name = models.CharField(max_length=210, editable=False, db_collation="C")
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    linkedin = models.CharField(_("LinkedIn"), max_length=200, blank=True)
    x_handle = models.CharField(_("X (Twitter)"), max_length=100, blank=True)
    wechat = models.CharField(_("WeChat"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    # The tags as ids (crm.tags), GIN-indexed with the stage: "stage + tag" is one index lookup.
    # Written with the link table by crm.tags.tags_set / tags_add and by the bulk writers.
    tag_ids = TagIdsField()
    # Copies of the primary email and phone, so lists need no join.
    primary_email = models.EmailField(_("email"), blank=True, editable=False)
    primary_phone = models.CharField(_("phone"), max_length=40, blank=True, editable=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    # Latest interaction that was a contact (not a note), kept by contacts.activities.services.
    last_contacted_at = models.DateTimeField(
        _("last contacted"), null=True, blank=True, editable=False
    )
    # The next open task on the record (soonest due first, undated last), kept by
    # contacts.activities.services: its due time and title.
    next_step_at = models.DateTimeField(_("next step due"), null=True, blank=True, editable=False)
    # A database default too: the bulk writers (COPY with their own column lists) leave it out.
    next_step = models.CharField(
        _("next step"), max_length=200, blank=True, editable=False, db_default=""
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        db_index=False,  # contact_merged_into: only merged contacts have one
        null=True,
        blank=True,
        related_name="+",
    )
    # Where an imported contact came from ("hubspot", "salesforce", ...) and its id there, so a
    # later import of the same system updates it instead of creating a twin. The COPY writers
    # that do not name these columns get the database default.
    external_source = models.CharField(
        _("imported from"), max_length=40, blank=True, default="", db_default="", editable=False
    )
    external_id = models.CharField(
        _("id in the source system"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        permissions = [
            ("export_contact", _("Can export contacts")),
            ("import_contact", _("Can import contacts")),
            ("merge_contact", _("Can merge contacts")),
        ]
        indexes = [
            # accounts.access probes a contact by id with its owner/team (a ticket seen through
            # its requester, ACCESS_VIEW_THROUGH): answered from this index alone, archived or not
            # (contact_active_cover is partial). At 200k tickets a rep's "all open" list reads
            # 106,345 -> 82,390 blocks (bench/results/2026-11-30-support-viewthrough-index.md).
            models.Index(fields=["id"], include=["owner", "team"], name="contact_id_scope"),
            # Every sortable column has a partial index ending in id, for keyset pagination.
            models.Index(fields=["sort_name", "id"], condition=ACTIVE, name="contact_active_name"),
            models.Index(
                fields=["created_at", "id"], condition=ACTIVE, name="contact_active_created"
            ),
            models.Index(
                fields=["updated_at", "id"], condition=ACTIVE, name="contact_active_updated"
            ),
            models.Index(
                fields=["company", "sort_name", "id"], condition=ACTIVE, name="contact_company_name"
            ),
            models.Index(
                fields=["team", "sort_name", "id"], condition=ACTIVE, name="contact_team_name"
            ),
            models.Index(
                fields=["owner", "sort_name", "id"], condition=ACTIVE, name="contact_owner_name"
            ),
            # A stage's contacts in name order, with what stage + tag and the scope test, so
            # that filter's page is an index-only walk stopping after a page (issue 31; the list
            # reads ids first: crm.pagination.ids_first_page): ~50 blocks at any size, where
            # collecting the matches through the tag index read 4,615 at a million contacts.
            models.Index(
                fields=["lifecycle_stage", "sort_name", "id"],
                include=["tag_ids", "owner", "team"],
                condition=ACTIVE,
                name="contact_stage_tags",
            ),
            # Filters that start from another table (a tag's contacts) probe contacts by id, check
            # stage and scope and read the sort key: with these columns in the index, without
            # touching the table. Stage + tag at a million contacts: 148 ms -> 53 ms.
            models.Index(
                fields=["id"],
                include=["lifecycle_stage", "owner", "team", "sort_name"],
                condition=ACTIVE,
                name="contact_active_cover",
            ),
            models.Index(
                fields=["last_contacted_at", "id"],
                condition=ACTIVE,
                name="contact_active_contacted",
            ),
            models.Index(
                fields=["next_step_at", "id"],
                condition=ACTIVE,
                name="contact_active_next_step",
            ),
            models.Index(fields=["archived_at"], condition=~ACTIVE, name="contact_archived"),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="contact_merged_into",
            ),
            models.Index(fields=["region"], name="contact_region"),
            # The tag and search indexes also hold the scope columns (btree_gin), so a rep's
            # stage + tag or search reads only their own and their team's rows: one index scan
            # per scope arm (contacts.scope_led; migration 0015), not every team's matches.
            GinIndex(
                fields=["tag_ids", "lifecycle_stage", "team", "owner"],
                condition=ACTIVE,
                name="contact_active_tags",
            ),
            GinIndex(
                fields=["search_text", "team", "owner"],
                opclasses=["gin_trgm_ops", "int8_ops", "int8_ops"],
                name="contact_search_trgm",
            ),
            GinIndex(fields=["search_vector", "team", "owner"], name="contact_search_fts"),
        ]
        constraints = [
            # One contact per id of a source system; also the index imports match it by.
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or str(_("(no name)"))

    def get_absolute_url(self) -> str:
        return record_url("contacts:contact-detail", self.pk)

    @classmethod
    def phone_match(cls, digits: str) -> Q:
        """Contacts with a number holding `digits` (contacts.search.phone_condition): the few
        phones found in contactphone_suffixes, then their contacts by primary key."""
        phones = ContactPhone.objects.filter(digits_match("digits", digits))
        return Q(pk__in=phones.values("contact_id"))

    @property
    def next_step_overdue(self) -> bool:
        return self.next_step_at is not None and self.next_step_at < timezone.now()


class ContactEmail(FastChoiceDisplay):
    ACCESS_PARENT: ClassVar[str] = "contact"

    # contact_email_unique (contact, email) serves lookups by contact: no second index.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    email = models.EmailField(_("email"))
    label = models.CharField(
        _("label"), max_length=12, choices=EmailLabel.choices, default=EmailLabel.WORK
    )
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique"),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(is_primary=True), name="contact_one_primary_email"
            ),
        ]
        indexes = [models.Index(fields=["email"], name="contactemail_email")]

    def __str__(self) -> str:
        return self.email


class ContactPhone(FastChoiceDisplay):
    ACCESS_PARENT: ClassVar[str] = "contact"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("number"), max_length=40)
    # Digits only, for duplicate detection and search whatever the format typed.
    digits = models.CharField(max_length=40, editable=False)
    label = models.CharField(
        _("label"), max_length=12, choices=PhoneLabel.choices, default=PhoneLabel.MOBILE
    )
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["contact"], condition=Q(is_primary=True), name="contact_one_primary_phone"
            ),
        ]
        indexes = [
            models.Index(fields=["digits"], name="contactphone_digits"),
            # A fragment anywhere in a number: contacts.search.digits_match (Contact.phone_match).
            GinIndex(DigitSuffixes("digits"), name="contactphone_suffixes"),
        ]

    def __str__(self) -> str:
        return self.number


# Direct foreign-key tables for django-guardian object permissions: records shared explicitly.
# Faster than guardian's generic tables (integer join, not a text object_pk) at a million rows.
class ContactUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)


class ContactGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Contact, on_delete=models.CASCADE)


class CompanyUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Company, on_delete=models.CASCADE)


class CompanyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Company, on_delete=models.CASCADE)


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Waiting for column mapping")
    MAPPED = "mapped", _("Waiting to be checked")
    VALIDATING = "validating", _("Checking rows")
    INVALID = "invalid", _("Has errors")
    VALID = "valid", _("Ready to import")
    QUEUED = "queued", _("Queued")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (.xlsx)"


class ImportMode(models.TextChoices):
    CREATE = "create", _("Create new contacts only")
    UPDATE = "update", _("Update existing contacts only")
    BOTH = "both", _("Update existing contacts and create the others")


class ImportJob(TimeStampedModel):
    """One uploaded file on its way in: mapping, checking, then an all-or-nothing commit (or,
    when the user asks, the valid rows, with the others set aside in a file)."""

    owner = models.ForeignKey(
        "accounts.User", verbose_name=_("uploaded by"), on_delete=models.CASCADE, related_name="+"
    )
    # Private (crm/storage.py): a random name outside anything served; downloaded through the
    # import page, which only its uploader can open.
    file = models.FileField(_("file"), upload_to=import_upload_to, storage=private_storage)
    # The rows an import with keep_valid set aside, with the reason: original columns + one.
    rejected_file = models.FileField(
        _("rejected rows"), upload_to=import_upload_to, storage=private_storage, blank=True
    )
    original_name = models.CharField(_("file name"), max_length=255)
    # Which registered importer (contacts.imports.shell.importers) reads and writes the rows.
    entity = models.CharField(_("imported records"), max_length=40, default="contact")
    format = models.CharField(
        _("format"), max_length=4, choices=ImportFormat.choices, default=ImportFormat.CSV
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # column index (as text) -> contact field
    skip_duplicates = models.BooleanField(
        _("skip rows that match an existing contact"), default=True
    )
    # Owner of every imported contact (and of new companies); empty means the uploader.
    default_owner = models.ForeignKey(
        "accounts.User",
        verbose_name=_("owner of the imported contacts"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tag_names = models.CharField(_("tags for every imported contact"), max_length=200, blank=True)
    write_mode = models.CharField(
        _("existing contacts"), max_length=8, choices=ImportMode.choices, default=ImportMode.CREATE
    )
    keep_valid = models.BooleanField(
        _("import the valid rows, set the others aside"), default=False
    )
    external_source = models.CharField(_("source system"), max_length=40, blank=True)
    # {field: {lower-cased value in the file: our value}}; "owner" maps to user ids.
    value_map = models.JSONField(default=dict)
    unknown_owner_error = models.BooleanField(_("an unknown owner is a row error"), default=False)
    day_first = models.BooleanField(_("dates are day first"), default=False)
    # Column index -> distinct values seen in the first rows (for the value mapping step).
    column_values = models.JSONField(default=dict)
    # Values of choice columns met while checking that no mapping knew: {field: [values]}.
    unknown_values = models.JSONField(default=dict)
    total_rows = models.PositiveIntegerField(default=0)  # an estimate until the rows are checked
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{row, column, message}], the first 1,000
    message = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["owner", "-created_at"], name="importjob_owner_recent")]

    def __str__(self) -> str:
        return self.original_name
