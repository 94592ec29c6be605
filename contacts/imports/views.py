"""The import pages of every registered importer (contacts.imports.shell): an app routes them
with its entity, e.g. `path("import/", views.import_start, {"entity": "lead"}, name="import-start")`
and `path("import/<int:pk>/", views.import_detail, {"entity": "lead"}, name="import-detail")`.
Upload, column and value mapping with a preview, the importer's own options (shell.Options),
row problems and skipped rows, commit, progress and the private downloads (the original file,
the rejected rows), only for users with the model's import permission, and only their own
imports. Templates: templates/imports/.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from accounts.models import User
from contacts import imports, selectors
from contacts.imports import shell
from contacts.models import ImportJob, ImportStatus
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request

RUNNING = {
    ImportStatus.MAPPED,
    ImportStatus.VALIDATING,
    ImportStatus.QUEUED,
    ImportStatus.IMPORTING,
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("The first row names the columns. UTF-8 or GB18030 CSV, or .xlsx."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )


def _importer(request: AuthedHttpRequest, entity: str) -> shell.Importer:
    importer = shell.importers.get(entity)
    if importer is None:
        raise Http404(_("Nothing can be imported here."))
    if not shell.may_import(request.user, importer):
        raise PermissionDenied(str(importer.denied))
    return importer


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request: AuthedHttpRequest, entity: str) -> HttpResponse:
    """Upload form and the user's recent imports; a good upload goes on to the mapping step."""
    importer = _importer(request, entity)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = imports.import_upload(
                    file=form.cleaned_data["file"], actor=request.user, entity=entity
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect(importer.detail_url, pk=job.pk)
        status = 422
    recent = ImportJob.objects.filter(owner_id=request.user.pk, entity=entity)
    context = {
        "form": form,
        "importer": importer,
        "list_label": capfirst(importer.model._meta.verbose_name_plural),
        "jobs": list(recent.order_by("-created_at")[:10]),
    }
    return render(request, "imports/start.html", context, status=status)


def _posted_mapping(
    request: AuthedHttpRequest, job: ImportJob, importer: shell.Importer
) -> dict[str, str]:
    mapping = {str(i): request.POST.get(f"column-{i}", "") for i in range(len(job.headers))}
    return {k: v for k, v in mapping.items() if v and v in importer.fields}


def _posted_value_map(
    request: AuthedHttpRequest, importer: shell.Importer
) -> dict[str, dict[str, str]]:
    value_map: dict[str, dict[str, str]] = {}
    for field in [*importer.choices, "owner"]:
        raws = request.POST.getlist(f"vm-{field}-raw")
        ours = request.POST.getlist(f"vm-{field}")
        if raws and len(raws) == len(ours):
            value_map[field] = dict(zip(raws, ours, strict=True))
    return value_map


def _map(request: AuthedHttpRequest, job: ImportJob, importer: shell.Importer) -> None:
    owner_id = request.POST.get("default_owner", "")
    owner = None
    if owner_id:
        choices = shell.assignable(request.user, importer)
        owner = next((u for u in choices if str(u.pk) == owner_id), None)
        if owner is None:
            raise DomainError(_("Pick an owner from the list."), field="default_owner")
    options = importer.options.read(request.POST) if importer.options else {}
    imports.import_set_mapping(
        job=job,
        mapping=_posted_mapping(request, job, importer),
        tag_names=request.POST.get("tag_names", ""),
        actor=request.user,
        default_owner=owner if owner and owner.pk != request.user.pk else None,
        value_map=_posted_value_map(request, importer),
        keep_valid=request.POST.get("keep_valid") == "on",
        unknown_owner_error=request.POST.get("unknown_owner") == "error",
        **options,
    )
    imports.import_check(job=job, actor=request.user)


def _download(job: ImportJob, what: str) -> FileResponse:
    """The uploaded file or the rejected rows, streamed from private storage."""
    field = job.file if what == "original" else job.rejected_file
    if not field:
        raise Http404(_("No such file."))
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such file.")) from exc
    name = job.original_name
    if what == "rejected":
        name = _("%(name)s-rejected.csv") % {"name": name.rsplit(".", 1)[0]}
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def import_detail(request: AuthedHttpRequest, entity: str, pk: int) -> HttpResponseBase:
    """One import through its steps. While it runs, `#progress` polls this URL; when it stops
    running the poll gets 286 (stop polling) and a refresh, which shows the outcome."""
    importer = _importer(request, entity)
    job = selectors.import_job(user=request.user, pk=pk)
    if job.entity != entity:  # another entity's import: its own page
        own = shell.importers.get(job.entity)
        if own is None:
            raise Http404(_("No such import."))
        return redirect(own.detail_url, pk=job.pk)
    download = request.GET.get("download")
    if download in ("original", "rejected"):
        return _download(job, download)
    if download == "errors":
        response = HttpResponse(imports.errors_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
        return response
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "values":  # the value mapping for the columns as chosen so far (HTMX)
            job.mapping = _posted_mapping(request, job, importer)
            context = {"job": job, "value_sections": _value_sections(request.user, job, importer)}
            return render(request, "imports/detail.html#values", context)
        try:
            if action == "map":
                _map(request, job, importer)
            elif action == "commit":
                imports.import_queue(job=job, actor=request.user)
            else:
                raise DomainError(_("Unknown action."))
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 422
        else:
            return redirect(importer.detail_url, pk=job.pk)
        job.refresh_from_db()
    if is_fragment_request(request):
        if job.status not in RUNNING:
            response = HttpResponseStopPolling()
            response["HX-Refresh"] = "true"
            return response
        return render(request, "imports/detail.html#progress", _context(request, job, importer))
    return render(request, "imports/detail.html", _context(request, job, importer), status=status)


def _context(
    request: AuthedHttpRequest, job: ImportJob, importer: shell.Importer
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "job": job,
        "importer": importer,
        "list_label": capfirst(importer.model._meta.verbose_name_plural),
        "running": job.status in RUNNING,
    }
    if job.status in RUNNING:
        done = imports.import_progress(job)
        total = job.total_rows or 0
        context["progress"] = done
        context["percent"] = min(100, round(100 * done / total)) if total else None
    if job.status in (ImportStatus.VALID, ImportStatus.INVALID):
        context["skips"] = [e for e in job.errors if e.get("skip")][:200]
        context["problems"] = [e for e in job.errors if not e.get("skip")][:200]
    if job.status in imports.MAPPABLE:
        try:
            preview = imports.import_preview(job)
        except DomainError as exc:
            preview, context["preview_error"] = [], exc.message
        context["columns"] = [
            {"index": str(i), "header": h, "target": job.mapping.get(str(i), ""),
             "samples": [row[i] for row in preview if i < len(row) and row[i]][:3]}
            for i, h in enumerate(job.headers)
        ]  # fmt: skip
        context["preview"] = preview
        context["fields"] = list(importer.fields.items())
        owners = shell.assignable(request.user, importer)
        context["owners"] = owners if len(owners) > 1 else []
        context["value_sections"] = _value_sections(request.user, job, importer)
        if importer.options is not None:
            context.update(importer.options.context(job))
    return context


def _value_sections(user: User, job: ImportJob, importer: shell.Importer) -> list[dict[str, Any]]:
    """For each mapped choice or owner column: its values in the file, each with our options
    and the one chosen (before, by our labels, or guessed)."""
    guessed = shell.guess_value_map(importer, job, user, imports.value_choices)
    headers = {target: job.headers[int(i)] for i, target in job.mapping.items()}
    sections = []
    for field, chosen in guessed.items():
        if field == "owner":
            options = [("", _("(the rule for unknown owners)"))]
            options += [(str(u.pk), str(u)) for u in shell.assignable(user, importer)]
            known: dict[str, str] = {}
        else:
            choices = importer.choices[field]
            options = [("", _("(leave empty)")), *choices.choices]
            known = imports.choice_table(choices)
        found = imports.value_choices(job, field)
        if not found:
            continue
        sections.append({
            "field": field,
            "header": headers.get(field, ""),
            "options": options,
            "values": [
                {"raw": v, "selected": str(chosen.get(v.lower(), known.get(v.lower(), "")))}
                for v in found
            ],
        })  # fmt: skip
    return sections
