"""The live ticket list's signal: "a ticket of office X changed".

``services.core.record`` calls :func:`on_event` for every event it appends
(no query). Once the transaction commits — never when it rolls back, nor for
a rolled-back savepoint — one frame per ticket and savepoint level that
changed it goes to the channel layer:

    {"type": "tickets.changed", "office": 3, "ticket": 42,
     "event": "created", "pending": true}

to the group of the ticket's office (and of the office it came from, on a
transfer), to the group of the users who see every office, and, for a ticket
without an office, to its creator's group. The frame only signals: browsers
then ask the pulse endpoint (``admin/live.py``) and the list, the database
being the truth. It never carries the ticket's text or personal data.

A chat message (``PERSONAL``) is no news for the office's lists: it goes to
its assignee's group only, whose menu figure counts unread messages.

The same commit bumps the cache "generations" of those offices (and users):
the pulse's change stamp is made of them, so that a browser's figures are
counted again only when something it can see changed (``admin/live.py``), and
the Helpdesk menu's figure (``admin/attention.py``, cached per user) is not
stale. The layer's payload carries the token and the scopes, so that a socket
in a process whose cache is not shared adopts them (:func:`adopt`). A failing
channel layer or cache is logged, never raised.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction

from ..models import EventKind
from ..workflow import Status

logger = logging.getLogger(__name__)

CHANGED = "tickets.changed"
ALL_GROUP = "helpdesk.tickets.all"
GENERATION_SECONDS = 24 * 3600
#: Events that change nothing the list or the figures show (deliveries,
#: receipts, monitoring): no frame.
QUIET = frozenset({EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED,
                   EventKind.NOTIFICATION_RECEIPT, EventKind.CHAT_MONITORED,
                   EventKind.CHAT_TRANSCRIPT})
#: Events the office's lists do not wait for (a chat message: many a minute,
#: shown live in the chat workspace): only the ticket's assignee hears them,
#: whose menu figure counts the citizen's unread messages.
PERSONAL = frozenset({EventKind.CHAT_MESSAGE})


def office_group(pk):
    return f"helpdesk.tickets.o{pk}"


def user_group(pk):
    return f"helpdesk.tickets.u{pk}"


def generation_key(scope):
    """Cache key of a generation: ``"all"``, ``"o<office>"`` or ``"u<user>"``."""
    return f"wagtail_helpdesk:live:gen:{scope}"


def _citizen_draft(ticket):
    return ticket.status == Status.DRAFT and getattr(ticket, "opened_by_citizen", False)


def on_event(ticket, kind, data=None):
    """``services.core.record``'s hook: remember ``ticket`` for the frame sent
    when the transaction commits (no query)."""
    if ticket.pk is None or kind in QUIET or _citizen_draft(ticket):
        return
    offices = {ticket.office_id}
    if isinstance(data, dict) and isinstance(data.get("from"), int):
        offices.add(data["from"])  # a transfer: the office it left hears it too
    change = {"office": ticket.office_id, "ticket": ticket.pk, "event": str(kind),
              "pending": ticket.status == Status.NEW and ticket.assignee_id is None,
              "offices": offices, "creator": ticket.created_by_id,
              "personal": kind in PERSONAL, "assignee": ticket.assignee_id}
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _send([change])
        return
    _remember(connection, change)


def _remember(connection, change):
    """Keep ``change`` for the on-commit callback of its savepoint level.

    Django's pending callbacks are ``(savepoint ids, callable, robust)`` (not a
    documented API). A change joins a pending callback only when the same
    rollbacks would drop both; otherwise it gets a callback of its own, so a
    savepoint's rollback drops exactly its changes — each callback keeps its
    own. When they run (the ones that survived, in order), a callback merges
    its changes with those the earlier ones of the transaction sent: a ticket
    changed at two savepoint levels gets a frame per level, the last one with
    its state at the end and every office it touched.
    """
    current = set(connection.savepoint_ids)
    group = None
    for entry in reversed(connection.run_on_commit):
        pending = entry[1]
        if isinstance(pending, _Frames) and not pending.done:
            group = group or pending.group
            if current <= set(entry[0]):
                pending.add(change)
                return
    transaction.on_commit(_Frames(change, group), robust=True)


class _Frames:
    """An on-commit callback: one frame per ticket changed at its level."""

    def __init__(self, change, group=None):
        #: Shared by the transaction's callbacks: what the ones that ran sent.
        self.group = {"sent": {}} if group is None else group
        self.changes = {}
        self.done = False
        self.add(change)

    def add(self, change):
        self.changes[change["ticket"]] = _merged(self.changes.get(change["ticket"]), change)

    def __call__(self):
        self.done = True
        sent = self.group["sent"]
        changes = []
        for pk in sorted(self.changes):
            own = self.changes[pk]  # a chat message stays personal: the office heard the rest
            sent[pk] = {**_merged(sent.get(pk), own), "personal": own["personal"]}
            changes.append(sent[pk])
        _send(changes)


def _merged(earlier, change):
    """The first event names the change; the state is the last one."""
    if earlier is None:
        return change
    return {**change, "event": earlier["event"],
            "offices": earlier["offices"] | change["offices"],
            "personal": earlier["personal"] and change["personal"]}


def _send(changes):
    if not changes:
        return
    token = bump(changes)
    for change in changes:
        names = groups_of(change)
        if names:
            send(names, {**frame(change), "scopes": scopes_of(change), "gen": token})


def frame(change):
    """The frame of one change: ids, the event's kind, whether it waits."""
    return {"type": CHANGED, "office": change["office"], "ticket": change["ticket"],
            "event": change["event"], "pending": change["pending"]}


