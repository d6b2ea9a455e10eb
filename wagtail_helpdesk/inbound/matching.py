"""Finding what a message refers to: the ticket a reply belongs to, the
notification a bounce or a receipt is about, and whether mail is our own.

Only what we signed is trusted on its own: the reply address
(``assistenza+<id>.<sig>@``), our Message-IDs (``hd.<ticket>.<n>.<sig>@``)
and the bounce address (VERP). A short code in the subject counts only when
the sender is the ticket's own citizen — anybody can type a code.
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from django.utils import timezone

from ..conf import get_setting
from ..models import InboundMessage, Mailbox, Notification, NotificationChannel, Ticket
from ..notifications import email as mail
from .bodies import short_codes


@dataclass(frozen=True)
class Match:
    ticket: object
    how: str  # "token", "in-reply-to", "references", "thread", "subject-code"


#: Seconds the mailboxes' addresses are trusted before they are read again.
ADDRESSES_SECONDS = 30
_mailbox_addresses = {"at": -ADDRESSES_SECONDS, "value": frozenset()}


def _mailboxes():
    """Every mailbox's address, read at most every ADDRESSES_SECONDS (a
    worker processes hundreds of messages a minute)."""
    now = time.monotonic()
    if now - _mailbox_addresses["at"] >= ADDRESSES_SECONDS:
        _mailbox_addresses["value"] = frozenset(
            a.lower() for a in Mailbox.objects.values_list("address", flat=True))
        _mailbox_addresses["at"] = now
    return _mailbox_addresses["value"]


def forget_mailboxes():
    """Read the mailboxes' addresses again next time (a mailbox was saved)."""
    _mailbox_addresses["at"] = -ADDRESSES_SECONDS


def system_addresses():
    """The addresses that are ours (lowercased): mail from them is a loop."""
    addresses = {a.lower() for a in get_setting("INBOUND_SYSTEM_ADDRESSES") or ()}
    addresses.add(parseaddr(mail.from_address())[1].lower())
    addresses.update(_mailboxes())
    for pattern in (get_setting("NOTIFY_REPLY_TO"), get_setting("NOTIFY_BOUNCE_ADDRESS")):
        if pattern and "@" in pattern:
            addresses.add(pattern.replace("{token}", "").replace("+@", "@").lower())
    return {a.strip("<> ") for a in addresses if "@" in a}


def is_ours(address, ours):
    """Whether ``address`` is one of ``ours``, plus-addressed forms included."""
    address = (address or "").lower()
    if not address or "@" not in address:
        return False
    local, _at, domain = address.rpartition("@")
    return address in ours or f"{local.split('+', 1)[0]}@{domain}" in ours


def own_message(parsed):
    """Whether the message carries a Message-ID we made (our mail coming back)."""
    return mail.read_message_id(parsed.message_id) is not None


def _tickets(ids):
    found = Ticket.objects.select_related("citizen", "declared_contact").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def by_token(parsed, envelope_to=()):
    """The ticket of a signed reply address among the recipients."""
    for address in [*envelope_to, *parsed.recipients]:
        ticket_id = mail.read_reply_token(address)
        if ticket_id:
            tickets = _tickets([ticket_id])
            if tickets:
                return Match(tickets[0], "token")
    return None


def _to_citizen(notification_id):
    """Whether our message ``notification_id`` went to a citizen (0: the
    thread's root, which only citizens' e-mails name)."""
    if not notification_id:
        return True
    return Notification.objects.filter(pk=notification_id,
                                       template__startswith="citizen/").exists()


def by_references(parsed):
    """The ticket of our Message-IDs in In-Reply-To, then References (the
    most recent first), then of a message of the same thread we received
    (the citizen answering their own e-mail, or writing again in it)."""
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    for how, values in (("in-reply-to", parsed.in_reply_to),
                        ("references", list(reversed(parsed.references)))):
        for value in values:
            ours = mail.read_message_id(value)
            if ours and ours[0] and _to_citizen(ours[1]):
                tickets = _tickets([ours[0]])
                if tickets:
                    return Match(tickets[0], how)
    if ids:
        earlier = (InboundMessage.objects.filter(message_id__in=[i[:255] for i in ids[:50]],
                                                 ticket__isnull=False)
                   .order_by("-received_at").values_list("ticket_id", flat=True).first())
        if earlier:
            tickets = _tickets([earlier])
            if tickets:
                return Match(tickets[0], "thread")
    return None


def _declared_addresses(ticket):
    """The addresses of the ticket's *declared* identities: a From header
    (anybody can write one) may continue a conversation that began as a
    claim, never write into a verified (SPID/CIE) citizen's ticket — that
    takes our signature (the reply address, our Message-ID)."""
    people = [p for p in (ticket.citizen, ticket.declared_contact)
              if p is not None and p.declared and not p.erased_at]
    return {p.email.strip().lower() for p in people if p.email}


def by_subject(parsed):
    """``(match, code)``: the ticket a short code in the subject names when
    the sender is its citizen; else ``(None, code)`` with the code found
    (a stranger's code threads nothing and reveals nothing)."""
    codes = short_codes(parsed.subject)
    if not codes:
        return None, ""
    for ticket in Ticket.objects.filter(short_code__in=codes).select_related(
            "citizen", "declared_contact"):
        if parsed.sender and parsed.sender in _declared_addresses(ticket):
            return Match(ticket, "subject-code"), ticket.short_code
    return None, codes[0]


def find_ticket(parsed, envelope_to=()):
    """The ticket a message answers, by the trusted signs in order; None."""
    return by_token(parsed, envelope_to) or by_references(parsed)


def notification_by_message_id(value):
    ours = mail.read_message_id(value)
    if not ours or not ours[1]:
        return None
    return (Notification.objects.select_related("ticket__citizen", "recipient_citizen")
            .filter(pk=ours[1]).first())


def _from_mailer(parsed):
    local = parsed.sender.split("@", 1)[0]
    return parsed.null_return_path or local in ("mailer-daemon", "postmaster")


def bounced_notification(bounce, parsed, envelope_to=()):
    """The notification a bounce is about: by its VERP address, by the
    returned message's Message-ID (both signed by us), else — only without
    VERP, and only from a mail system (null Return-Path, MAILER-DAEMON) —
    the latest e-mail sent in the last 30 days to the one address that
    failed. Anybody can write a delivery report: a report naming only an
    address is the weakest sign, and never sends anything on App IO."""
    for address in [*envelope_to, *parsed.recipients]:
        pk = mail.read_bounce_token(address)
        if pk:
            found = Notification.objects.filter(pk=pk).first()
            if found is not None:
                return found, "verp"
    found = notification_by_message_id(bounce.original_message_id)
    if found is not None:
        return found, "message-id"
    if (len(bounce.recipients) == 1 and not get_setting("NOTIFY_BOUNCE_ADDRESS")
            and _from_mailer(parsed)):
        since = timezone.now() - timedelta(days=30)
        found = (Notification.objects.filter(
            channel=NotificationChannel.EMAIL, address__iexact=bounce.recipients[0],
            sent_at__gte=since).order_by("-sent_at", "-pk").first())
        if found is not None:
            return found, "recipient"
    return None, ""
