"""Who else has a ticket open, and whether it changed since the page was loaded.

The ticket page registers its viewer in the cache and polls
``GET <pk>/viewers/?version=N`` every few seconds (``ticketwatch.js``). With
one cache shared by every process (Redis in production) this works across
workers; with a per-process cache it works within one process only, which is
enough for a single-process site. It is a hint for colleagues, never a lock:
stale writes are refused anyway by the ticket's version.
"""

import time

from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from ...formats import person_name
from ...tickets.queries import visible_tickets

#: A viewer not heard from for this many seconds has left.
VIEWER_TTL = 45
#: How often the page asks (milliseconds, read by the script).
POLL_EVERY_MS = 15000


def _key(ticket_id):
    return f"wagtail_helpdesk:viewers:{ticket_id}"


def register(ticket_id, user, now=None):
    """Note that ``user`` has the ticket open; return the *other* viewers' names."""
    now = now or time.time()
    key = _key(ticket_id)
    viewers = {
        pk: entry for pk, entry in (cache.get(key) or {}).items()
        if now - entry[1] < VIEWER_TTL
    }
    viewers[user.pk] = (person_name(user), now)
    cache.set(key, viewers, VIEWER_TTL)
    return sorted(name for pk, (name, _seen) in viewers.items() if pk != user.pk)


@require_safe
def ticket_viewers(request, pk):
    ticket = get_object_or_404(visible_tickets(request.user).only("pk", "version"), pk=pk)
    try:
        seen_version = int(request.GET.get("version", ""))
    except ValueError:
        seen_version = ticket.version
    response = JsonResponse({
        "viewers": register(ticket.pk, request.user),
        "version": ticket.version,
        "changed": ticket.version != seen_version,
    })
    response["Cache-Control"] = "private, no-store"
    return response
