"""Tokens, link rewriting and recording for email and page-view tracking (see __init__.py).

Recording is cheap on purpose (a pixel is loaded by every mail client): one statement inserts
the event unless the same one was recorded within the de-duplication window, the email is not
tracked or tracking is switched off. Only an event that was written queues the `on_tracked`
hooks, through `crm.outbox` in the same transaction (Redis down: the relay sends it later).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse

from contacts.activities.mail import html as mail_html
from contacts.activities.tracking.models import MAX_URL, EmailEvent, EmailEventKind, PageView
from crm import outbox
from crm.registry import Registry
from crm.visitors import VisitorCookie

log = logging.getLogger(__name__)

OPEN_SALT = "activities.tracking.open"
CLICK_SALT = "activities.tracking.click"
EVENT_TASK = "contacts.activities.tracking.tasks.tracking_event"
PRUNE_TASK = "contacts.activities.tracking.tasks.page_views_prune"
# The visitor id a tracked website keeps (its own storage; this cookie on the CRM's pages).
VISITOR = VisitorCookie("crm_visitor", salt="activities.tracking.visitor", max_age=730 * 86400)
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def dedup_seconds() -> int:
    return int(getattr(settings, "CRM_TRACKING_DEDUP_SECONDS", 600))


def page_view_rate_limit() -> int:
    return int(getattr(settings, "CRM_TRACKING_PAGE_VIEW_RATE_LIMIT", 120))


def page_view_retention_days() -> int:
    """How long page views are kept (0: forever). Default 396 days, about 13 months."""
    return int(getattr(settings, "CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS", 396))


def prune_batch() -> int:
    return max(1, int(getattr(settings, "CRM_TRACKING_PRUNE_BATCH", 5000)))


# --- registries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackingEvent:
    """What a hook hears: an open or click of an email (its interaction's record links) or a page
    view (its visitor)."""

    kind: str  # "open", "click" or "page_view"
    pk: int
    at: datetime
    mail_id: int | None = None
    interaction_id: int | None = None
    contact_id: int | None = None
    target_model: str = ""  # "app_label.model" of the interaction's generic target, or ""
    target_id: int | None = None
    visitor: uuid.UUID | None = None


@dataclass(frozen=True)
class TrackingHook:
    key: str
    handle: Callable[[TrackingEvent], None]
    order: int = 100


@dataclass(frozen=True)
class TrackingSite:
    """A kind of website that may report page views: `/t/pv/<prefix>:<key>/`. `origins(key)`
    gives the origins allowed to report for that key ("https://www.example.com"), or None when
    there is no such site."""

    prefix: str
    origins: Callable[[str], frozenset[str] | None]
    order: int = 100


@dataclass(frozen=True)
class PruneHook:
    """Told, inside each pruning batch's transaction, which visitors lost page views (so what
    was computed from them, a lead's score, can be brought in line). Must be quick: queue work
    through the outbox rather than do it."""

    key: str
    handle: Callable[[list[uuid.UUID]], None]
    order: int = 100


on_tracked: Registry[TrackingHook] = Registry(
    "tracking hooks", key=lambda h: h.key, order=lambda h: h.order
)
sites: Registry[TrackingSite] = Registry(
    "tracked sites", key=lambda s: s.prefix, order=lambda s: s.order
)
on_pruned: Registry[PruneHook] = Registry(
    "page view pruning hooks", key=lambda h: h.key, order=lambda h: h.order
)


def site_origins(site: str) -> frozenset[str] | None:
    """The origins allowed to report page views for `site` ("form:contact-us"), None if unknown."""
    prefix, _sep, key = site.partition(":")
    entry = sites.get(prefix)
    return entry.origins(key) if entry is not None and key else None


# --- tokens ------------------------------------------------------------------------------------


def open_token(mail_id: int) -> str:
    return signing.dumps(mail_id, salt=OPEN_SALT)


def click_token(mail_id: int, url: str) -> str:
    return signing.dumps([mail_id, url], salt=CLICK_SALT, compress=True)


def _web_url(url: object) -> str | None:
    if not isinstance(url, str) or len(url) > MAX_URL:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def read_open(token: str) -> int | None:
    """The email an open token names; None for anything forged, garbled or of another purpose."""
    try:
        value = signing.loads(token[:500], salt=OPEN_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_click(token: str) -> tuple[int, str] | None:
    """(email, link) of a click token; None for anything forged or garbled."""
    try:
        value = signing.loads(token[: MAX_URL * 2], salt=CLICK_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int):
        return None
    url = _web_url(value[1])
    return (value[0], url) if url is not None else None


def _absolute(path: str) -> str:
    return f"{settings.CRM_BASE_URL.rstrip('/')}{path}"


def open_url(mail_id: int) -> str:
    return _absolute(reverse("tracking:open", args=[open_token(mail_id)]))


def click_url(mail_id: int, url: str) -> str:
    return _absolute(reverse("tracking:click", args=[click_token(mail_id, url)]))


def tracked_html(html: str, *, mail_id: int, opens: bool, clicks: bool) -> str:
    """The (already sanitised) HTML body as sent: http(s) links through the click redirect and a
    1x1 open pixel at the end. Sanitised again on the way, so nothing else changes."""
    if not html or not (opens or clicks):
        return html

    def rewrite(tag: str, name: str, value: str) -> str | None:
        if clicks and tag == "a" and name == "href" and _web_url(value) is not None:
            return click_url(mail_id, value)
        return mail_html._attribute(tag, name, value)

    out = nh3.clean(
        html,
        tags=mail_html.TAGS,
        attributes=mail_html.ATTRIBUTES,
        attribute_filter=rewrite,
        link_rel="noopener noreferrer nofollow",
        url_schemes=mail_html.SCHEMES,
        filter_style_properties=mail_html.STYLE_PROPERTIES,
    )
    if opens:
        out += (
            f'<img src="{open_url(mail_id)}" width="1" height="1" alt=""'
            ' style="display:block;width:1px;height:1px;border:0">'
        )
    return out


# --- recording ---------------------------------------------------------------------------------


def client_hash(ip: str, user_agent: str) -> str:
    """A keyed hash of the address and user agent (told apart, never stored as such)."""
    key = settings.SECRET_KEY.encode()
    message = f"{ip}|{user_agent[:500]}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


_INSERT_EVENT = """
INSERT INTO activities_emailevent (mail_id, kind, url, at, client)
SELECT m.id, %(kind)s, %(url)s, now(), %(client)s
FROM activities_mailmessage m
LEFT JOIN activities_mailbox b ON b.id = m.mailbox_id
WHERE m.id = %(mail)s AND m.tracked
  AND COALESCE((SELECT {switch} FROM activities_trackingsettings WHERE id = 1), true)
  AND COALESCE(b.{switch}, true)
  AND NOT EXISTS (
    SELECT 1 FROM activities_emailevent e
    WHERE e.mail_id = m.id AND e.kind = %(kind)s AND e.url = %(url)s
      AND e.at > now() - make_interval(secs => %(window)s)
  )
RETURNING id
"""


def _queue_hooks(kind: str, pk: int) -> None:
    if len(on_tracked):
        outbox.enqueue(EVENT_TASK, {"kind": kind, "pk": pk})


def email_event_record(*, mail_id: int, kind: str, url: str = "", client: str = "") -> int | None:
    """Record an open or click of a tracked email: one INSERT, which writes nothing (None) when
    the email is not tracked or gone, tracking of that kind is switched off (globally, or on
    the personal mailbox it was sent through), or the same event
    (same link for a click) was recorded within the de-duplication window. A written event
    queues the `on_tracked` hooks through the outbox in the same transaction. Anyone may call
    (the token was checked by the caller)."""
    switch = "track_opens" if kind == EmailEventKind.OPEN else "track_clicks"
    params: dict[str, str | int] = {
        "kind": kind,
        "url": url[:MAX_URL],
        "client": client,
        "mail": mail_id,
        "window": dedup_seconds(),
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_EVENT.format(switch=switch), params)
            row = cursor.fetchone()
        if row is None:
            return None
        _queue_hooks(kind, row[0])
    return int(row[0])


def page_view_record(
    *, site: str, visitor: uuid.UUID, url: str, title: str, referrer: str, client: str
) -> PageView:
    """Record one page view (shape checked by the caller) and queue the hooks. Atomic."""
    with transaction.atomic():
        view = PageView.objects.create(
            site=site[:80],
            visitor=visitor,
            url=url[:MAX_URL],
            title=title[:300],
            referrer=referrer[:MAX_URL],
            client=client,
        )
        _queue_hooks("page_view", view.pk)
    return view


def over_rate_limit(bucket: str, ip: str, limit: int) -> bool:
    """True past `limit` calls a minute from `ip`. Fail-open when the cache is down."""
    key = f"tracking:{bucket}:{ip}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, timeout=70):
            return False
        return int(cache.incr(key)) > limit
    except Exception:  # Redis down: count nothing rather than refuse
        return False


# --- the hooks, in a worker ----------------------------------------------------------------------


def tracking_event(kind: str, pk: int) -> TrackingEvent | None:
    """The stored event as hooks see it (None when it is gone)."""
    if kind == "page_view":
        view = PageView.objects.filter(pk=pk).first()
        if view is None:
            return None
        return TrackingEvent(kind=kind, pk=pk, at=view.at, visitor=view.visitor)
    event = (
        EmailEvent.objects.filter(pk=pk)
        .select_related("mail__interaction__target_type")
        .only(
            "kind",
            "at",
            "mail__contact_id",
            "mail__interaction__contact_id",
            "mail__interaction__target_id",
            "mail__interaction__target_type",
        )
        .first()
    )
    if event is None:
        return None
    interaction = event.mail.interaction
    target_type = interaction.target_type
    return TrackingEvent(
        kind=event.kind,
        pk=pk,
        at=event.at,
        mail_id=event.mail_id,
        interaction_id=interaction.pk,
        contact_id=event.mail.contact_id or interaction.contact_id,
        target_model=f"{target_type.app_label}.{target_type.model}" if target_type else "",
        target_id=interaction.target_id,
    )


def event_dispatch(*, kind: str, pk: int) -> int:
    """Run every `on_tracked` hook for one stored event (the outbox task). A hook that raises is
    logged and the others still run; hooks must be idempotent (a task may run twice)."""
    event = tracking_event(kind, pk)
    if event is None:
        return 0
    ran = 0
    for hook in on_tracked:
        try:
            hook.handle(event)
            ran += 1
        except Exception:
            log.exception("tracking: hook %s failed for %s %s", hook.key, kind, pk)
    return ran


@dataclass(frozen=True)
class EmailActivity:
    opens: int
    clicks: int
    links: list[tuple[str, int]]  # each clicked link and how often, most clicked first
    last_opened: datetime | None


def email_activity(mail_id: int) -> EmailActivity:
    """How often one email was opened and its links clicked: one query."""
    from django.db.models import Count, Max

    rows = (
        EmailEvent.objects.filter(mail_id=mail_id)
        .values("kind", "url")
        .annotate(n=Count("id"), last=Max("at"))
    )
    opens, last, links = 0, None, []
    for row in rows:
        if row["kind"] == EmailEventKind.OPEN:
            opens, last = opens + row["n"], row["last"]
        else:
            links.append((row["url"], row["n"]))
    links.sort(key=lambda item: (-item[1], item[0]))
    return EmailActivity(opens, sum(n for _u, n in links), links, last)


# --- retention ---------------------------------------------------------------------------------

# One batch: the oldest rows before the cutoff (index pageview_at), rows another transaction
# holds skipped, deleted by id. Short statements, row locks only: writes of new views go on.
_PRUNE_BATCH = """
DELETE FROM activities_pageview
WHERE id IN (
    SELECT id FROM activities_pageview
    WHERE at < %(cutoff)s
    ORDER BY at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
RETURNING visitor
"""


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    batches: int
    done: bool  # False: stopped at `max_batches`, the next run goes on


def page_views_prune(
    *,
    now: datetime | None = None,
    batch: int | None = None,
    max_batches: int = 200,
) -> PruneResult:
    """Delete page views older than the retention (`CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS`;
    0 keeps them) in batches of `batch` rows, each its own short transaction that also tells
    the `on_pruned` hooks which visitors lost views (leads rescore those visitors' leads, so
    no score or breakdown goes on counting a view that is gone). At most `max_batches` a run:
    the beat task runs daily and continues where the last stopped. A second run finds nothing."""
    from django.utils import timezone

    days = page_view_retention_days()
    if days <= 0:
        return PruneResult(0, 0, True)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    size = batch or prune_batch()
    deleted = batches = 0
    while batches < max_batches:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_PRUNE_BATCH, {"cutoff": cutoff, "batch": size})
                rows = cursor.fetchall()
            visitors = sorted({row[0] for row in rows}, key=str)
            if visitors:
                for hook in on_pruned:
                    hook.handle(visitors)
        batches += 1
        count = len(rows)
        deleted += count
        if count < size:
            return PruneResult(deleted, batches, True)
    return PruneResult(deleted, batches, False)
