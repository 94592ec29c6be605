"""What the leads URLs need, for the permission matrix (tests/matrix.py explains the terms).

Leads are owned records: the roles' scopes apply as to contacts."""

from __future__ import annotations

from accounts.models import User
from leads.models import Lead
from tests import matrix
from tests.leads.factories import make_lead


def _lead(owner: User, admin: User) -> Lead:
    return make_lead(admin, owner=owner, given_name=f"Lead of {owner.pk}")


matrix.records(Lead, make=_lead)  # type: ignore[arg-type]

matrix.route("leads:lead-list", get="login")
matrix.route("leads:lead-create", Lead, get="add", post="add")
matrix.route("leads:lead-detail", Lead, get="view")
matrix.route("leads:lead-edit", Lead, get="change", post="change")
matrix.route("leads:lead-status", Lead, post="change")
matrix.route("leads:lead-convert", Lead, post="change")
