"""Comments on any record, with @mentions.

A comment's body mentions a colleague as `@[Name](user id)` (the composer's autocomplete writes
it). Whoever may see a record may read its comments; writing one also takes the role permission
`activities.add_comment`. A mentioned user is told (notification and email) only if they may see
the record (`notifications.notify` checks it); the others are ignored, silently: telling the
author "X may not see this" would tell them about X's rights, not about the record.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import BooleanField, F, Func, Model, Q, QuerySet
from django.http import Http404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from contacts import timeline
from contacts.activities.collab_models import Comment, NotificationKind
from contacts.activities.notifications import commentable_model, may_see, notify, notify_many
from contacts.models import Company, Contact
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

MENTION = re.compile(r"@\[([^\]\n]{1,100})\]\((\d{1,12})\)")
MAX_BODY = 10_000
MAX_MENTIONS = 20
SUGGESTIONS = 8
# Candidates checked per autocomplete: each costs the permission check of one user.
CANDIDATES = 25


def record_get(*, user: User, label: str, pk: object) -> Model:
    """The record `label` ("contacts.contact") `pk` if `user` may see it, else a 404 (unknown
    model, a model that takes no comments, a missing or invisible record alike)."""
    from contacts.activities.models import Interaction, Task
    from contacts.activities.selectors import interaction_get, task_get

    model = commentable_model(label)
    if model is None:
        raise Http404(_("No such record, or you do not have access to it."))
    if model is Interaction:
        return interaction_get(user=user, pk=pk)
    if model is Task:
        return task_get(user=user, pk=pk)
    return access.get_for_user_or_404(user, model, pk)


def mentioned_ids(body: str) -> list[int]:
    """The user ids a body mentions, in order, each once."""
    seen: dict[int, None] = {}
    for match in MENTION.finditer(body):
        seen.setdefault(int(match.group(2)), None)
    return list(seen)[:MAX_MENTIONS]


def render_body(body: str) -> SafeString:
    """The body as HTML: escaped, mentions as badges, line breaks kept."""
    parts: list[str] = []
    last = 0
    for match in MENTION.finditer(body):
        parts.append(escape(body[last : match.start()]))
        parts.append(f'<span class="badge text-bg-info">@{escape(match.group(1))}</span>')
        last = match.end()
    parts.append(escape(body[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))


def plain_body(body: str) -> str:
    """The body as plain text (mentions as @Name), for notifications and emails."""
    return MENTION.sub(lambda m: f"@{m.group(1)}", body)


def comment_create(*, target: Model, body: str, actor: User) -> Comment:
    """Add a comment to `target` and tell the users it mentions who may see the record (and,
    for the record's owner, that someone commented). Atomic: the comment, its mentions and the
    notifications (their emails go after the commit)."""
    from accounts.models import User as UserModel

    if not may_see(actor, target):
        raise Http404(_("No such record, or you do not have access to it."))
    access.require_model_perm(actor, Comment, "add")
    body = body.strip()
    if not body:
        raise DomainError(_("Write something first."), field="body")
    if len(body) > MAX_BODY or "\x00" in body:
        raise DomainError(
            _("A comment may be at most %(max)d characters.") % {"max": MAX_BODY}, field="body"
        )
    label = str(target)
    excerpt = plain_body(body)
    excerpt = excerpt if len(excerpt) <= 140 else excerpt[:139] + "…"
    with transaction.atomic(), set_actor(actor):
        comment = Comment.objects.create(
            author=actor,
            target_type=ContentType.objects.get_for_model(target),
            target_id=target.pk,
            body=body,
        )
        users = UserModel.objects.filter(pk__in=mentioned_ids(body), is_active=True)
        made = notify_many(
            recipients=users,
            kind=NotificationKind.MENTION,
            target=target,
            actor=actor,
            text=format_lazy(
                gettext_lazy("{actor} mentioned you on {record}: {excerpt}"),
                actor=str(actor),
                record=label,
                excerpt=excerpt,
            ),
        )
        told = sorted(made)
        if told:
            comment.mentioned.set(told)
        owner_id = getattr(target, "owner_id", None)
        if owner_id and owner_id not in told and owner_id != actor.pk:
            owner = UserModel.objects.filter(pk=owner_id, is_active=True).first()
            if owner is not None:
                notify(
                    recipient=owner,
                    kind=NotificationKind.COMMENT,
                    target=target,
                    actor=actor,
                    text=format_lazy(
                        gettext_lazy("{actor} commented on {record}: {excerpt}"),
                        actor=str(actor),
                        record=label,
                        excerpt=excerpt,
                    ),
                    email=False,
                )
    return comment


# --- reads ---------------------------------------------------------------------------------------


def record_comments(*, target: Model, limit: int = 50) -> list[Comment]:
    """A record's newest comments (the caller fetched the record through the permission layer).
    One query (index comment_target)."""
    return list(
        Comment.objects.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=target.pk
        )
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


def mention_candidates(*, user: User, target: Model, query: str) -> list[User]:
    """Colleagues `user` may mention on `target`: active users other than `user`, matching
    `query` by name or email, who may see the record. At most CANDIDATES users are checked
    (one permission check each), SUGGESTIONS returned."""
    from accounts.models import User as UserModel

    query = query.strip()[:50]
    users: QuerySet[UserModel] = UserModel.objects.filter(is_active=True).exclude(pk=user.pk)
    if query:
        for word in query.split()[:3]:
            users = users.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__istartswith=word)
            )
    found: list[User] = []
    for candidate in users.order_by("first_name", "last_name", "id")[:CANDIDATES]:
        if may_see(candidate, target):
            found.append(candidate)
            if len(found) == SUGGESTIONS:
                break
    return found


class _EqualsAny(Func):
    """`column = ANY(array)` as a condition."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()


def comment_timeline_entries(
    user: User, subject: Contact | Company, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """Comments on the subject (a company's include those on its people), newest first. One
    query (index comment_target).

    A company's people are `target_id = ANY(ARRAY(SELECT ...))`, not `IN (SELECT ...)`: inside
    the OR the latter is a hashed subplan the planner guesses matches half the table, so it
    walked the whole comment table by creation time (50,000 comments: 50,315 blocks, 235 ms,
    for a company with 14); the array is one index probe per person (bitmap), whatever the
    table's size."""
    if not access.has_model_perm(user, Comment, "view"):
        return []
    ct = ContentType.objects.get_for_model(type(subject))
    where = Q(target_type=ct, target_id=subject.pk)
    if isinstance(subject, Company):
        people = ArraySubquery(Contact.objects.filter(company_id=subject.pk).values("pk"))
        where |= Q(
            _EqualsAny(F("target_id"), people),
            target_type=ContentType.objects.get_for_model(Contact),
        )
    qs = Comment.objects.filter(where)
    qs = timeline.keyset_before(qs, before, time_field="created_at")
    rows = qs.select_related("author")[:limit]
    return [timeline.TimelineEntry("comment", c.created_at, c.pk, c) for c in rows]


def may_comment(user: User) -> bool:
    return access.can_add(user, Comment)
