"""What the activities URLs need, for the permission matrix (tests/matrix.py explains the terms).

Interactions and tasks are not scoped by their own owner alone: a row linked to a contact is
visible to whoever may see the contact (and a task to its assignee); changing it also takes the
row's owner/team rules. `_may` states that rule from the declarations, not from the code."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import Scope, User
from contacts.activities import services
from contacts.activities.models import Channel, Interaction, Meeting, Notification, Task
from contacts.models import Company, Contact
from tests import matrix
from tests.contacts.factories import ContactFactory


def _contact(owner: User, admin: User) -> Contact:
    return ContactFactory(owner=owner, actor=admin, given_name=f"Activity {owner.pk}")


def _interaction(owner: User, admin: User) -> Interaction:
    data = services.InteractionInput(
        channel=Channel.CALL,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        contact=_contact(owner, admin),
    )
    interaction = services.interaction_log(data=data, actor=admin)
    # As if the owner had logged it (they may lack the permission to).
    Interaction.objects.filter(pk=interaction.pk).update(owner=owner, team=owner.team)
    interaction.owner, interaction.team = owner, owner.team
    return interaction


def _task(owner: User, admin: User) -> Task:
    data = services.TaskInput(title="Matrix task", assignee=owner, contact=_contact(owner, admin))
    return services.task_create(data=data, actor=admin)


def _may(user: User, obj: Interaction | Task, action: str) -> bool:
    if user.is_superuser:
        return True
    if not matrix.has_perm(user, type(obj), "view"):
        return False
    linked = [r for r in (obj.contact, obj.company) if r is not None]
    own_task = isinstance(obj, Task) and obj.owner_id == user.pk
    sees = own_task or any(matrix.may(user, r, "view") for r in linked)
    if action == "view" or not sees:
        return sees
    if not matrix.has_perm(user, type(obj), action):
        return False
    # The row's own owner/team rules.
    scope = matrix._scope(user, action)
    if obj.owner_id == user.pk or scope == Scope.ALL:
        return True
    return scope == Scope.TEAM and user.team_id is not None and obj.team_id == user.team_id


matrix.records(Interaction, make=_interaction, may=_may)  # type: ignore[arg-type]
matrix.records(Task, make=_task, may=_may)  # type: ignore[arg-type]

matrix.route("activities:my-work", get="login")
matrix.route("activities:task-create", Task, get="add", post="add")

for kind, model in (("contact", Contact), ("company", Company)):
    # Logging on a record: see the record, and the role may add interactions (tasks).
    matrix.route(
        f"activities:{kind}-log",
        model,
        get="view",
        post="view",
        perm="activities.add_interaction",
    )
    matrix.route(
        f"activities:{kind}-task-create", model, get="view", post="view", perm="activities.add_task"
    )
    matrix.route(f"activities:{kind}-interactions", model, get="view")

matrix.route("activities:interaction-edit", Interaction, get="change", post="change")
matrix.route("activities:interaction-archive", Interaction, post="change")
matrix.route("activities:task-edit", Task, get="change", post="change")
matrix.route("activities:task-complete", Task, get="change", post="change")
matrix.route("activities:task-reopen", Task, post="change")


# --- collaboration (contacts/activities/collab_urls.py) --------------------------------------


def _notification(owner: User, admin: User) -> Notification:
    from django.contrib.contenttypes.models import ContentType

    contact = _contact(owner, admin)
    return Notification.objects.create(
        recipient=owner,
        kind="mention",
        target_type=ContentType.objects.get_for_model(contact),
        target_id=contact.pk,
        text="Matrix notification",
        url=contact.get_absolute_url(),
    )


matrix.records(
    Notification,
    make=_notification,
    may=lambda user, obj, action: obj.recipient_id == user.pk,  # type: ignore[attr-defined]
)
matrix.route("activities:notifications", get="login")
matrix.route("activities:notification-count", get="login")
matrix.route("activities:notification-settings", get="login", post="login")
matrix.route("activities:notification-menu", get="login")
matrix.route("activities:notification-read-all", post="login")
matrix.route("activities:notification-read", Notification, post="view")
for name, checks in (
    ("activities:comments", {"get": "view"}),
    ("activities:comment-mentions", {"get": "view"}),
    ("activities:comment-create", {"post": "view", "perm": "activities.add_comment"}),
):
    matrix.route(name, Contact, kwargs={"label": "contacts.contact"}, **checks)


# --- email (contacts/activities/mail) ---------------------------------------------------------

from contacts.activities.mail.models import MailAttachment, MailMessage, MailStatus  # noqa: E402
from crm.models import InboundMessage, InboundStatus  # noqa: E402


def _mail_attachment(owner: User, admin: User) -> MailAttachment:
    """An attachment of a received email on the owner's contact: seen by whoever sees it."""
    from django.core.files.base import ContentFile

    interaction = _interaction(owner, admin)
    mail = MailMessage.objects.create(
        interaction=interaction,
        contact=interaction.contact,
        message_id=f"<matrix-{interaction.pk}@example.org>",
        thread_id=f"<matrix-{interaction.pk}@example.org>",
        status=MailStatus.RECEIVED,
    )
    attachment = MailAttachment(mail=mail, filename="matrix.txt", size=6)
    attachment.file.save("matrix.txt", ContentFile(b"matrix"))
    return attachment