def groups_of(change):
    if change.get("personal"):  # a chat message: its assignee only
        return [user_group(change["assignee"])] if change.get("assignee") else []
    names = [office_group(pk) for pk in sorted(change["offices"] - {None})]
    if change["office"] is None and change["creator"]:
        names.append(user_group(change["creator"]))
    return [*names, ALL_GROUP]


def scopes_of(change):
    if change.get("personal"):
        return [f"u{change['assignee']}"] if change.get("assignee") else []
    scopes = [f"o{pk}" for pk in sorted(change["offices"] - {None})]
    if change["office"] is None and change["creator"]:
        scopes.append(f"u{change['creator']}")
    return ["all", *scopes]


def bump(changes):
    """New generations for the offices (and users) ``changes`` touch; the token."""
    token = time.time_ns()
    keys = {generation_key(scope) for change in changes for scope in scopes_of(change)}
    try:
        cache.set_many(dict.fromkeys(keys, token), GENERATION_SECONDS)
    except Exception:  # the figure is then stale for its few seconds, no more
        logger.warning("Live list: cache generations not bumped", exc_info=True)
    return token


async def adopt(event):
    """A socket's copy of a signal's generations, for a process whose cache is
    not shared with the sender's (a newer token only; a shared cache has it)."""
    token, scopes = event.get("gen"), event.get("scopes")
    if not isinstance(token, int) or not isinstance(scopes, list):
        return
    keys = [generation_key(scope) for scope in scopes if isinstance(scope, str)]
    try:
        known = await cache.aget_many(keys)
        stale = {key: token for key in keys if not isinstance(known.get(key), int)
                 or known[key] < token}
        if stale:
            await cache.aset_many(stale, GENERATION_SECONDS)
    except Exception:
        logger.warning("Live list: cache generations not adopted", exc_info=True)


def generations(scopes):
    """The current tokens of ``scopes`` (a fresh one for a scope never bumped)."""
    keys = [generation_key(scope) for scope in scopes]
    try:
        known = cache.get_many(keys)
        missing = [key for key in keys if key not in known]
        if missing:
            token = time.time_ns()
            for key in missing:
                cache.add(key, token, GENERATION_SECONDS)
            known = cache.get_many(keys)
    except Exception:
        logger.warning("Live list: cache generations not read", exc_info=True)
        return None
    return [known.get(key) for key in keys]


def send(names, payload):
    """Send ``payload`` to the groups ``names`` (the chat's sender: a failing
    layer is logged, never raised)."""
    from ..conversations.groups import deliver

    deliver(names, payload)
