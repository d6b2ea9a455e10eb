"""What a received e-mail does to tickets: the decisions of
:mod:`wagtail_helpdesk.inbound.classify` applied, and an administrator's
re-routing of a misfiled message.

The identity-trust rule holds: an e-mail's sender is a *declared* identity.
A new ticket from e-mail gets a declared record of its own; only a reply
that carries our signature (the reply address, our Message-ID) from the
citizen's own address continues with that citizen.
"""

import time
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..attachments import check_upload
from ..conf import get_setting
from ..errors import GuardFailed
from ..models import (
    Channel,
    EventKind,
    InboundMessage,
    InboundOutcome,
    Kind,
    Notification,
    Ticket,
    Visibility,
)
from ..notifications import outbox
from ..permissions import ticket_policy
from ..workflow import Status
from . import core, notify
from .actions import add_citizen_message
from .actors import SYSTEM, is_operator
from .creation import create_ticket
from .identities import declared_citizen

#: Senders that never get an acknowledgement (RFC 3834 §2: not to such addresses).
NO_REPLY = ("noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "mailer-daemon",
            "postmaster", "bounce", "bounces")
REPLY_PREFIX = ("re:", "r:", "rif:", "fw:", "fwd:", "i:", "inoltra:", "aw:", "wg:", "tr:")


def _subject(text):
    text = " ".join((text or "").split())
    while True:
        head = text.split(" ", 1)[0].lower()
        if head in REPLY_PREFIX:
            text = text[len(head):].strip()
        else:
            return text[:200]


def checked_attachments(attachments):
    """(checked files, rejected [{name, reason}]): each file through the
    upload checks on its own, so one bad file does not lose the message."""
    checked, rejected = [], []
    limit = int(get_setting("ATTACHMENT_MAX_COUNT"))
    for item in attachments:
        name = (item.filename or "allegato")[:200]
        if len(checked) >= limit:
            rejected.append({"name": name, "reason": str(_("Too many files."))})
            continue
        upload = SimpleUploadedFile(name, item.data, item.content_type or
                                    "application/octet-stream")
        try:
            checked.append(check_upload(upload))
        except ValidationError as exc:
            rejected.append({"name": name, "reason": str(exc.messages[0])[:200]})
    return checked, rejected


def _data(row, decision, rejected):
    data = {"channel": Channel.EMAIL, "inbound": row.pk}
    if decision.certified:
        data["certified"] = True
    if rejected:
        data["rejected_attachments"] = rejected
    return data


def _body(text, parsed):
    text = (text or "").strip()
    return text or _subject(parsed.subject) or str(_("(no text)"))


def _is_no_reply(address):
    local = (address or "").split("@", 1)[0].lower()
    return not address or any(local == n or local.startswith(n + "+") for n in NO_REPLY)


#: Seconds the staff's and offices' addresses are trusted before they are read again.
STAFF_SECONDS = 30
_staff = {"at": -STAFF_SECONDS, "value": frozenset()}


def _staff_addresses():
    """Every staff member's and office's address (lowercased), read at most
    every STAFF_SECONDS: a worker processes hundreds of messages a minute."""
    from django.contrib.auth import get_user_model

    from ..models import Office

    now = time.monotonic()
    if now - _staff["at"] >= STAFF_SECONDS:
        staff = (Q(is_staff=True) | Q(is_superuser=True)
                 | Q(helpdesk_memberships__isnull=False) | Q(groups__isnull=False))
        users = get_user_model().objects.filter(staff).exclude(email="").values_list(
            "email", flat=True).distinct()
        offices = Office.objects.exclude(email="").values_list("email", flat=True)
        _staff["value"] = frozenset(a.strip().lower() for a in [*users, *offices])
        _staff["at"] = now
    return _staff["value"]


def forget_staff():
    """Read the staff's addresses again next time."""
    _staff["at"] = -STAFF_SECONDS


def staff_address(address):
    """Whether ``address`` is a member of staff's or an office's: their
    mail is never taken as a citizen's (a colleague answering an office's
    notification must not publish an internal remark to the citizen)."""
    return bool(address) and address.strip().lower() in _staff_addresses()


def acknowledge_today(sender, now=None):
    """Whether a ticket opened by ``sender`` now gets the acknowledgement:
    one per sender per day, never to a no-reply or system address."""
    if _is_no_reply(sender):
        return False
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return not Notification.objects.filter(
        template="citizen/ticket_received", address__iexact=sender, created_at__gte=start,
        ticket__channel=Channel.EMAIL).exists()


def over_limit(sender, now=None):
    """Whether ``sender`` opened the most tickets by e-mail allowed this hour."""
    since = (now or timezone.now()) - timedelta(hours=1)
    limit = int(get_setting("INBOUND_MAX_TICKETS_PER_SENDER_HOUR"))
    return InboundMessage.objects.filter(
        sender=sender, outcome=InboundOutcome.NEW_TICKET, processed_at__gte=since).count() >= limit


