"""What the leads URLs need, for the permission matrix (tests/matrix.py explains the terms).

Leads are owned records: the roles' scopes apply as to contacts."""

from __future__ import annotations

from accounts.models import User
from contacts.models import ImportJob
from leads.models import (
    Lead,
    LeadFile,
    LeadForm,
    NurtureEnrolment,
    NurtureSequence,
    NurtureStep,
)
from tests import matrix
from tests.leads.factories import make_lead, make_web_form


def _lead(owner: User, admin: User) -> Lead:
    return make_lead(admin, owner=owner, given_name=f"Lead of {owner.pk}")


def _web_form(owner: User, admin: User) -> LeadForm:
    return make_web_form(owner, slug=f"matrix-{owner.pk}")


matrix.records(Lead, make=_lead)  # type: ignore[arg-type]
# Web forms are not owned: the role's model permissions decide (administrators, marketing).
matrix.records(LeadForm, make=_web_form)  # type: ignore[arg-type]

matrix.route("leads:lead-list", get="login")
matrix.route("leads:lead-create", Lead, get="add", post="add")
matrix.route("leads:lead-quick-add", Lead, get="add", post="add")
matrix.route("leads:lead-detail", Lead, get="view")
matrix.route("leads:lead-edit", Lead, get="change", post="change")
matrix.route("leads:lead-status", Lead, post="change")
matrix.route("leads:lead-convert", Lead, post="change")

matrix.route("leads:form-list", LeadForm, get="manage")
matrix.route("leads:form-create", LeadForm, get="add", post="add")
matrix.route("leads:form-edit", LeadForm, get="change", post="change")
# The hosted form itself is public (no sign-in): /forms/<slug>/.
matrix.public("webforms:form")
matrix.route("leads:lead-board", get="login")
matrix.route("leads:lead-export", Lead, get="export")  # the list kit's export (crm.exports)
matrix.route("leads:lead-duplicates", get="login")
matrix.route("leads:lead-merge", Lead, get="change", post="change")

# The lead page's quick actions: activities' composer through its target registry
# (contacts.activities.targets): the change right on the lead and the role's add permission.
for name, perm in (
    ("activities:record-log", "activities.add_interaction"),
    ("activities:record-task-create", "activities.add_task"),
    ("activities:record-mail-compose", "activities.add_interaction"),
):
    matrix.route(name, Lead, get="change", post="change", perm=perm, kwargs={"label": "leads.lead"})


# Files uploaded to a lead: the card is seen with the lead, uploading changes it; a file is
# downloaded by whoever sees its lead (or, once converted, its contact or company).
def _lead_file(owner: User, admin: User) -> LeadFile:
    from django.core.files.base import ContentFile

    row = LeadFile(lead=_lead(owner, admin), filename="matrix.pdf", size=9, uploaded_by=admin)
    row.file.save("matrix.pdf", ContentFile(b"%PDF-1.7\n"), save=False)
    row.save()
    return row


matrix.records(
    LeadFile,
    make=_lead_file,
    may=lambda user, obj, action: (
        action in ("view", "change") and matrix.may(user, obj.lead, action)  # type: ignore[attr-defined]
    ),
)
matrix.route("leads:lead-files", Lead, get="view", post="change")
matrix.route("leads:lead-file", LeadFile, get="view")
# Deleting a file changes its lead: 404 for who does not see it, 403 for who only sees it.
matrix.route("leads:lead-file-delete", LeadFile, post="change")


# Nurture (leads/nurture_views.py): enrolling and stopping change the lead; the unsubscribe
# page of the emails is public (a signed token).
def _enrolment(owner: User, admin: User) -> NurtureEnrolment:
    sequence, _ = NurtureSequence.objects.get_or_create(name="Matrix")
    return NurtureEnrolment.objects.create(lead=_lead(owner, admin), sequence=sequence)


matrix.records(
    NurtureEnrolment,
    make=_enrolment,
    may=lambda user, obj, action: (
        action in ("view", "change") and matrix.may(user, obj.lead, action)  # type: ignore[attr-defined]
    ),
)
matrix.route("leads:lead-nurture-enrol", Lead, post="change")


def _bulk_enrol(lead: Lead) -> dict[str, object]:
    sequence, created = NurtureSequence.objects.get_or_create(name="Matrix bulk")
    if created:
        NurtureStep.objects.create(sequence=sequence, position=1)
    return {"action": "enrol", "ids": [lead.pk], "sequence": sequence.pk}


# The list's bulk bar names its leads in the body; ones the user may not change are skipped
# with a warning and never enrolled.
matrix.route("leads:lead-bulk", Lead, post="change", data=_bulk_enrol)
matrix.route("leads:lead-nurture-stop", NurtureEnrolment, post="change")
matrix.public("webforms:nurture-unsubscribe")

# Imports (contacts.imports.shell): the import permission on leads, and only the uploader's own
# jobs (the ImportJob records of tests/contacts/matrix.py; another entity's job redirects).
matrix.route("leads:import-start", Lead, get="import", post="import")
matrix.route("leads:import-detail", ImportJob, get="view", post="change", perm="leads.import_lead")
matrix.route("leads:home-leads", Lead, get="add")  # the home card: a role permission
matrix.route("leads:availability", Lead, post="add")  # the card's own switch
