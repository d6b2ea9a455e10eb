"""The services layer: the only code that changes tickets.

Every function takes the ticket (or the data of a new one) and the actor, runs
in one transaction that checks the workflow and the actor's permission,
writes the ticket, appends timeline events and queues notifications — or
changes nothing and raises :class:`~wagtail_helpdesk.errors.HelpdeskError` /
``PermissionDenied``.
"""

from .actions import (
    add_attachment,
    add_citizen_message,
    add_note,
    assign,
    mark_read,
    mark_waiting,
    reopen,
    reply,
    resolve,
    set_priority,
    take_charge,
    transfer,
)
from .actors import SYSTEM, CitizenActor, ClientActor
from .citizens import register_citizen, set_citizen_preferences
from .creation import (
    create_ticket,
    delete_draft,
    save_operator_ticket,
    submit_ticket,
    update_draft,
)
from .duplicates import link_duplicate, unlink_duplicate
from .erasure import erase_citizen
from .identities import declared_citizen, link_citizen
from .labels import (
    add_labels,
    bulk_change_labels,
    change_labels,
    delete_label,
    remove_labels,
    save_label,
)
from .lookup import search_citizens
from .submissions import (
    citizen_drafts,
    discard_web_draft,
    submit_web_ticket,
    verified_citizen,
)

__all__ = [
    "SYSTEM",
    "CitizenActor",
    "ClientActor",
    "add_attachment",
    "add_citizen_message",
    "add_labels",
    "bulk_change_labels",
    "change_labels",
    "delete_label",
    "remove_labels",
    "save_label",
    "add_note",
    "assign",
    "create_ticket",
    "declared_citizen",
    "delete_draft",
    "erase_citizen",
    "link_citizen",
    "link_duplicate",
    "mark_read",
    "mark_waiting",
    "register_citizen",
    "reopen",
    "reply",
    "resolve",
    "save_operator_ticket",
    "search_citizens",
    "set_citizen_preferences",
    "set_priority",
    "submit_ticket",
    "submit_web_ticket",
    "citizen_drafts",
    "discard_web_draft",
    "take_charge",
    "transfer",
    "unlink_duplicate",
    "update_draft",
    "verified_citizen",
]
