"""`{% load collab_tags %}`: the comment composer and links for any record's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString

from contacts.activities import comments, feed, notifications

register = template.Library()


@register.simple_tag(takes_context=True)
def comment_composer(context: template.Context, record: Any) -> dict[str, Any] | None:
    """`{% comment_composer record as composer %}`: what the composer template needs, or None
    when the user may not comment. No query (the user's role data is cached)."""
    from contacts.activities.collab_views import CommentForm, _composer

    if not comments.may_comment(context["request"].user):
        return None
    return _composer(record, record._meta.label_lower, CommentForm())


@register.simple_tag(takes_context=True)
def follow_state(context: template.Context, record: Any) -> dict[str, Any]:
    """`{% follow_state record as follow %}`: `follow.following` (one query), `follow.label`."""
    user = context["request"].user
    return {
        "following": feed.is_following(user=user, target=record),
        "label": record._meta.label_lower,
    }


@register.simple_tag
def comments_url(record: Any) -> str:
    """`{% comments_url record as url %}`: the record's comment list (HTMX fragment or page)."""
    return reverse("activities:comments", args=[record._meta.label_lower, record.pk])


@register.simple_tag
def record_url(record: Any) -> str:
    return notifications.record_url(record)


@register.filter
def comment_body(body: str) -> SafeString:
    """A comment's body as HTML: escaped, mentions as badges."""
    return comments.render_body(body)