def _declared(parsed):
    name = " ".join((parsed.sender_name or "").replace('"', " ").split())
    given, _sep, family = name.partition(" ")
    if "@" in name:
        given, family = "", ""
    return declared_citizen(given_name=given[:100], family_name=family[:100],
                            email=parsed.sender[:254])


def open_ticket(row, decision, text, mailbox=None, *, office=None, follow_up_of=None,
                key=None):
    """A new ticket from a message (channel e-mail), acknowledged once per
    sender per day, in ``mailbox``'s office and service (or ``office``'s,
    when an administrator re-routes it there). ``follow_up_of``: the
    resolved ticket it continues."""
    parsed = decision.parsed
    checked, rejected = checked_attachments(parsed.attachments)
    if office is None and mailbox is not None:
        office = mailbox.office
    mailbox_service = mailbox.service if mailbox is not None and mailbox.service_id else None
    kind, service, category = Kind.REQUEST, default_service(office, mailbox_service), None
    if follow_up_of is not None:
        old_service, old_category = follow_up_of.service, follow_up_of.report_category
        if old_category is not None and old_category.active:
            kind, service, category = Kind.REPORT, None, old_category
        elif old_service is not None and old_service.active:
            service = old_service
        office = follow_up_of.office or office
    if kind == Kind.REQUEST and service is None:
        raise GuardFailed(_("The mailbox has no service for new requests: choose one in "
                            "Helpdesk → Mailboxes."))
    if office is None and service is not None:
        office = service.office
    data = _data(row, decision, rejected)
    if follow_up_of is not None:
        data["follow_up_of"] = follow_up_of.pk
    with core.atomic_change():
        ticket = create_ticket(
            SYSTEM, kind=kind, channel=Channel.EMAIL, citizen=_declared(parsed),
            service=service, report_category=category, office=office,
            subject=_subject(parsed.subject), description=_body(text, parsed)[:20000],
            checked=checked, identity="declared",
            idempotency_key=key or f"inbound:{row.sha256[:48]}", data=data,
            acknowledge=not parsed.null_return_path and acknowledge_today(parsed.sender))
        if follow_up_of is not None:
            now = core.now()
            Ticket.objects.filter(pk=ticket.pk).update(follow_up_of=follow_up_of)
            ticket.follow_up_of = follow_up_of
            core.record(ticket, EventKind.FOLLOW_UP, SYSTEM, now=now, visibility=Visibility.PUBLIC,
                        data={"from": follow_up_of.pk, "from_reference": follow_up_of.reference})
            core.record(follow_up_of, EventKind.FOLLOW_UP, SYSTEM, now=now,
                        visibility=Visibility.PUBLIC,
                        data={"to": ticket.pk, "to_reference": ticket.reference})
    return ticket, ticket.events.filter(kind=EventKind.SUBMITTED).first()


def default_service(office, service=None):
    """What new e-mail is a request about: the mailbox's ``service`` when
    active, else the first active service of ``office``."""
    if service is not None and service.active:
        return service
    if office is None:
        return None
    return office.services.filter(active=True).order_by("name", "pk").first()


def _too_late(ticket, now, window):
    return (ticket.status == Status.RESOLVED and
            (ticket.resolved_at is None or now - ticket.resolved_at > timedelta(days=window)))


def thread(row, decision, text, mailbox=None):
    """A reply added to its ticket as the citizen's message; after the reopen
    window, a new ticket following it up. Returns (outcome, ticket, event)."""
    ticket = decision.ticket
    now = core.now()
    erased = ticket.citizen is not None and ticket.citizen.erased_at is not None
    if ticket.status == Status.DRAFT or erased:
        new, event = open_ticket(row, decision, text, mailbox)
        return InboundOutcome.NEW_TICKET, new, event
    window = core.helpdesk_settings().reopen_window_days
    if _too_late(ticket, now, window):
        # Declared, like any sender: the operator links it to the citizen.
        new, event = open_ticket(row, decision, text, mailbox, follow_up_of=ticket)
        return InboundOutcome.NEW_TICKET, new, event
    parsed = decision.parsed
    checked, rejected = checked_attachments(parsed.attachments)
    ticket = add_citizen_message(ticket, SYSTEM, _body(text, parsed), checked=checked,
                                 data=_data(row, decision, rejected),
                                 reopen_window_days=window)
    event = ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE).order_by("-pk").first()
    return InboundOutcome.THREADED, ticket, event


def auto_reply(row, decision, text):
    """An automatic answer kept on its ticket's timeline for operators:
    nothing reopens, nothing counts as unread, nobody answers it."""
    if decision.ticket is None:
        return None
    return core.record(decision.ticket, EventKind.EMAIL_AUTO_REPLY, SYSTEM, now=core.now(),
                       body=(text or "")[:2000],
                       data={"inbound": row.pk, "subject": decision.parsed.subject[:200]})


