"""Chat and social messages into tickets: POST /support/webhooks/chat/.

The sender names its channel in `X-Support-Channel` and signs each request with the channel's
secret (`SUPPORT_CHAT_CHANNELS`): `X-Support-Signature: t=<unix seconds>,v1=<hex>` where v1 is
HMAC-SHA256 over `"<t>." + body`. The signature is compared in constant time and `t` must be
within `TOLERANCE` seconds of now, so a captured request cannot be replayed later; within the
window a replay is harmless because intake is idempotent on the message id.

Body (JSON): `{"message_id": "...", "conversation_id": "...", "text": "...",
"sender": {"name": "...", "email": "...", "handle": "..."}}`. Answers: 201 a ticket was opened,
200 the message joined its conversation's ticket (or was seen before), 400/401/413 with
`{"error": "..."}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.errors import DomainError
from support import intake
from support.models import Channel

TOLERANCE = 300
MAX_BODY_BYTES = 64 * 1024
MAX_TEXT = 10_000
SIGNATURE_HEADER = "HTTP_X_SUPPORT_SIGNATURE"
CHANNEL_HEADER = "HTTP_X_SUPPORT_CHANNEL"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` (senders and tests build it the same way)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _verified(request: HttpRequest, body: bytes) -> tuple[str, dict[str, Any]] | JsonResponse:
    key = request.META.get(CHANNEL_HEADER, "")
    channel = settings.SUPPORT_CHAT_CHANNELS.get(key) if key else None
    if not isinstance(channel, dict) or not channel.get("secret"):
        return _error(401, _("Unknown channel: send X-Support-Channel with a configured key."))
    parts = dict(
        part.split("=", 1)
        for part in request.META.get(SIGNATURE_HEADER, "").split(",")
        if "=" in part
    )
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return _error(
            401, _("Missing signature: send X-Support-Signature: t=<unix time>,v1=<hex>.")
        )
    if abs(time.time() - timestamp) > TOLERANCE:
        return _error(401, _("Signature timestamp is outside the allowed window."))
    expected = sign(str(channel["secret"]), body, timestamp).partition("v1=")[2]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return _error(401, _("Bad signature."))
    return key, channel


def _text(value: Any, limit: int) -> str:
    return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


def _chat(key: str, channel: dict[str, Any], payload: Any) -> intake.ChatMessage | JsonResponse:
    if not isinstance(payload, dict):
        return _error(400, _("The body must be a JSON object."))
    sender = payload.get("sender") or {}
    if not isinstance(sender, dict):
        return _error(400, _("sender must be an object."))
    message_id = _text(payload.get("message_id"), 101)
    conversation_id = _text(payload.get("conversation_id"), 101)
    text = _text(payload.get("text"), MAX_TEXT + 1)
    if not message_id or not conversation_id or not text:
        return _error(400, _("message_id, conversation_id and text are required strings."))
    if len(message_id) > 100 or len(conversation_id) > 100:
        return _error(400, _("message_id and conversation_id are at most 100 characters."))
    if len(text) > MAX_TEXT:
        return _error(400, _("text is at most %(limit)s characters.") % {"limit": MAX_TEXT})
    email = _text(sender.get("email"), 254).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return _error(400, _("sender.email is not an email address."))
    name, handle = _text(sender.get("name"), 200), _text(sender.get("handle"), 100)
    if not (name or email or handle):
        return _error(400, _("sender needs a name, email or handle."))
    kind = Channel.SOCIAL if channel.get("kind") == Channel.SOCIAL else Channel.CHAT
    return intake.ChatMessage(
        channel=key,
        kind=kind,
        message_id=message_id,
        conversation_id=conversation_id,
        text=text,
        sender_name=name,
        sender_email=email,
        sender_handle=handle,
    )


# A server-to-server endpoint: authenticated by the signature, not a session (no CSRF cookie).
@csrf_exempt
@require_POST
def chat_webhook(request: HttpRequest) -> JsonResponse:
    length = request.headers.get("Content-Length", "")
    if (length.isdigit() and int(length) > MAX_BODY_BYTES) or len(request.body) > MAX_BODY_BYTES:
        message = _("The body is larger than %(limit)s bytes.") % {"limit": MAX_BODY_BYTES}
        return _error(413, message)
    body = request.body
    verified = _verified(request, body)
    if isinstance(verified, JsonResponse):
        return verified
    key, channel = verified
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(400, _("The body is not valid JSON."))
    chat = _chat(key, channel, payload)
    if isinstance(chat, JsonResponse):
        return chat
    try:
        ticket, created = intake.ticket_from_chat(chat=chat)
    except DomainError as exc:
        return _error(400, str(exc.message))
    return JsonResponse(
        {"ticket": ticket.reference, "created": created}, status=201 if created else 200
    )
