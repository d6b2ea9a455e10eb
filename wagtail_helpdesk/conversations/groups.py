"""Channel-layer groups of the live chat, and the one signal the services send.

Groups stay small (the Redis layer's ``group_send`` is slow on big ones): one
per conversation (its citizen and the operators watching it), one per
operator, one per queue (office). Signals carry no text, only "conversation X
has something after ``seq`` N" and its state: clients then ask for the rows.
"""

import logging
from functools import partial

from asgiref.sync import async_to_sync
from django.db import transaction

logger = logging.getLogger(__name__)

SIGNAL = "chat.signal"
TYPING = "chat.typing"


def conversation_group(pk):
    return f"helpdesk.chat.c{pk}"


def staff_group(pk):
    """The operators following conversation ``pk`` (never its citizen): the
    signals of rows only operators read."""
    return f"helpdesk.chat.s{pk}"


def operator_group(pk):
    return f"helpdesk.chat.o{pk}"


def queue_group(pk):
    return f"helpdesk.chat.q{pk}"


def layer():
    """The default channel layer, or None (Channels missing or not configured)."""
    try:
        from channels.layers import get_channel_layer
    except ImportError:
        return None
    return get_channel_layer()


def signal(conversation):
    """The signal's payload for ``conversation`` as it is now."""
    return {"type": SIGNAL, "conversation": conversation.pk, "seq": conversation.last_seq,
            "state": conversation.state, "office": conversation.office_id}


def announce(conversation, *, queues=(), operators=(), internal=False):
    """Once the current transaction commits, signal the conversation's group
    (``internal``: only its operators — the citizen does not even learn that
    something was written) and the given queues (office ids) and operators
    (user ids)."""
    names = [(staff_group if internal else conversation_group)(conversation.pk)]
    names += [queue_group(pk) for pk in queues if pk]
    names += [operator_group(pk) for pk in operators if pk]
    transaction.on_commit(partial(send, list(dict.fromkeys(names)), signal(conversation)))


def send(names, payload):
    """Send ``payload`` to the groups ``names`` now. A failing layer is logged,
    never raised: the rows are saved and clients catch up with "after N"."""
    deliver(names, payload)


def deliver(names, payload):
    """:func:`send`'s work, shared with the live ticket list's signal
    (:mod:`wagtail_helpdesk.tickets.live`)."""
    channel_layer = layer()
    if channel_layer is None:
        return
    for name in names:
        try:
            async_to_sync(channel_layer.group_send)(name, payload)
        except Exception:  # the database is the truth; a lost signal loses nothing
            logger.warning("Signal to %s not sent", name, exc_info=True)
