"""The notification outbox: one row per message to deliver.

Rows are written by the services layer in the same transaction as the ticket
change that caused them; background workers deliver them (see the
notifications package). ``dedup_key`` is unique, so the same event can never
queue the same message to the same recipient twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .citizens import Citizen
from .tickets import Ticket, TicketEvent


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    APP_IO = "app_io", _("App IO")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("notification status", "Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recipient_citizen = models.ForeignKey(
        Citizen, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=10, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    #: sha256 of (event, template, channel, recipient): unique, so one event never
    #: queues the same message to the same recipient twice. No personal data.
    dedup_key = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: The token of the worker's claim that is sending the row (see notifications.outbox).
    claim = models.CharField(max_length=32, blank=True, db_index=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    #: What the recipient's side said after sending: a certified-mail (PEC)
    #: receipt ("accettazione", "avvenuta-consegna", …) or "bounce", and when.
    receipt = models.CharField(_("receipt"), max_length=40, blank=True)
    receipt_at = models.DateTimeField(_("receipt time"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="helpdesk_notif_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["status", "-created_at"], name="helpdesk_notif_status"),
        ]

    def __str__(self):
        return f"{self.template} → {self.address or self.recipient_user_id}"
