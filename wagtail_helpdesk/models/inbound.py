"""Inbound e-mail: the mailboxes the help desk reads, and every message
received, kept as it arrived (the raw ``.eml``, private storage) with the
outcome of its processing (see :mod:`wagtail_helpdesk.inbound`)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..attachments import private_storage
from .catalogue import Office, Service
from .notifications import Notification
from .tickets import Ticket, TicketEvent


class MailboxProtocol(models.TextChoices):
    IMAP = "imap", _("IMAP (a hosted mailbox or a PEC box, read by the worker)")
    LMTP = "lmtp", _("LMTP (delivered by the municipality's own mail server)")


class MailboxSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS (IMAPS, usually port 993)")
    STARTTLS = "starttls", _("STARTTLS (usually port 143)")
    NONE = "none", _("None (only on a trusted local network)")


class Mailbox(models.Model):
    """A mailbox the help desk reads. New mail opens tickets in ``office``."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(
        _("address"), unique=True,
        help_text=_("The mailbox's own address, e.g. assistenza@comune.example.it."))
    protocol = models.CharField(_("how mail arrives"), max_length=10,
                                choices=MailboxProtocol.choices, default=MailboxProtocol.IMAP)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Switch off to stop reading this mailbox."))
    certified = models.BooleanField(
        _("certified mail (PEC)"), default=False,
        help_text=_("A PEC box: messages arrive in certified envelopes."))
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, null=True, blank=True, related_name="mailboxes",
        verbose_name=_("office"),
        help_text=_("The office whose queue new e-mails open tickets in."))
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("service"),
        help_text=_("The service new e-mails are requests about, until an operator changes "
                    "it; empty: the office's first service."))
    host = models.CharField(_("server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    security = models.CharField(_("connection security"), max_length=10,
                                choices=MailboxSecurity.choices, default=MailboxSecurity.SSL)
    username = models.CharField(_("user name"), max_length=255, blank=True)
    #: Write-only in the admin: never shown again once saved.
    password = models.CharField(_("password"), max_length=255, blank=True)
    folder = models.CharField(_("folder to read"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("folder for processed mail"), max_length=255, blank=True, default="Elaborati",
        help_text=_("Processed messages are moved here (created if missing). Empty: they "
                    "stay where they are, marked as read. Messages are never deleted."))
    #: The IMAP folder's UIDVALIDITY and the highest UID taken from it.
    uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(default=0, editable=False)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True,
                                           editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self):
        return f"{self.name} <{self.address}>"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        from ..inbound.matching import forget_mailboxes

        forget_mailboxes()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        from ..inbound.matching import forget_mailboxes

        forget_mailboxes()
        return result


class InboundOutcome(models.TextChoices):
    PENDING = "pending", pgettext_lazy("inbound e-mail", "To process")
    PROCESSING = "processing", pgettext_lazy("inbound e-mail", "Processing")
    THREADED = "threaded", _("Reply added to its ticket")
    NEW_TICKET = "new_ticket", pgettext_lazy("inbound e-mail", "New ticket")
    AUTO_REPLY = "auto_reply", _("Automatic reply")
    BOUNCE = "bounce", _("Undelivered notification (bounce)")
    PEC_RECEIPT = "pec_receipt", _("PEC receipt")
    DROPPED = "dropped", _("Dropped")
    FAILED = "failed", _("Could not be processed")


#: How an outcome was reached (``InboundMessage.reason``), as administrators read it.
REASONS = {
    "token": _("signed reply address"),
    "in-reply-to": _("answers one of our e-mails (In-Reply-To)"),
    "references": _("in the thread of one of our e-mails (References)"),
    "thread": _("in the thread of an e-mail received before"),
    "subject-code": _("the code in the subject, from the ticket's citizen"),
    "loop": _("our own mail coming back"),
    "rate": _("too many new tickets from this sender in an hour"),
    "no-sender": _("no sender"),
    "staff": _("from a colleague's or an office's address: not a citizen's message"),
    "duplicate": _("a copy of an e-mail already received at another of our addresses"),
    "verp": _("bounce address of the notification (VERP)"),
    "message-id": _("Message-ID of the returned notification"),
    "recipient": _("the address that failed"),
    "unknown": _("no notification of ours found"),
    "delayed": _("delivery delayed, not failed"),
    "auto-submitted": _("Auto-Submitted header"),
    "x-autoreply": _("X-Autoreply header"),
    "x-autorespond": _("X-Autorespond header"),
    "precedence-auto-reply": _("Precedence: auto_reply"),
    "subject": _("automatic-reply subject"),
    "exchange": _("Exchange automatic reply"),
    "precedence-bulk": _("bulk mail"),
    "precedence-list": _("mailing list"),
    "precedence-junk": _("junk mail"),
    "list-id": _("mailing list"),
    "error": _("error"),
    "rerouted": _("moved by an administrator"),
}


def raw_upload_to(instance, filename):
    now = timezone.now()
    return f"helpdesk/inbound/{now:%Y/%m}/{uuid.uuid4().hex}.eml"


class InboundMessage(models.Model):
    """One message as received, and what it became."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="messages", verbose_name=_("mailbox"))
    raw = models.FileField(_("original message"), storage=private_storage,
                           upload_to=raw_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    #: Where IMAP found it (UIDVALIDITY and UID of the folder): never taken twice.
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    #: The LMTP envelope's recipients (and sender), which the headers may not show.
    envelope_to = models.JSONField(default=list, blank=True)
    envelope_from = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    outcome = models.CharField(_("outcome"), max_length=12, choices=InboundOutcome.choices,
                               default=InboundOutcome.PENDING)
    #: How the outcome was reached, a short code ("token", "in-reply-to",
    #: "subject-code", "loop", "rate", …), and details (errors) for administrators.
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    detail = models.TextField(_("details"), blank=True)
    #: Certified mail (PEC): the certification data of its envelope (daticert.xml).
    certified = models.BooleanField(_("certified (PEC)"), default=False)
    certification = models.JSONField(default=dict, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="inbound_messages", verbose_name=_("ticket"))
    event = models.ForeignKey(TicketEvent, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="inbound_messages")
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    rerouted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    rerouted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("received e-mail")
        verbose_name_plural = _("received e-mails")
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"],
                                    condition=Q(uid__isnull=False),
                                    name="helpdesk_inbound_uid_unique"),
        ]
        indexes = [
            models.Index(fields=["-received_at"], name="helpdesk_inbound_received"),
            models.Index(fields=["outcome", "received_at"], name="helpdesk_inbound_outcome"),
            models.Index(fields=["sender", "received_at"], name="helpdesk_inbound_sender"),
        ]

    def __str__(self):
        return f"{self.sender}: {self.subject}"

    def get_reason_display(self):
        """The reason as people read it ("" for an ordinary new ticket); a
        PEC receipt's reason is its kind, shown as it is."""
        if self.reason in ("", "new"):
            return ""
        return REASONS.get(self.reason, self.reason)
