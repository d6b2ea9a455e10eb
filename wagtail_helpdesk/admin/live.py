"""The live ticket list: the pulse endpoint and the element every admin page
carries (``live.js``).

``GET /admin/helpdesk/live/pulse/`` answers, for the logged-in operator, a
change stamp of the tickets they can see and the figures the browser shows:
the Helpdesk menu's label, the pending tickets and the newest of them. The
stamp is made of the cache generations the signal bumps: the figures are
counted again (one query, whatever the number of tickets) only when it moved,
and the menu's figure is cached too (:mod:`.attention`); never cached by the
browser or a proxy. Browsers ask it
when a ``tickets.changed`` frame arrives on the operator's socket
(:mod:`wagtail_helpdesk.tickets.live`), or every ``POLL_SECONDS`` while some
tab is shown when sockets do not work. A user who is no operator gets a 403
and the page stops asking.
"""

import logging

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..permissions import ticket_policy
from ..tickets.live import generations
from ..tickets.queries import visible_tickets
from ..tickets.queues import DEFAULT
from ..workflow import Status
from .attention import attention_count, generation_scopes, menu_label

logger = logging.getLogger(__name__)

#: Seconds between two pulses when the browser polls (no socket).
POLL_SECONDS = 20
#: Seconds between two keep-alive "ping" frames on the socket.
PING_SECONDS = 50
#: Seconds between two pulses with a socket (a safety net for a lost frame).
SAFETY_SECONDS = 300
#: Seconds the pulse's figures stay cached while the stamp does not move.
FIGURES_SECONDS = 600
URL_NAME = "wagtail_helpdesk_live_pulse"
SOCKET_PATH = "/ws/helpdesk/operator/"


def _figures_key(user):
    return f"wagtail_helpdesk:live:figures:{user.pk}"


def figures(user):
    """The pulse's figures for ``user``: the change stamp and the pending
    tickets. The stamp is made of the cache generations of what the user sees
    (bumped on every commit that changes a ticket there, no query); the
    pending tickets are counted again only when it moved (one query). Without
    a working cache, the stamp comes from the count itself."""
    tokens = generations(generation_scopes(user))
    stamp = "g" + "-".join(map(str, tokens)) if tokens and all(tokens) else None
    if stamp is not None:
        cached = cache.get(_figures_key(user))
        if isinstance(cached, dict) and cached.get("stamp") == stamp:
            return cached
    pending = Q(status=Status.NEW, assignee__isnull=True)
    row = visible_tickets(user).aggregate(
        pending=Count("pk", filter=pending), newest_pending=Max("pk", filter=pending),
        **({} if stamp else {"count": Count("pk"), "changed": Max("updated_at")}))
    if stamp is None:
        changed = row["changed"].timestamp() if row["changed"] else 0
        stamp = f"{row['count']}:{changed:.6f}"
    answer = {"stamp": stamp, "pending": row["pending"],
              "newest_pending": row["newest_pending"] or 0}
    try:
        cache.set(_figures_key(user), answer, FIGURES_SECONDS)
    except Exception:  # counted again next time
        logger.warning("Live list: figures not cached", exc_info=True)
    return answer


@never_cache
@require_GET
def pulse(request):
    user = request.user
    if not ticket_policy().user_has_permission(user, "view"):
        # A plain 403 (not Wagtail's redirect): the page stops asking.
        return JsonResponse({"error": _("You cannot work on tickets.")}, status=403)
    from .viewsets import HelpdeskViewSetGroup

    attention = attention_count(user)
    return JsonResponse({
        "user": user.pk,
        **figures(user),
        "attention": attention,
        "menu": {"name": HelpdeskViewSetGroup.menu_name,
                 "base": str(HelpdeskViewSetGroup.menu_label),
                 "label": menu_label(HelpdeskViewSetGroup.menu_label, attention)},
        "poll": POLL_SECONDS,
        "ping": PING_SECONDS,
        "safety": SAFETY_SECONDS,
    })


def urls():
    return [path("helpdesk/live/pulse/", pulse, name=URL_NAME)]


def global_js():
    """The live list's scripts and element, on every admin page, in this
    order: the socket (``chatsocket.js``, shared with the chat workspace), the
    hub (``livehub.js``: the leader tab, the shared socket, the pulse) and its
    Stimulus controllers (``live.js``)."""
    element = render_to_string("wagtail_helpdesk/admin/live/element.html", {
        "pulse_url": reverse(URL_NAME), "socket": SOCKET_PATH, "default_queue": DEFAULT})
    return format_html(
        '<link rel="stylesheet" href="{}"><script defer src="{}"></script>'
        '<script defer src="{}"></script><script defer src="{}"></script>{}',
        static("wagtail_helpdesk/admin/live.css"),
        static("wagtail_helpdesk/admin/chatsocket.js"),
        static("wagtail_helpdesk/admin/livehub.js"),
        static("wagtail_helpdesk/admin/live.js"), element)
