"""App IO (pagoPA) messages, following the service API (``POST /profiles``,
then ``POST /messages``; see docs/notifications.md).

Outcomes, as the outbox understands them:

* sent: 201 with the message id;
* skipped (noted on the timeline, no error): the citizen is not on IO (404)
  or does not accept messages from this service (``sender_allowed`` false);
* retried with back-off: 429 and 5xx, network errors;
* failed at once, with a message for the administrator: 401/403 (key),
  400 (a message IO refuses).
"""

import json
import re
import urllib.error
import urllib.request

from django.utils import translation
from django.utils.translation import gettext

from ..conf import get_setting
from . import email

FISCAL_CODE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$")
SUBJECT = (10, 120)
MARKDOWN = (80, 10000)


class Skip(Exception):
    """Nothing to deliver on IO for this citizen (not an error)."""


class Temporary(Exception):
    """Try again later."""


class Permanent(Exception):
    """Will not work by trying again."""


def api_key(ticket):
    service = ticket.service if ticket is not None and ticket.service_id else None
    return (service.io_api_key if service is not None else "") or get_setting("APP_IO_API_KEY")


def content(notification):
    """(subject, markdown) within IO's limits, in the citizen's language; the
    subject carries the short code only (no personal data)."""
    ctx, subject, markdown = email.render(notification)
    if len(markdown) < MARKDOWN[0]:
        with translation.override(email.language(notification)):
            markdown += "\n\n" + gettext("This message was sent automatically.")
    subject = subject[:SUBJECT[1]]
    if len(subject) < SUBJECT[0]:
        subject = f"{subject} — {ctx['site_name']}"[:SUBJECT[1]]
    return subject, markdown[:MARKDOWN[1]]


def _call(path, key, payload):
    base = get_setting("APP_IO_URL").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise Permanent("APP_IO_URL must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (http(s) checked above)
        f"{base}{path}", data=json.dumps(payload).encode(), method="POST",
        headers={"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json",
                 "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Temporary(f"App IO unreachable: {exc}") from exc


def _check(status, body, what):
    detail = body.get("detail") or body.get("title") or ""
    if status in (401, 403):
        raise Permanent(f"App IO refused the service's key ({status}) on {what}: check the "
                        f"API key and the service's authorised addresses. {detail}".strip())
    if status == 429 or status >= 500:
        raise Temporary(f"App IO answered {status} on {what}. {detail}".strip())
    if 400 <= status < 500:  # 400 and any other refusal: trying again will not help
        raise Permanent(f"App IO refused the {what} ({status}). {detail}".strip())


def send(notification):
    """Deliver one APP_IO notification; return IO's message id, or raise
    :class:`Skip`, :class:`Temporary` or :class:`Permanent`."""
    ticket = notification.ticket
    citizen = notification.recipient_citizen
    key = api_key(ticket)
    if not key:
        raise Skip("App IO is not configured for this service.")
    code = (citizen.fiscal_code or "").upper() if citizen is not None else ""
    if not FISCAL_CODE.match(code):
        raise Skip("The citizen has no valid fiscal code.")
    status, body = _call("/profiles", key, {"fiscal_code": code})
    if status == 404:  # on /profiles: the citizen is not on IO (not an error)
        raise Skip("The citizen is not on App IO.")
    _check(status, body, "profile")
    if not body.get("sender_allowed"):
        raise Skip("The citizen does not accept messages from this service on App IO.")
    subject, markdown = content(notification)
    status, body = _call("/messages", key, {
        "fiscal_code": code, "content": {"subject": subject, "markdown": markdown}})
    _check(status, body, "message")
    if status != 201 or not body.get("id"):
        raise Temporary(f"App IO answered {status} without a message id.")
    return body["id"]
