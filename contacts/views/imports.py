"""Import pages: upload, map columns and preview, see row errors, commit, watch progress."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from accounts import access
from contacts import imports, selectors, tasks
from contacts.models import Contact, ImportJob, ImportStatus
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request

INLINE_BYTES = 256 * 1024  # smaller files are checked during the request
RUNNING = {ImportStatus.VALIDATING, ImportStatus.QUEUED, ImportStatus.IMPORTING}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("The first row names the columns. UTF-8 or GB18030 CSV, or .xlsx."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )


def _require_import(request: AuthedHttpRequest) -> None:
    if not access.has_model_perm(request.user, Contact, "import"):
        raise PermissionDenied(_("Your role may not import contacts."))


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: AuthedHttpRequest) -> HttpResponse:
    _require_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = imports.import_upload(file=form.cleaned_data["file"], actor=request.user)
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("contacts:import-detail", pk=job.pk)
        status = 422
    context = {"form": form, "jobs": selectors.import_jobs(user=request.user)}
    return render(request, "contacts/import_start.html", context, status=status)


def _mapping_from(request: AuthedHttpRequest, job: ImportJob) -> dict[str, str]:
    return {
        str(i): request.POST.get(f"column-{i}", "")
        for i in range(len(job.headers))
        if request.POST.get(f"column-{i}", "") in imports.FIELDS
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def import_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One import through its steps; while it runs, `#progress` polls this URL."""
    _require_import(request)
    job = selectors.import_job(user=request.user, pk=pk)
    if request.GET.get("download") == "errors":
        response = HttpResponse(imports.errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "map":
                imports.import_set_mapping(
                    job=job,
                    mapping=_mapping_from(request, job),
                    skip_duplicates=request.POST.get("skip_duplicates") == "on",
                    tag_names=request.POST.get("tag_names", ""),
                    actor=request.user,
                )
                if job.file.size <= INLINE_BYTES:
                    imports.import_validate(job_id=job.pk, actor=request.user)
                else:
                    tasks.contact_import_validate.delay_on_commit(
                        job_id=job.pk, actor_id=request.user.pk
                    )
                return redirect("contacts:import-detail", pk=job.pk)
            if action == "commit":
                imports.import_queue(job=job, actor=request.user)
                return redirect("contacts:import-detail", pk=job.pk)
            raise DomainError(_("Unknown action."))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 422
    job.refresh_from_db()
    if is_fragment_request(request):
        if job.status not in RUNNING:
            return HttpResponseClientRefresh()  # finished: show the result page
        return render(request, "contacts/import_detail.html#progress", _context(job))
    return render(request, "contacts/import_detail.html", _context(job), status=status)


def _context(job: ImportJob) -> dict[str, Any]:
    context: dict[str, Any] = {"job": job, "running": job.status in RUNNING}
    if job.status in RUNNING:
        done = imports.import_progress(job)
        total = job.total_rows or 0
        context["progress"] = done
        context["percent"] = min(100, round(100 * done / total)) if total else None
    if job.status in (ImportStatus.UPLOADED, ImportStatus.INVALID, ImportStatus.VALID):
        try:
            preview = imports.import_preview(job)
        except DomainError as exc:
            preview, context["preview_error"] = [], exc.message
        context["columns"] = [
            {"index": str(i), "header": h, "target": job.mapping.get(str(i), ""),
             "samples": [row[i] for row in preview if i < len(row)][:3]}
            for i, h in enumerate(job.headers)
        ]  # fmt: skip
        context["fields"] = list(imports.FIELDS.items())
    return context
