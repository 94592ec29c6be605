"""Email pages: the composer on a contact, an email with its thread and attachments, and the
unmatched-mail queue (messages no handler took, for users who may sort mail).

An email and its attachments are visible exactly when its interaction is
(`selectors.visible_row`): another team's is a 404, and attachments are streamed from private
storage only after that check.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from contacts.activities import selectors, targets
from contacts.activities.mail import html, mailboxes, oauth, services
from contacts.activities.mail.forms import (
    AttachForm,
    ComposeForm,
    MailboxForm,
    MailboxTrackingForm,
)
from contacts.activities.mail.models import MailAttachment, Mailbox, MailMessage, MailTemplate
from contacts.activities.models import Interaction
from contacts.activities.tracking import services as tracking
from contacts.models import Contact
from crm import inbound, mailin
from crm.errors import DomainError
from crm.http import AuthedHttpRequest
from crm.models import InboundMessage, InboundStatus

QUEUE_PAGE = 50
QUEUED = (InboundStatus.UNMATCHED, InboundStatus.FAILED)


def _not_found() -> str:
    return _("No such record, or you do not have access to it.")


@login_required
@require_http_methods(["GET", "POST"])
def mail_compose(request: AuthedHttpRequest, pk: int, label: str = "") -> HttpResponse:
    """Write an email to a contact (`?template=` fills subject and body from a template with
    the contact's merge fields; `?reply=<email id>` answers one of the contact's emails, in its
    thread), or with `label` to a registered record's address (`targets.mail_fields`: a lead;
    its target's rights). Sending queues it; a worker sends it after the commit."""
    record = targets.record_get(user=request.user, label=label, pk=pk) if label else None
    contact = None if label else access.get_for_user_or_404(request.user, Contact, pk)
    if not access.can_add(request.user, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    reply, addresses = None, []
    page: Any = record or contact  # where the form goes back to
    if record is not None:
        fields = targets.mail_fields(record)
        if fields is None:
            raise Http404(_not_found())
        if targets.closed_reason(record):
            raise PermissionDenied(targets.closed_reason(record))
        addresses = [fields["email"]] if fields.get("email") else []
    elif contact is not None:
        addresses = list(contact.emails.values_list("email", flat=True))
        reply = _reply_to(contact, request.POST.get("reply") or request.GET.get("reply", ""))
    status = 200
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES, addresses=addresses)
        if form.is_valid():
            data = services.OutgoingMail(
                to=form.cleaned_data["to"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
                reply_to=reply,
                formatted=form.cleaned_data["formatted"],
            )
            try:
                services.mail_compose(contact=contact, record=record, data=data, actor=request.user)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Email queued for sending."))
                return redirect(page.get_absolute_url())
        status = 422
    else:
        initial: dict[str, object] = {"to": addresses[0] if addresses else ""}
        template = _template(request.GET.get("template", ""))
        if template is not None and addresses:
            initial["template"] = template.pk
            initial["subject"], initial["body"] = services.template_render(
                template=template,
                contact=contact,
                to=addresses[0],
                sender=request.user,
                record=record,
            )
        if reply is not None:
            if reply.from_address in addresses:
                initial["to"] = reply.from_address
            subject = reply.interaction.subject
            initial["subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
            quoted = "\n".join(f"> {line}" for line in reply.interaction.body.splitlines()[:200])
            initial["body"] = f"\n\n{quoted}"
        form = ComposeForm(initial=initial, addresses=addresses)
    # The page names whom it writes to as "contact" (a contact or the registered record).
    context = {"form": form, "contact": record or contact, "addresses": addresses, "reply": reply}
    return render(request, "activities/mail/compose.html", context, status=status)


def _reply_to(contact: Contact, value: str) -> MailMessage | None:
    """One of the contact's emails (the contact is visible, so its emails are)."""
    if not value.isdigit() or len(value) > 18:
        return None
    return (
        MailMessage.objects.filter(pk=int(value), contact=contact)
        .select_related("interaction")
        .first()
    )


def _template(value: str) -> MailTemplate | None:
    if not value.isdigit():
        return None
    return MailTemplate.objects.filter(pk=int(value), active=True).first()


@login_required
@require_http_methods(["GET"])
def mail_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """An email interaction (by its id) with its headers, attachments and the rest of its thread
    the user may see; an email logged by hand shows its notes. Bounded queries: the thread is one
    query, its visibility is checked per row from the cached rules."""
    interaction = selectors.interaction_get(user=request.user, pk=pk)
    mail = MailMessage.objects.filter(interaction=interaction).first()
    thread: list[MailMessage] = []
    if mail is not None:
        rows = (
            MailMessage.objects.filter(thread_id=mail.thread_id, contact=mail.contact)
            .exclude(pk=mail.pk)
            .select_related("interaction__contact", "interaction__company")
            .order_by("created_at")[:50]
        )
        thread = [m for m in rows if selectors.visible_row(request.user, m.interaction)]
    context = {
        "mail": mail,
        "interaction": interaction,
        "attachments": list(mail.attachments.all()) if mail else [],
        "thread": thread,
        "may_reply": access.can_add(request.user, Interaction),
        "images": request.GET.get("images") == "1",
        # Opens and clicks of a tracked email (one query).
        "activity": tracking.email_activity(mail.pk) if mail and mail.tracked else None,
    }
    return render(request, "activities/mail/detail.html", context)


@login_required
@require_http_methods(["GET"])
@xframe_options_sameorigin
def mail_html(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The sanitised HTML body of an email (by its interaction id), for the sandboxed frame on
    the email's page, under its own strict CSP (mail/html.py); remote images only with
    `?images=1`. 404 for an email the user may not see; an empty page for one without HTML."""
    interaction = selectors.interaction_get(user=request.user, pk=pk)
    body = MailMessage.objects.filter(interaction=interaction).values_list("html", flat=True)
    document = (
        '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
        "</head><body>" + (body.first() or "") + "</body></html>"
    )
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response._csp_config = html.frame_policy(images=request.GET.get("images") == "1")  # type: ignore[attr-defined]
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET"])
def mail_attachment(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """Download an attachment: only for users who see its email (else 404)."""
    try:
        attachment = MailAttachment.objects.select_related(
            "mail__interaction__contact", "mail__interaction__company"
        ).get(pk=pk)
    except MailAttachment.DoesNotExist as exc:
        raise Http404(_not_found()) from exc
    if not selectors.visible_row(request.user, attachment.mail.interaction):
        raise Http404(_not_found())
    try:
        handle = attachment.file.open("rb")
    except OSError as exc:
        raise Http404(_("The file is missing.")) from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )


# --- the unmatched-mail queue -----------------------------------------------------------------


def _may_triage(request: AuthedHttpRequest) -> bool:
    return access.has_model_perm(request.user, MailMessage, "triage")


def _require_triage(request: AuthedHttpRequest) -> None:
    if not _may_triage(request):
        raise PermissionDenied(_("You may not sort unmatched mail."))


@login_required
@require_http_methods(["GET"])
def unmatched_list(request: AuthedHttpRequest) -> HttpResponse:
    """Mail no handler took (unknown sender, unreadable, too big), newest first, with why.
    One query (index crm_inbound_queue); `?before=<id>` pages back."""
    _require_triage(request)
    rows = InboundMessage.objects.filter(status__in=QUEUED).defer("raw").order_by("-id")
    before = request.GET.get("before", "")
    if before:
        if not before.isdigit() or len(before) > 18:
            messages.error(request, _("That page link is not valid; showing the newest mail."))
        else:
            rows = rows.filter(pk__lt=int(before))
    page = list(rows[: QUEUE_PAGE + 1])
    context = {
        "rows": page[:QUEUE_PAGE],
        "next_before": page[QUEUE_PAGE - 1].pk if len(page) > QUEUE_PAGE else None,
    }
    return render(request, "activities/mail/unmatched_list.html", context)


def _queued(request: AuthedHttpRequest, pk: int) -> InboundMessage:
    """A received message, for users who sort mail; for anyone else it does not exist."""
    row = None
    if _may_triage(request):
        row = InboundMessage.objects.filter(pk=pk).defer("raw").first()
    if row is None:
        raise Http404(_not_found())
    return row


def _preview(row: InboundMessage) -> inbound.InboundMail | None:
    if row.size > mailin.process_limit():
        return None
    return inbound.parse(mailin.raw_bytes(row), mailbox=row.mailbox)


@login_required
@require_http_methods(["GET"])
def unmatched_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A queued message (headers, text, reason) with contacts to attach it to: `?q=` searches
    the contacts the user may see by name or address (20 at most)."""
    row = _queued(request, pk)
    return _render_detail(request, row, AttachForm())


def _render_detail(
    request: AuthedHttpRequest, row: InboundMessage, form: AttachForm, status: int = 200
) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    term = q or row.from_address
    candidates: list[Contact] = []
    if term:
        candidates = list(
            access.scoped(request.user, Contact)
            .filter(archived_at__isnull=True)
            .filter(
                Q(emails__email__iexact=term)
                | Q(display_name__icontains=term)
                | Q(emails__email__icontains=term)
            )
            .distinct()
            .order_by("display_name", "id")[:20]
        )
    context = {
        "row": row,
        "mail": _preview(row),
        "queued": row.status in QUEUED,
        "q": q,
        "candidates": candidates,
        "form": form,
        "may_create": access.can_add(request.user, Contact),
    }
    return render(request, "activities/mail/unmatched_detail.html", context, status=status)


@login_required
@require_POST
def unmatched_attach(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Log a queued message on a contact the user may see (POST `contact`)."""
    row = _queued(request, pk)
    form = AttachForm(request.POST)
    if form.is_valid():
        contact = access.scoped(request.user, Contact).filter(pk=form.cleaned_data["contact"])
        found = contact.first()
        if found is None:
            form.add_error("contact", _not_found())
        else:
            try:
                mail = services.unmatched_attach(inbound_row=row, contact=found, actor=request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("The email is now on %(contact)s's timeline.") % {"contact": found}
                )
                return redirect("activities:mail-detail", pk=mail.interaction_id)
    return _render_detail(request, row, form, status=422)


@login_required
@require_POST
def unmatched_create_contact(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Create a contact from a queued message's sender and log the message on it."""
    row = _queued(request, pk)
    access.require_model_perm(request.user, Contact, "add")
    try:
        mail = services.unmatched_create_contact(inbound_row=row, actor=request.user)
    except DomainError as exc:
        form = AttachForm()
        form.add_error(None, exc.message)
        return _render_detail(request, row, form, status=422)
    messages.success(request, _("Contact created; the email is on its timeline."))
    return redirect("activities:mail-detail", pk=mail.interaction_id)


# --- the user's own mailbox ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_page(request: AuthedHttpRequest) -> HttpResponse:
    """Connect one's own IMAP/SMTP account, and see what was synced and when (only one's own:
    the page has no id)."""
    box = mailboxes.mailbox_of(request.user)
    status = 200
    if request.method == "POST":
        form = MailboxForm(request.POST)
        if form.is_valid():
            try:
                mailboxes.mailbox_connect(
                    data=mailboxes.MailboxInput(**form.cleaned_data), actor=request.user
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Mailbox saved; the first sync is queued."))
                return redirect("activities:mailbox")
        status = 422
    else:
        initial = {}
        if box is not None:
            initial = {
                f: getattr(box, f)
                for f in MailboxForm.base_fields
                if f not in ("imap_password", "smtp_password")
            }
        form = MailboxForm(initial=initial)
    recent: list[MailMessage] = []
    if box is not None:
        rows = (
            MailMessage.objects.filter(mailbox=box)
            .select_related("interaction__contact", "interaction__company", "contact")
            .order_by("-id")[:20]
        )
        # Synced by this user, but the contact may since have moved out of their sight.
        recent = [m for m in rows if selectors.visible_row(request.user, m.interaction)]
    context = {
        "form": form,
        "box": box,
        "recent": recent,
        "oauth_providers": sorted(oauth.providers()),
        "tracking_form": _tracking_form(box),
        "tracking_global": _tracking_global(),
    }
    return render(request, "activities/mail/mailbox.html", context, status=status)


def _tracking_form(box: Mailbox | None) -> MailboxTrackingForm | None:
    if box is None:
        return None
    return MailboxTrackingForm(
        initial={"track_opens": box.track_opens, "track_clicks": box.track_clicks}
    )


def _tracking_global() -> tuple[bool, bool]:
    return services.tracking_switches()


@login_required
@require_POST
def mailbox_tracking(request: AuthedHttpRequest) -> HttpResponse:
    """The user's own tracking switch for email sent through their mailbox (only their own:
    the URL has no id)."""
    form = MailboxTrackingForm(request.POST)
    form.is_valid()  # two check boxes: always valid (absent is off)
    try:
        mailboxes.mailbox_tracking_set(actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Tracking settings saved."))
    return redirect("activities:mailbox")


@login_required
@require_POST
def mailbox_sync_now(request: AuthedHttpRequest) -> HttpResponse:
    try:
        mailboxes.mailbox_sync_request(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sync queued."))
    return redirect("activities:mailbox")


@login_required
@require_POST
def mailbox_disconnect(request: AuthedHttpRequest) -> HttpResponse:
    mailboxes.mailbox_disconnect(actor=request.user)
    messages.success(request, _("Mailbox disconnected. Emails already on timelines stay."))
    return redirect("activities:mailbox")


# --- OAuth2 sign-in for one's own mailbox (oauth.py) ------------------------------------------

OAUTH_SESSION_KEY = "mailbox_oauth"


def _oauth_redirect_uri() -> str:
    """The callback registered with the providers: the CRM's public address, not the request's
    Host header."""
    return f"{settings.CRM_BASE_URL.rstrip('/')}{reverse('activities:mailbox-oauth-callback')}"


@login_required
@require_POST
def mailbox_oauth_start(request: AuthedHttpRequest, provider: str) -> HttpResponse:
    """Send the user to the provider to let the CRM read and send their mail; the state ties
    the answer to this session."""
    address = request.POST.get("address", "").strip()
    try:
        validate_email(address)
    except ValidationError:
        messages.error(request, _("Give the email address of the account to connect."))
        return redirect("activities:mailbox")
    state = secrets.token_urlsafe(24)
    try:
        url = oauth.authorize_url(
            name=provider, redirect_uri=_oauth_redirect_uri(), state=state, login_hint=address
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("activities:mailbox")
    request.session[OAUTH_SESSION_KEY] = {"state": state, "provider": provider, "address": address}
    return redirect(url)


@login_required
@require_GET
def mailbox_oauth_callback(request: AuthedHttpRequest) -> HttpResponse:
    """The provider's answer: exchange the code for tokens and connect the mailbox. A state
    that is not this session's is a 400 (a forged or replayed answer); none at all goes back to
    the mailbox page."""
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not state:  # opened by hand or reloaded: nothing to finish
        messages.info(request, _("No sign-in with a mail provider is under way."))
        return redirect("activities:mailbox")
    # As bytes: compare_digest refuses str holding anything but ASCII (a TypeError, a 500).
    if not pending or not secrets.compare_digest(str(pending["state"]).encode(), state.encode()):
        return HttpResponse(_("This sign-in answer is not for this session."), status=400)
    if request.GET.get("error") or not request.GET.get("code"):
        messages.error(request, _("The mail provider did not allow access."))
        return redirect("activities:mailbox")
    try:
        oauth.mailbox_oauth_connect(
            actor=request.user,
            name=pending["provider"],
            code=request.GET["code"],
            redirect_uri=_oauth_redirect_uri(),
            address=pending["address"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    except oauth.TokenUnavailable:
        messages.error(request, _("The mail provider could not be reached. Try again."))
    else:
        messages.success(request, _("Mailbox connected; the first sync is queued."))
    return redirect("activities:mailbox")
