"""crm's URLs in the permission matrix (tests/matrix.py): a job's progress is its actor's only."""

from __future__ import annotations

from accounts.models import User
from crm.models import Job, SavedView
from tests import matrix


def _job(owner: User, admin: User) -> Job:
    return Job.objects.create(kind="matrix.test", task_name="matrix.task", actor=owner, total=10)


def _own_job(user: User, job: Job, action: str) -> bool:
    """A job is private to the user who started it (crm.jobs.job_for_user_or_404)."""
    return job.actor_id == user.pk and action == "view"


matrix.records(Job, make=_job, may=_own_job)  # type: ignore[arg-type]
matrix.route("job-progress", Job, get="view")


def _saved_view(owner: User, admin: User) -> SavedView:
    return SavedView.objects.create(
        user=owner, list_name="contacts", name="Mine", query="stage=customer"
    )


def _own_view(user: User, view: SavedView, action: str) -> bool:
    """Only its user renames or deletes a saved view (crm.saved_views); teammates only open it."""
    return view.user_id == user.pk


matrix.records(SavedView, make=_saved_view, may=_own_view)  # type: ignore[arg-type]
matrix.route("saved-view-create", post="login", kwargs={"list_name": "contacts"})
matrix.route("saved-view-rename", SavedView, post="change")
matrix.route("saved-view-delete", SavedView, post="change")

# Inbound email: the raw-MIME endpoint checks its own shared secret, anymail's webhooks their
# basic auth and the provider's signature (tests/crm/test_mailin.py tests both).
matrix.public("inbound-raw")
matrix.PUBLIC_NAMESPACES.add("anymail")
