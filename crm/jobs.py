"""Background jobs: work a user waits for, with progress, its outcome, and a reaper for work whose
worker died.

    job = jobs.job_start(kind="contacts.import_validate", task=contact_import_validate,
                         kwargs={"import_id": 7, "actor_id": user.pk}, actor=user)

    @shared_task(base=jobs.JobTask, **jobs.RETRY)
    def contact_import_validate(*, job_id: int, import_id: int, actor_id: int) -> None:
        ...                              # the service; jobs.progress(done=n) now and then

`job_start` writes the Job row and the task (through crm.outbox) in the caller's transaction; the
task runs after commit. `JobTask` wraps every run: it claims the job (QUEUED -> RUNNING with a
conditional update, so a second delivery does nothing), runs the body as the job's actor (audit
log) in the actor's language, records DONE, or FAILED with the message of a DomainError; a
TransientError is retried with backoff (the job goes back to QUEUED meanwhile); anything else
is recorded as FAILED and re-raised.

A job that accumulates something for a last step (the bulk kit's `BulkAction.finished`: one
notification per new owner, not one per chunk) adds it to the row with `tally_add` in each
chunk's transaction, and claims that last step once with `wrap_up` (a conditional update in the
last step's own transaction): a worker that dies between chunks loses nothing, and a retried
last chunk does not run the last step twice.

`progress()` is the job's sign of life. Outside a transaction it writes `heartbeat_at` and `done`
on the row; inside one (an import's commit holds its transaction to the end) those writes would
be invisible, so it also keeps the heartbeat in the cache, which the reaper reads too.

`reap()` (the beat task `crm.jobs.reap_stale_jobs`, every minute) finds RUNNING jobs with no sign
of life for `CRM_JOB_STALE_MINUTES` (5): their worker died or was killed. It requeues each (up to
`CRM_JOB_MAX_ATTEMPTS` runs in all, 3) or fails it with a message saying so. Apps register what a
requeue or a failure means for their own records (`register(kind, on_requeue=, on_fail=)`): an
import being checked goes back to "waiting to be checked", or ends "failed" with the reason.
crm/ imports no app: the hooks are registered by the apps' task modules.

The progress fragment: `GET /jobs/<id>/` (`job_progress`, only for the job's actor) renders
`components/job_progress.html`, which polls itself every second while the job is queued or
running and is answered 286 (stop polling) with its final state. A page shows it with
`<div hx-get="{% url 'job-progress' job.pk %}" hx-trigger="load" hx-swap="outerHTML"></div>`.
"""

from __future__ import annotations

import contextvars
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from celery import Task, shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm import outbox
from crm.errors import DomainError, TransientError
from crm.models import Job, JobStatus

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

RETRY: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (TransientError,),
    "retry_backoff": True,
    "max_retries": 5,
}
_HEARTBEAT_TTL = 3600
_current: contextvars.ContextVar[int | None] = contextvars.ContextVar("crm_job", default=None)


@dataclass(frozen=True, slots=True)
class Hooks:
    on_requeue: Callable[[Job], None] | None = None
    on_fail: Callable[[Job], None] | None = None


_hooks: dict[str, Hooks] = {}


def register(
    kind: str,
    *,
    on_requeue: Callable[[Job], None] | None = None,
    on_fail: Callable[[Job], None] | None = None,
) -> None:
    """What the reaper's requeue or failure of a job of `kind` means for the app's own records
    (called in the reaper's transaction)."""
    _hooks[kind] = Hooks(on_requeue, on_fail)


def stale_after() -> timedelta:
    return timedelta(minutes=getattr(settings, "CRM_JOB_STALE_MINUTES", 5))


def max_attempts() -> int:
    return int(getattr(settings, "CRM_JOB_MAX_ATTEMPTS", 3))


