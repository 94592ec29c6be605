"""What the contacts URLs need, for the permission matrix (tests/matrix.py explains the terms)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from contacts import imports, services
from contacts.models import Company, Contact, ImportJob
from tests import matrix
from tests.contacts.factories import ContactFactory


def _contact(owner: User, admin: User) -> Contact:
    return ContactFactory(owner=owner, actor=admin, emails=[f"c{owner.pk}@matrix.example"])


def _company(owner: User, admin: User) -> Company:
    values = {"owner": owner, "name": f"Matrix {owner.pk}"}
    return services.company_create(values=values, actor=admin)


def _import_job(owner: User, admin: User) -> ImportJob:
    upload = SimpleUploadedFile("people.csv", b"Name,Email\nAda,ada@matrix.example\n")
    job = imports.import_upload(file=upload, actor=admin)  # the owner may lack the permission
    job.owner = owner
    job.save(update_fields=["owner"])
    return job


def _own_import(user: User, job: ImportJob, action: str) -> bool:
    """An import is private to the person who uploaded it (contacts.selectors.import_job)."""
    return job.owner_id == user.pk


matrix.records(Contact, make=_contact)
matrix.records(Company, make=_company)
matrix.records(ImportJob, make=_import_job, may=_own_import)  # type: ignore[arg-type]

# Lists and searches are scoped row by row (tests/contacts/test_views.py); any user may open them.
matrix.route("contacts:contact-list", get="login")
matrix.route("contacts:company-list", get="login")
matrix.route("contacts:company-lookup", get="login")
matrix.route("search", get="login")
matrix.route("home", get="login")

matrix.route("contacts:contact-create", Contact, get="add", post="add")
matrix.route("contacts:company-create", Company, get="add", post="add")
matrix.route("contacts:contact-export", Contact, get="export")
matrix.route("contacts:company-export", Company, get="export")
matrix.route("contacts:import-start", Contact, get="import", post="import")

matrix.route("contacts:contact-detail", Contact, get="view")
matrix.route("contacts:contact-edit", Contact, get="change", post="change")
matrix.route(
    "contacts:contact-field",
    Contact,
    get="view",
    post="change",
    kwargs={"field": "job_title"},
    variants={"GET ?edit=1": "change"},  # the inline edit form
)
matrix.route(
    "contacts:company-field",
    Company,
    get="view",
    post="change",
    kwargs={"field": "industry"},
    variants={"GET ?edit=1": "change"},  # the inline edit form
)
matrix.route("contacts:contact-archive", Contact, post="change")
matrix.route("contacts:contact-restore", Contact, post="change")
matrix.route("contacts:contact-merge", Contact, get="change", post="change", perm="merge")
matrix.route("contacts:contact-timeline", Contact, get="view")
# Bulk actions name their records in the body; ones the user may not change are skipped.
matrix.route(
    "contacts:contact-bulk",
    Contact,
    post="change",
    data=lambda contact: {"action": "archive", "ids": [contact.pk]},
)

matrix.route("contacts:company-detail", Company, get="view")
matrix.route("contacts:company-edit", Company, get="change", post="change")
matrix.route("contacts:company-archive", Company, post="change")
matrix.route("contacts:company-restore", Company, post="change")
matrix.route("contacts:company-timeline", Company, get="view")

matrix.route(
    "contacts:import-detail", ImportJob, get="view", post="change", perm="contacts.import_contact"
)
