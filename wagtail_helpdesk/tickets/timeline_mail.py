"""What the timeline says about e-mail: citizens' messages that came by mail
(or certified mail, PEC), automatic replies, delivery receipts and bounces,
follow-ups of resolved tickets and e-mails moved by an administrator.

Kept apart from :mod:`.timeline` so that each stays small; :mod:`.timeline`
merges :data:`DETAILS` and :data:`ICONS` into its own tables. Everything here
reads the event's ``data`` only: no query.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import EventKind
from ..notifications.kinds import describe

ICONS = {
    EventKind.EMAIL_AUTO_REPLY: "mail",
    EventKind.FOLLOW_UP: "link",
    EventKind.NOTIFICATION_RECEIPT: "tick-inverse",
    EventKind.EMAIL_REROUTED: "redirect",
}

#: What a certified-mail (PEC) receipt says, by its ``X-Ricevuta`` value.
RECEIPTS = {
    "accettazione": gettext_lazy("Accepted by our certified mail provider"),
    "presa-in-carico": gettext_lazy("Taken in charge by the recipient's provider"),
    "avvenuta-consegna": gettext_lazy("Delivered to the recipient's certified mailbox"),
    "non-accettazione": gettext_lazy("Not accepted by our certified mail provider"),
    "errore-consegna": gettext_lazy("Could not be delivered to the recipient's mailbox"),
    "preavviso-errore-consegna": gettext_lazy(
        "Not delivered yet: the recipient's provider warns of a delivery error"),
    "rilevazione-virus": gettext_lazy("Stopped: a virus was found"),
}


@dataclass(frozen=True)
class RelatedTicket:
    """Another ticket an event points at (a follow-up), for a link."""

    pk: int
    label: str


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def channel_tags(event):
    """Short tags for a citizen's message that came by e-mail: "via e-mail",
    and "PEC" when it was certified."""
    data = event.data or {}
    if event.kind != EventKind.CITIZEN_MESSAGE or data.get("channel") != "email":
        return []
    tags = [_("via e-mail")]
    if data.get("certified"):
        tags.append(_("PEC"))
    return tags


def inbound_id(event):
    """The received e-mail (InboundMessage pk) the event came from, or None."""
    return _int((event.data or {}).get("inbound"))


def related_ticket(event):
    """The ticket a follow-up event links to, or None."""
    data = event.data or {}
    if event.kind != EventKind.FOLLOW_UP:
        return None
    if _int(data.get("from")):
        reference = data.get("from_reference") or f"#{data['from']}"
        return RelatedTicket(data["from"], _("Follow-up of %(reference)s") % {
            "reference": reference})
    if _int(data.get("to")):
        reference = data.get("to_reference") or f"#{data['to']}"
        return RelatedTicket(data["to"], _("Followed up by %(reference)s") % {
            "reference": reference})
    return None


def _citizen_message(data, names):
    for rejected in data.get("rejected_attachments") or ():
        if isinstance(rejected, dict) and rejected.get("name"):
            yield _("Attachment not accepted: %(name)s (%(reason)s)") % {
                "name": rejected["name"], "reason": rejected.get("reason") or "—"}


def _auto_reply(data, names):
    yield _("The citizen's mailbox answered by itself: nobody was notified.")
    if data.get("subject"):
        yield _("Subject: %(subject)s") % {"subject": data["subject"]}


def _follow_up(data, names):
    if _int(data.get("from")):
        yield _("The citizen wrote again after ticket %(reference)s was resolved.") % {
            "reference": data.get("from_reference") or f"#{data['from']}"}
    elif _int(data.get("to")):
        yield _("The citizen wrote again: the new ticket is %(reference)s.") % {
            "reference": data.get("to_reference") or f"#{data['to']}"}


def _receipt(data, names):
    receipt = str(data.get("receipt") or "")
    if data.get("template"):
        yield str(describe(data["template"]))
    if receipt:
        yield str(RECEIPTS.get(receipt, receipt))


def _rerouted(data, names):
    if _int(data.get("by")):
        yield _("Moved here by %(name)s") % {"name": names.user(data["by"])}


def bounce_details(data):
    """A notification the recipient's side sent back: a bounce (its DSN
    status code; the reason is already the event's error) or a certified-mail
    failure receipt."""
    if data.get("bounce"):
        yield _("Returned by the recipient's mail server (bounce)")
        code = data.get("code") or data.get("dsn_status")
        if code:
            yield _("Delivery status code: %(code)s") % {"code": code}
        if data.get("diagnostic") and data["diagnostic"] not in str(data.get("error") or ""):
            yield _("Reason: %(reason)s") % {"reason": data["diagnostic"]}
    elif data.get("pec"):
        yield str(RECEIPTS.get(str(data["pec"]), data["pec"]))


def user_ids(event):
    """The users the event's details name (loaded once for the timeline)."""
    if event.kind == EventKind.EMAIL_REROUTED and _int((event.data or {}).get("by")):
        return {event.data["by"]}
    return set()


DETAILS = {
    EventKind.CITIZEN_MESSAGE: _citizen_message,
    EventKind.EMAIL_AUTO_REPLY: _auto_reply,
    EventKind.FOLLOW_UP: _follow_up,
    EventKind.NOTIFICATION_RECEIPT: _receipt,
    EventKind.EMAIL_REROUTED: _rerouted,
}