def job_start(
    *,
    kind: str,
    task: str | Task,
    kwargs: Mapping[str, Any],
    actor: User | None,
    total: int | None = None,
) -> Job:
    """Record a job and queue its task (after the caller's transaction commits, through the
    outbox, so it survives a broker that is down). `kwargs` are JSON values; the task also
    gets `job_id`."""
    name = task if isinstance(task, str) else task.name
    job = Job.objects.create(
        kind=kind, task_name=name, kwargs=dict(kwargs), actor=actor, total=total
    )
    outbox.enqueue(name, {**job.kwargs, "job_id": job.pk})
    return job


def _heartbeat_key(job_id: int) -> str:
    return f"job-heartbeat:{job_id}"


def current_job_id() -> int | None:
    """The job the running task works for, if any."""
    return _current.get()


def progress(*, done: int, total: int | None = None, job_id: int | None = None) -> None:
    """A sign of life of the current (or given) job, with how far it got. No-op outside a job.
    Cheap: one UPDATE by primary key (skipped inside a transaction) and one cache write."""
    job_id = job_id or _current.get()
    if job_id is None:
        return
    now = timezone.now()
    cache.set(_heartbeat_key(job_id), (now.timestamp(), done), _HEARTBEAT_TTL)
    if connection.in_atomic_block:
        return  # invisible until commit: the cache carries the heartbeat meanwhile
    fields: dict[str, Any] = {"heartbeat_at": now, "done": done, "updated_at": now}
    if total is not None:
        fields["total"] = total
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**fields)


def tally_add(job_id: int, counts: Mapping[str, int]) -> None:
    """Add `counts` to the job's tally (`Job.tally`), in the caller's transaction: a chunk's
    changes and what it counted commit together, or neither does. The row is locked meanwhile."""
    if not counts:
        return
    with transaction.atomic():
        row = Job.objects.select_for_update().only("pk", "tally").get(pk=job_id)
        tally = Counter({str(k): int(v) for k, v in row.tally.items()})
        tally.update({str(k): int(v) for k, v in counts.items()})
        Job.objects.filter(pk=job_id).update(tally=dict(tally))


def wrap_up(job_id: int) -> dict[str, int] | None:
    """Claim the job's wrap-up, once: its tally the first time, None ever after. Call it in
    the transaction of what the wrap-up writes: the claim stands only if that commits (a run
    that dies or rolls back leaves it to the next run; a concurrent claim waits for this one
    and then finds it taken)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, wrapped_up_at__isnull=True).update(
        wrapped_up_at=now, updated_at=now
    )
    if not claimed:
        return None
    tally = Job.objects.values_list("tally", flat=True).get(pk=job_id)
    return {str(k): int(v) for k, v in tally.items()}


class JobTask(Task):
    """The base of every job's task: claim, run as the actor, record the outcome (see the
    module docstring). The task must take `job_id` as a keyword argument."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        job_id = kwargs.get("job_id")
        if not isinstance(job_id, int):
            raise TypeError(f"{self.name} needs job_id= (a crm.models.Job id)")
        now = timezone.now()
        claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            updated_at=now,
        )
        if not claimed:
            return None  # done, failed, or running elsewhere: a second delivery does nothing
        job = Job.objects.select_related("actor").get(pk=job_id)
        token = _current.set(job.pk)
        language = getattr(job.actor, "language", "") or settings.LANGUAGE_CODE
        try:
            with set_actor(job.actor), translation.override(language):
                result = super().__call__(*args, **kwargs)
        except Retry:
            _finish(job.pk, JobStatus.QUEUED, "")  # the retry claims it again
            raise
        except DomainError as exc:
            _finish(job.pk, JobStatus.FAILED, exc.message, errors=[{"message": exc.message}])
            return None
        except Exception as exc:
            with translation.override(language):
                message = _("The job failed: %(error)s") % {"error": exc}
            _finish(job.pk, JobStatus.FAILED, message)
            raise
        finally:
            _current.reset(token)
        # A body that returns text says what it did (shown with the finished job).
        _finish(job.pk, JobStatus.DONE, result if isinstance(result, str) else "")
        return result


