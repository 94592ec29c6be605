"""The agent workspace: the ticket list (views with counts, filters, sort, SLA timers, the list
kit's bulk actions: support/bulk.py), a new ticket (a phone call in a few taps), the ticket page
(conversation, reply/note composer with the collision guard, canned responses,
status/priority/assignee, side panel) and attachments served through the ticket's door.

Every ticket comes through `accounts.access`; writes go through `support.services`, whose
`DomainError` is shown beside the field (422) or as a message after a redirect.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import access
from contacts.models import Contact
from contacts.panels import panels_for
from crm import history
from crm.bulk_actions import bulk_response
from crm.errors import DomainError
from crm.exports import export_response
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.lists import list_response
from sales.models import Opportunity
from support import plugins, selectors, services
from support.filters import VIEW_CHOICES
from support.forms import MessageForm, TicketCreateForm, TicketUpdateForm
from support.lists import TICKETS
from support.models import CannedResponse, MessageKind, Ticket, TicketAttachment
from support.rows import message_rows

TEMPLATE = "support/ticket_detail.html"
HISTORY_LIMIT = 20


# --- the list -----------------------------------------------------------------------------


@login_required
@require_GET
def ticket_list(request: AuthedHttpRequest) -> HttpResponse:
    _default_view(request)
    context: dict[str, Any] = {
        "can_add": access.can_add(request.user, Ticket),
    }
    if not is_fragment_request(request):
        context |= _tabs(request, compute=False)
    context["current_view"] = request.GET.get("view")
    return list_response(request, TICKETS, context)


@login_required
@require_GET
def ticket_counts(request: AuthedHttpRequest) -> HttpResponse:
    """The list's view tabs and "by queue" row with their counts, which the list loads after
    its rows when the cache did not have them (`selectors.workspace_counts`)."""
    return render(request, "support/ticket_list.html#tabs", _tabs(request, compute=True))


def _tabs(request: AuthedHttpRequest, *, compute: bool) -> dict[str, Any]:
    """The tabs, each with its count, or with none and `counts_url` to load them (not cached
    and not `compute`); with `view=open` the queues whose tickets the user sees as well."""
    view = request.GET.get("view", "")
    current = request.GET.get("queue", "")
    by_queue = view == "open"
    counts = selectors.workspace_counts(user=request.user, by_queue=by_queue, compute=compute)
    queues = counts.queues if counts is not None and counts.queues is not None else {}
    url = reverse("support:ticket-counts") + "?" + urlencode({"view": view, "queue": current})
    return {
        "views": [
            (key, label, counts.views.get(key) if counts is not None else None)
            for key, label in VIEW_CHOICES
            if key != "all"
        ],
        "count_cap": selectors.COUNT_CAP,
        "current_view": view,
        "current_queue": current,
        # "All open, by queue": the queues whose tickets the user sees (no query: cached).
        "queue_counts": [
            (pk, name, queues.get(pk), str(pk) == current)
            for pk, name in (selectors.queue_options(user=request.user) if by_queue else ())
        ],
        "counts_url": url if counts is None else "",
    }


def _default_view(request: AuthedHttpRequest) -> None:
    """Without `view`, agents land on their own open tickets and everyone else on the open
    ones: the list and its export read the same rows from the same query string."""
    if "view" not in request.GET:
        query = request.GET.copy()
        query["view"] = _default_view_name(request)
        request.GET = query  # type: ignore[assignment]


def _default_view_name(request: AuthedHttpRequest) -> str:
    working = access.has_model_perm(request.user, Ticket, "change")
    return "mine" if working else "open"


@login_required
@require_GET
def ticket_export(request: AuthedHttpRequest) -> HttpResponseBase:
    """The list as the user filtered it, CSV (streamed) or XLSX (crm.exports: the spec's
    export permission, 400 on invalid filters)."""
    _default_view(request)
    return export_response(request, TICKETS)


@login_required
@require_POST
def ticket_bulk(request: AuthedHttpRequest) -> HttpResponse:
    """The list kit's bulk view for tickets (support/bulk.py: only tickets the user sees and
    may work are touched; "all matching" reads the list's default view as the page does)."""
    query = QueryDict(str(request.POST.get("return_query", "")), mutable=True)
    if "view" not in query:
        post = request.POST.copy()
        query["view"] = _default_view_name(request)
        post["return_query"] = query.urlencode()
        request.POST = post  # type: ignore[assignment]
    return bulk_response(request, TICKETS, back="support:ticket-list")