def _inbound_message(owner: User, admin: User) -> InboundMessage:
    return InboundMessage.objects.create(
        source="raw",
        mailbox="crm@example.com",
        message_id=f"<matrix-{owner.pk}-{InboundMessage.objects.count()}@example.org>",
        from_address="stranger@example.org",
        subject="Matrix",
        raw=b"From: Stranger <stranger@example.org>\r\nSubject: Matrix\r\n\r\nHello\r\n",
        status=InboundStatus.UNMATCHED,
        reason="No record matches the sender.",
    )


matrix.records(
    MailAttachment,
    make=_mail_attachment,
    may=lambda user, obj, action: action == "view" and _may(user, obj.mail.interaction, action),  # type: ignore[attr-defined]
)
# The unmatched-mail queue is for roles that may sort mail; to others its messages do not exist.
matrix.records(
    InboundMessage,
    make=_inbound_message,
    may=lambda user, obj, action: matrix.has_perm(user, MailMessage, "triage"),
)
matrix.route(
    "activities:mail-compose", Contact, get="view", post="view", perm="activities.add_interaction"
)
matrix.route("activities:mail-detail", Interaction, get="view")
matrix.route("activities:mail-html", Interaction, get="view")
matrix.route("activities:mail-attachment", MailAttachment, get="view")
matrix.route("activities:mail-unmatched", MailMessage, get="triage")
matrix.route("activities:mail-unmatched-detail", InboundMessage, get="view")
matrix.route("activities:mail-unmatched-attach", InboundMessage, post="view")
matrix.route(
    "activities:mail-unmatched-create", InboundMessage, post="view", perm="contacts.add_contact"
)
matrix.route("activities:home", get="login")
matrix.route("activities:my-work-count", get="login")
matrix.route("activities:feed", get="login")
matrix.route("activities:follow", Contact, post="view", kwargs={"label": "contacts.contact"})
matrix.route("activities:calendar", get="login")
matrix.route("activities:meeting-start", Interaction, get="add")
matrix.route("activities:task-reschedule", Task, post="change")
matrix.public("activities:calendar-feed")  # the URL's secret token is the key
# Tracking (contacts/activities/tracking): the email's signed token is the key; page views are
# checked against the registered site's allowed origins.
matrix.public("tracking:open", "tracking:click", "tracking:page-view")
# One's own mailbox: the pages take no id.
matrix.route("activities:mailbox", get="login", post="login")
matrix.route("activities:mailbox-sync", post="login")
matrix.route("activities:mailbox-disconnect", post="login")
matrix.route("activities:mailbox-tracking", post="login")
matrix.route("activities:mailbox-oauth-start", post="login", kwargs={"provider": "google"})
matrix.route("activities:mailbox-oauth-callback", get="login")


# --- meetings (contacts/activities/meetings/) ---------------------------------------------


def _meeting(owner: User, admin: User) -> Meeting:
    from contacts.activities.meetings import services as meeting_services

    start = timezone.now() + dt.timedelta(days=1)
    data = meeting_services.MeetingInput(
        title="Matrix meeting", start=start, end=start + dt.timedelta(hours=1)
    )
    meeting = meeting_services.meeting_schedule(
        record=_contact(owner, admin), data=data, actor=admin
    )
    Interaction.objects.filter(pk=meeting.interaction_id).update(owner=owner, team=owner.team)
    meeting.interaction.owner, meeting.interaction.team = owner, owner.team
    return meeting


matrix.records(
    Meeting,
    make=_meeting,
    may=lambda user, obj, action: _may(user, obj.interaction, action),  # type: ignore[attr-defined]
)
for kind, model in (("contact", Contact), ("company", Company)):
    matrix.route(
        f"activities:{kind}-meeting-new",
        model,
        get="view",
        post="view",
        perm="activities.add_interaction",
    )
matrix.route("activities:meeting", Meeting, get="view", post="change")
matrix.route("activities:meeting-cancel", Meeting, post="change")