def bounce(row, decision):
    """A bounce marks its notification failed, with the reason, and sends
    the message on App IO where possible. A delay warning changes nothing."""
    info, notification = decision.bounce, decision.notification
    if notification is None or not info.permanent:
        return
    reason = " ".join(p for p in (info.status, info.diagnostic) if p) or "bounce"
    changed = outbox.undelivered(notification, "bounce", reason, data={
        "bounce": True, "code": info.status, "diagnostic": info.diagnostic[:300],
        "inbound": row.pk})
    if changed and decision.reason != "recipient":  # only on our own signature
        notify.app_io_fallback(notification)


def pec_receipt(row, decision):
    """A certified-mail receipt: recorded on its notification; a failure
    receipt makes it undelivered, as a bounce does."""
    notification, pec = decision.notification, decision.pec
    if notification is None:
        return
    if pec.failed:
        error = pec.certification.get("errore_esteso") or pec.certification.get("errore") or pec.receipt
        if outbox.undelivered(notification, pec.receipt, str(error), data={
                "pec": pec.receipt, "inbound": row.pk}):
            notify.app_io_fallback(notification)
        return
    outbox.receipt(notification, pec.receipt, data={"inbound": row.pk})


def process_again(message, actor):
    """An administrator's "process again" of a message that failed or was
    held (the cause fixed: a mailbox's service chosen, a flood over): back
    to pending, queued. True when it was."""
    from ..inbound import tasks

    if not is_operator(actor) or not ticket_policy().sees_all_offices(actor):
        raise PermissionDenied(_("Only administrators can process received e-mails again."))
    with core.atomic_change():
        again = InboundMessage.objects.filter(pk=message.pk).filter(
            Q(outcome=InboundOutcome.FAILED)
            | Q(outcome=InboundOutcome.DROPPED, reason="rate")
        ).exclude(raw="").update(outcome=InboundOutcome.PENDING, attempts=0, reason="",
                                 detail="", processed_at=None)
        if again:
            tasks.enqueue([message.pk])
    return bool(again)


def reroute(message, actor, *, ticket=None, office=None):
    """An administrator's correction of a misfiled message: added to
    ``ticket`` as the citizen's message, or opening a new ticket in
    ``office``. Recorded on the ticket; returns the ticket."""
    from ..inbound.pipeline import decision_for

    if not is_operator(actor) or not ticket_policy().sees_all_offices(actor):
        raise PermissionDenied(_("Only administrators can re-route received e-mails."))
    if (ticket is None) == (office is None):
        raise GuardFailed(_("Choose a ticket or an office."),
                          {"ticket": _("Choose a ticket or an office.")})
    decision, text = decision_for(message)
    now = core.now()
    with core.atomic_change():
        row = InboundMessage.objects.select_for_update().get(pk=message.pk)
        if row.outcome in (InboundOutcome.PENDING, InboundOutcome.PROCESSING):
            raise GuardFailed(_("This e-mail is still being processed: try again in a minute."))
        if (row.outcome != message.outcome or row.ticket_id != message.ticket_id
                or row.rerouted_at != message.rerouted_at):
            raise GuardFailed(_("Someone else has just moved this e-mail: check where it is "
                                "now."))
        if ticket is not None and row.ticket_id == ticket.pk and row.outcome in (
                InboundOutcome.THREADED, InboundOutcome.NEW_TICKET):
            raise GuardFailed(_("The e-mail is already on this ticket."),
                              {"ticket": _("Choose another ticket.")})
        if ticket is not None:
            if ticket.status == Status.DRAFT:
                raise GuardFailed(_("A draft cannot receive e-mails."),
                                  {"ticket": _("Choose a submitted ticket.")})
            checked, rejected = checked_attachments(decision.parsed.attachments)
            data = {**_data(row, decision, rejected), "rerouted": True}
            target = add_citizen_message(ticket, SYSTEM, _body(text, decision.parsed),
                                         checked=checked, data=data)
            outcome = InboundOutcome.THREADED
            event = target.events.filter(kind=EventKind.CITIZEN_MESSAGE).order_by("-pk").first()
        else:
            if not getattr(office, "active", False):
                raise GuardFailed(_("This office is not active."),
                                  {"office": _("Choose another office.")})
            key = f"inbound:{row.sha256[:40]}:{timezone.now().timestamp():.0f}"
            target, event = open_ticket(row, decision, decision.parsed.text or text,
                                        office=office, key=key)
            outcome = InboundOutcome.NEW_TICKET
        core.record(target, EventKind.EMAIL_REROUTED, actor, now=now,
                    data={"inbound": row.pk, "by": actor.pk,
                          "previous": row.ticket_id, "outcome": row.outcome})
        if row.ticket_id and row.ticket_id != target.pk:
            # The old ticket says where its e-mail went (its timeline is append-only).
            core.record(row.ticket, EventKind.EMAIL_REROUTED, actor, now=now,
                        data={"inbound": row.pk, "by": actor.pk, "moved_to": target.pk,
                              "moved_to_reference": target.reference})
        InboundMessage.objects.filter(pk=row.pk).update(
            outcome=outcome, reason="rerouted", ticket=target, event=event,
            rerouted_by=actor, rerouted_at=now, processed_at=now)
    return target