# --- a new ticket -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Ticket):
        raise PermissionDenied(_("Your role does not allow this."))
    requester = None
    contact_id = request.GET.get("contact") or request.POST.get("contact")
    if contact_id:
        requester = access.get_for_user_or_404(request.user, Contact, contact_id)
    form = TicketCreateForm(request.POST or None, user=request.user, requester=requester)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                data=services.TicketInput(
                    subject=data["subject"],
                    queue=data["queue"],
                    channel=data["channel"],
                    description=data["description"],
                    requester=requester,
                    requester_email=data.get("requester_email", ""),
                    requester_name=data.get("requester_name", ""),
                    type=data["type"],
                    priority=data["priority"],
                    assignee=request.user if data["assign_to_me"] else None,
                    tag_names=data.get("tags") or [],
                ),
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # Created in any queue, the ticket is the creator's (owner): they see it.
            messages.success(
                request, _("Ticket %(number)s created.") % {"number": ticket.reference}
            )
            return redirect(ticket.get_absolute_url())
    status = 422 if form.errors else 200
    context = {"form": form, "requester": requester}
    return render(request, "support/ticket_form.html", context, status=status)


# --- the ticket page ----------------------------------------------------------------------


def _ticket(request: AuthedHttpRequest, pk: int) -> Ticket:
    return access.get_for_user_or_404(
        request.user,
        Ticket,
        pk,
        queryset=Ticket.objects.select_related(
            "requester",
            "requester__company",
            "company",
            "queue",
            "assignee",
            "tier",
            "opportunity__stage",
        ),
    )


def _workable(request: AuthedHttpRequest, pk: int) -> Ticket:
    ticket = _ticket(request, pk)
    if not services.may_work(request.user, ticket):
        raise PermissionDenied(_("You may see this ticket but not work on it."))
    return ticket