def _finish(
    job_id: int, status: str, message: str, *, errors: list[dict[str, Any]] | None = None
) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, "message": message, "updated_at": now}
    if status != JobStatus.QUEUED:
        fields["finished_at"] = now
    if errors is not None:
        fields["errors"] = errors
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**fields)
    try:
        cache.delete(_heartbeat_key(job_id))
    except Exception:  # a cache that is down: the entry expires
        log.warning("jobs: could not drop the heartbeat of job %s", job_id)


def _cached(job_id: int) -> tuple[float, int] | None:
    """(time, done) of the job's last progress() in the cache, if any."""
    try:
        seen = cache.get(_heartbeat_key(job_id))
    except Exception:  # a cache that is down tells nothing; the row decides
        return None
    if isinstance(seen, list | tuple) and len(seen) == 2:
        return float(seen[0]), int(seen[1])
    return None


def _alive_in_cache(job_id: int, cutoff: float) -> bool:
    seen = _cached(job_id)
    return seen is not None and seen[0] >= cutoff


def job_done(job: Job) -> int:
    """How far the job got: live from the cache while it runs (its row may be behind a
    transaction), else from the row."""
    seen = _cached(job.pk) if job.status == JobStatus.RUNNING else None
    return max(job.done, seen[1]) if seen else job.done


def job_for_user_or_404(user: Any, pk: int) -> Job:
    """A job of the user's own (the one who started it); anyone else's is a 404."""
    job = Job.objects.filter(pk=pk, actor_id=user.pk).first()
    if job is None:
        raise Http404(_("No such job."))
    return job


@login_required
@require_GET
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment of one of the user's jobs; 286 (stop polling) once it ended."""
    job = job_for_user_or_404(request.user, pk)
    running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    done = job_done(job)
    percent = min(100, round(100 * done / job.total)) if job.total else None
    context = {"job": job, "done": done, "percent": percent, "running": running}
    response = render(request, "components/job_progress.html", context)
    response["Vary"] = "HX-Request"
    if not running:
        response.status_code = 286  # htmx stops polling and shows this final state
    return response


def reap(*, now: Any = None) -> dict[str, int]:
    """Requeue or fail RUNNING jobs without a sign of life for stale_after(). Idempotent and
    safe late or twice: rows are locked (SKIP LOCKED) and re-checked in one transaction.
    Returns {"requeued": n, "failed": n}."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    counts = {"requeued": 0, "failed": 0}
    with transaction.atomic():
        stale = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
            .order_by("heartbeat_at")[:200]
        )
        for job in stale:
            if _alive_in_cache(job.pk, cutoff.timestamp()):
                continue
            hooks = _hooks.get(job.kind, Hooks())
            minutes = int(stale_after().total_seconds() // 60)
            if job.attempts < max_attempts():
                job.status = JobStatus.QUEUED
                job.message = _(
                    "The worker stopped answering for %(minutes)d minutes; the job was queued "
                    "again."
                ) % {"minutes": minutes}
                job.save(update_fields=["status", "message", "updated_at"])
                if hooks.on_requeue:
                    hooks.on_requeue(job)
                outbox.enqueue(job.task_name, {**job.kwargs, "job_id": job.pk})
                counts["requeued"] += 1
            else:
                job.status = JobStatus.FAILED
                job.message = _(
                    "The worker stopped answering for %(minutes)d minutes, %(n)d times; the job "
                    "was stopped. Start it again."
                ) % {"minutes": minutes, "n": job.attempts}
                job.finished_at = now
                job.save(update_fields=["status", "message", "finished_at", "updated_at"])
                if hooks.on_fail:
                    hooks.on_fail(job)
                counts["failed"] += 1
            log.warning("jobs: %s %s after a stale heartbeat", job, job.status)
    return counts


@shared_task(ignore_result=True)
def reap_stale_jobs() -> dict[str, int]:
    """Beat task: see reap(). Safe late or twice."""
    return reap()