def _context(
    request: AuthedHttpRequest,
    ticket: Ticket,
    *,
    form: MessageForm | None = None,
    newer: list[Any] | None = None,
) -> dict[str, Any]:
    page = selectors.ticket_page(user=request.user, ticket=ticket)
    can_work = services.may_work(request.user, ticket)
    if form is None:
        form = MessageForm(initial={"seen": page.last_message_id})
    else:
        # The composer keeps what was typed and now knows the newest message.
        data = form.data.copy()  # type: ignore[attr-defined]
        data["seen"] = str(page.last_message_id)
        form.data = data
    text = f"{ticket.subject}\n{ticket.description}"[:500]
    return {
        "ticket": ticket,
        "page": page,
        "can_work": can_work,
        "form": form,
        # The conversation's messages built once in Python (support/rows.py).
        "thread": message_rows(
            ticket,
            page.messages,
            can_work=can_work,
            newer_ids={m.pk for m in newer or ()},
        ),
        "update_form": TicketUpdateForm(
            queue_id=ticket.queue_id,
            tag_ids=ticket.tag_ids,
            initial={
                "status": ticket.status,
                "priority": ticket.priority,
                "assignee": ticket.assignee_id,
            },
        )
        if can_work
        else None,
        # Fragments also refresh the header and the side form (htmx out-of-band swaps).
        "oob": bool(request.htmx),
        "deals": selectors.ticket_deals(user=request.user, ticket=ticket),
        "panels": panels_for(ticket, "side"),  # other apps' (contacts.panels)
        "suggestions": plugins.suggest(text, language=get_language() or "en", public=False),
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def ticket_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket(request, pk)
    template = TEMPLATE
    if is_fragment_request(request):
        template += "#thread"
    return render(request, template, _context(request, ticket))


@login_required
@require_POST
def ticket_message(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Send a reply or add a note. A reply over a message the agent had not seen is refused
    (422) and the conversation comes back with the newer message marked."""
    ticket = _workable(request, pk)
    form = MessageForm(request.POST, request.FILES)
    newer: list[Any] = []
    if form.is_valid():
        data = form.cleaned_data
        canned = _canned(ticket, data.get("canned"))
        try:
            if canned is not None:
                services.canned_apply(
                    ticket=ticket,
                    canned=canned,
                    actor=request.user,
                    body=data["body"],
                    seen_message_id=data["seen"],
                )
            elif data["kind"] == MessageKind.NOTE:
                services.ticket_note(
                    ticket=ticket, body=data["body"], actor=request.user, files=data["attachments"]
                )
            else:
                services.ticket_reply(
                    ticket=ticket,
                    body=data["body"],
                    actor=request.user,
                    seen_message_id=data["seen"],
                    files=data["attachments"],
                )
        except services.Collision as exc:
            newer = exc.newer
            form.add_error("body", exc.message)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            sent = _("Note added.") if data["kind"] == MessageKind.NOTE else _("Reply sent.")
            if not request.htmx:
                messages.success(request, sent)
                return redirect(ticket.get_absolute_url())
            ticket = _ticket(request, pk)
            response = render(request, TEMPLATE + "#thread", _context(request, ticket))
            trigger_client_event(response, "ticket-changed")
            return response
    ticket = _ticket(request, pk)
    template = TEMPLATE + "#thread" if request.htmx else TEMPLATE
    context = _context(request, ticket, form=form, newer=newer)
    return render(request, template, context, status=422)


def _canned(ticket: Ticket, pk: int | None) -> CannedResponse | None:
    if not pk:
        return None
    return next((c for c in selectors.canned_for(ticket=ticket) if c.pk == pk), None)


@login_required
@require_GET
def ticket_canned(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The composer filled with a canned response (merge fields filled in) for this ticket."""
    ticket = _workable(request, pk)
    try:
        canned_id = int(request.GET.get("canned_pick") or request.GET.get("canned") or "")
    except ValueError:
        canned_id = 0
    canned = _canned(ticket, canned_id)  # its body is read on use (deferred)
    seen = request.GET.get("seen", "")
    initial: dict[str, Any] = {"seen": int(seen) if seen.isdigit() else 0}
    if canned is not None:
        initial |= {
            "body": services.canned_render(canned, ticket=ticket, actor=request.user),
            "kind": canned.kind,
            "canned": canned.pk,
        }
    context = {
        "ticket": ticket,
        "form": MessageForm(initial=initial),
        "can_work": True,
        "canned_choice": canned,
        "page": {"canned": selectors.canned_for(ticket=ticket)},
    }
    return render(request, TEMPLATE + "#composer", context)


@login_required
@require_POST
def ticket_update(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Status, priority, assignee and tags from the side form; each changed one goes through
    its service (audited; SLA pauses and due dates kept)."""
    ticket = _workable(request, pk)
    form = TicketUpdateForm(request.POST, queue_id=ticket.queue_id, tag_ids=ticket.tag_ids)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)  # type: ignore[arg-type]
        return redirect(ticket.get_absolute_url())
    data = form.cleaned_data
    try:
        assignee = data.get("assignee")
        if assignee is not None and assignee.pk != ticket.assignee_id:
            ticket = services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        if data.get("priority") and data["priority"] != ticket.priority:
            ticket = services.ticket_set_priority(
                ticket=ticket, priority=data["priority"], actor=request.user
            )
        if data.get("status") and data["status"] != ticket.status:
            ticket = services.ticket_set_status(
                ticket=ticket, status=data["status"], actor=request.user
            )
        if form.tags_changed():
            ticket = services.ticket_set_tags(
                ticket=ticket, names=data.get("tags") or [], actor=request.user
            )
        queue = data.get("queue")
        if queue is not None and queue.pk != ticket.queue_id:
            # Last: the actor may not work (or even see) it in its new queue.
            ticket = services.ticket_move(ticket=ticket, queue=queue, actor=request.user)
            return _moved(request, ticket)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Ticket updated."))
    return redirect(ticket.get_absolute_url())


def _moved(request: AuthedHttpRequest, ticket: Ticket) -> HttpResponse:
    """After a move: the ticket page, or the list when the user no longer sees the ticket
    (another team's queue) rather than a 404, said so."""
    values = {"reference": ticket.reference, "queue": ticket.queue.name}
    if access.can(request.user, ticket, "view"):
        messages.success(request, _("%(reference)s moved to %(queue)s.") % values)
        return redirect(ticket.get_absolute_url())
    messages.success(request, _("%(reference)s moved to %(queue)s; you no longer see it.") % values)
    return redirect(reverse("support:ticket-list"))


@login_required
@require_GET
def attachment_download(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """A ticket's file, only for those who may see the ticket (never a static URL)."""
    attachment = access.get_for_user_or_404(
        request.user,
        TicketAttachment,
        pk,
        queryset=TicketAttachment.objects.select_related("ticket"),
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("This file is no longer stored.")) from exc
    response = FileResponse(handle, as_attachment=True, filename=attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def nav_count(request: AuthedHttpRequest) -> HttpResponse:
    """The navigation's badge: how many open tickets are assigned to the user (empty when
    none or when the role has no tickets). Loaded by htmx after the page."""
    count = 0
    if access.has_model_perm(request.user, Ticket, "view"):
        count = selectors.my_open_count(user=request.user)
    if not count:
        return HttpResponse("")
    label = ngettext(
        "%(n)d open ticket assigned to you", "%(n)d open tickets assigned to you", count
    )
    shown = f"{selectors.COUNT_CAP - 1}+" if count >= selectors.COUNT_CAP else str(count)
    return render(
        request,
        "support/partials/nav_count.html",
        {"shown": shown, "label": label % {"n": count}},
    )


PRESENCE_SECONDS = 40


@login_required
@require_GET
def ticket_presence(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Who else has the ticket open: each open page polls every 15 s, leaving its name and the
    time in the cache for PRESENCE_SECONDS; answers the other names (empty when alone, or when
    the cache is down)."""
    ticket = _ticket(request, pk)
    key = f"support:presence:{ticket.pk}"
    now = time.time()
    seen: dict[str, tuple[str, float]] = cache.get(key) or {}
    seen = {uid: v for uid, v in seen.items() if now - v[1] < PRESENCE_SECONDS}
    seen[str(request.user.pk)] = (str(request.user), now)
    cache.set(key, seen, PRESENCE_SECONDS + 20)
    others = sorted(name for uid, (name, _t) in seen.items() if uid != str(request.user.pk))
    return render(request, "support/partials/presence.html", {"others": others})


@login_required
@require_POST
def ticket_merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Merge this ticket into another one, named by its number ("T-000123" or "123")."""
    ticket = _workable(request, pk)
    target = _by_number(request, request.POST.get("target", ""))
    if target is None:
        messages.error(request, _("No ticket with that number that you can see."))
        return redirect(ticket.get_absolute_url())
    try:
        target = services.ticket_merge(source=ticket, target=target, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(ticket.get_absolute_url())
    except PermissionDenied:
        messages.error(
            request, _("You may not work on %(reference)s.") % {"reference": target.reference}
        )
        return redirect(ticket.get_absolute_url())
    messages.success(
        request,
        _("%(source)s was merged into this ticket.") % {"source": ticket.reference},
    )
    return redirect(target.get_absolute_url())


@login_required
@require_POST
def ticket_split(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Split a customer's message (`message=<id>`) into a new ticket, optionally with its own
    `subject`; the new ticket's page follows."""
    ticket = _workable(request, pk)
    raw = request.POST.get("message", "")
    try:
        new = services.ticket_split(
            ticket=ticket,
            message_id=int(raw) if raw.isdigit() and len(raw) < 15 else 0,
            subject=request.POST.get("subject", ""),
            actor=request.user,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(ticket.get_absolute_url())
    except PermissionDenied:
        messages.error(request, _("You may not add tickets."))
        return redirect(ticket.get_absolute_url())
    messages.success(request, _("Split from %(reference)s.") % {"reference": ticket.reference})
    return redirect(new.get_absolute_url())


def _by_number(request: AuthedHttpRequest, text: str) -> Ticket | None:
    """A ticket the user may see, by its number ("T-000123" or "123")."""
    number = text.strip().upper().removeprefix("T-").lstrip("0")
    if not number.isdigit() or len(number) >= 15:
        return None
    return selectors.ticket_list(user=request.user).filter(number=int(number)).first()


@login_required
@require_POST
def ticket_link(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Relate this ticket to another one by number, or with `unlink=<id>` undo a relation."""
    ticket = _workable(request, pk)
    unlink = request.POST.get("unlink", "")
    if unlink.isdigit():
        other = selectors.ticket_list(user=request.user).filter(pk=int(unlink)).first()
    else:
        other = _by_number(request, request.POST.get("target", ""))
    if other is None:
        messages.error(request, _("No ticket with that number that you can see."))
        return redirect(ticket.get_absolute_url())
    try:
        services.ticket_link(ticket=ticket, other=other, actor=request.user, linked=not unlink)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Related tickets updated."))
    return redirect(ticket.get_absolute_url())


@login_required
@require_POST
def ticket_opportunity(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Link the ticket to a deal the user may see (`opportunity=<id>`), or unlink it
    (`opportunity=` empty). A deal the user cannot see is refused like a missing one (422)."""
    ticket = _workable(request, pk)
    raw = request.POST.get("opportunity", "").strip()
    opportunity = None
    if raw:
        found = (
            access.scoped(request.user, Opportunity).filter(pk=int(raw)).first()
            if raw.isdigit() and len(raw) < 19
            else None
        )
        if found is None:
            messages.error(request, _("No such deal, or you do not have access to it."))
            return render(request, TEMPLATE, _context(request, ticket), status=422)
        opportunity = found
    services.ticket_set_opportunity(ticket=ticket, opportunity=opportunity, actor=request.user)
    messages.success(request, _("Deal linked.") if opportunity else _("Deal unlinked."))
    return redirect(ticket.get_absolute_url())


@login_required
@require_GET
def ticket_history(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The ticket's audit history (changes, assignments, escalations by "System"), newest
    first: loaded when the page's History is opened, so the page itself reads none of it."""
    ticket = _ticket(request, pk)
    entries = history.history_entries(ticket, limit=HISTORY_LIMIT)
    items = history.history_items(entries, Ticket, viewer=request.user)
    return render(request, "support/partials/ticket_history.html", {"history_items": items})
