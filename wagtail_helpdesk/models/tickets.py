"""Tickets, their append-only timeline, their attachments, short-code counters.

Models hold data and invariants only. Every change to a ticket goes through
:mod:`wagtail_helpdesk.services`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..attachments import private_storage
from ..tickets import open_labels
from ..workflow import OPEN_STATUSES, Status
from .catalogue import Office, ReportCategory, ResolutionType, Service
from .citizens import Citizen


class Kind(models.TextChoices):
    REQUEST = "request", _("Assistance request")
    REPORT = "report", _("Report")


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    PHONE = "phone", _("Phone")
    DESK = "desk", _("Front desk")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")
    CHAT = "chat", _("Chat")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Visible to the citizen")
    INTERNAL = "internal", _("Operators only")


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    short_code = models.CharField(
        _("short code"), max_length=32, unique=True, null=True, blank=True, editable=False
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("service"),
    )
    report_category = models.ForeignKey(
        ReportCategory, on_delete=models.PROTECT, null=True, blank=True,
        related_name="tickets", verbose_name=_("problem type"),
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("office"),
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)

    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    address = models.CharField(_("address"), max_length=255, blank=True)

    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("citizen"),
    )
    #: The declared identity the ticket came with, kept once an operator has
    #: linked the ticket to a verified citizen (``citizen``).
    declared_contact = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, null=True, blank=True, editable=False,
        related_name="declared_tickets", verbose_name=_("declared contact"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_assigned_tickets", verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_created_tickets", verbose_name=_("created by"),
    )
    #: Opened by the citizen (web forms, personal area) rather than by an operator
    #: or the system. A citizen's draft is theirs alone; an operator's, the office's.
    opened_by_citizen = models.BooleanField(_("opened by the citizen"), default=False,
                                            editable=False)
    #: Set by the channel that created the ticket (web form submission, API
    #: ``Idempotency-Key``): a replayed creation returns this ticket instead of
    #: creating another one.
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True,
                                       editable=False)

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last interaction"), default=timezone.now)
    last_citizen_activity_at = models.DateTimeField(
        _("last citizen activity"), null=True, blank=True
    )
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)

    resolution_type = models.ForeignKey(
        ResolutionType, on_delete=models.PROTECT, null=True, blank=True,
        related_name="tickets", verbose_name=_("resolution type"),
    )
    resolution_text = models.TextField(_("resolution"), blank=True)

    unread_count = models.PositiveIntegerField(
        _("unread citizen messages"), default=0, editable=False
    )
    #: The resolved ticket this one follows up (a citizen's reply by e-mail
    #: after the reopen window opens a new ticket linked to the old one).
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="follow_ups", verbose_name=_("follow-up of"),
    )
    #: The report this one duplicates (linked by an operator): resolved with it,
    #: and its reporter notified when the problem is fixed.
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="duplicates", verbose_name=_("duplicate of"),
    )
    labels = models.ManyToManyField(
        "wagtail_helpdesk.Label", through="wagtail_helpdesk.TicketLabel", blank=True,
        related_name="tickets", verbose_name=_("labels"),
    )
    #: Bumped by every change; callers pass the version they saw to detect collisions.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-last_activity_at"]
        permissions = [
            ("view_all_tickets", _("Can see and work on the tickets of every office")),
            ("view_helpdesk_dashboard", _("Can see the supervisor dashboard")),
            ("erase_personal_data", _("Can erase citizens' personal data")),
        ]
        indexes = [
            models.Index(fields=["office", "status", "-last_activity_at"], name="helpdesk_t_office_status"),
            models.Index(fields=["assignee", "status", "-last_activity_at"], name="helpdesk_t_assignee"),
            models.Index(fields=["status", "-last_activity_at"], name="helpdesk_t_status"),
            models.Index(fields=["kind", "status"], name="helpdesk_t_kind"),
            models.Index(fields=["channel"], name="helpdesk_t_channel"),
            models.Index(fields=["priority"], name="helpdesk_t_priority"),
            models.Index(fields=["-created_at"], name="helpdesk_t_created"),
            models.Index(fields=["-updated_at"], name="helpdesk_t_updated"),
            models.Index(fields=["-last_activity_at"], name="helpdesk_t_activity"),
            models.Index(fields=["office", "due_at"], name="helpdesk_t_office_due",
                         condition=Q(status__in=["new", "in_progress", "waiting"])),
            models.Index(fields=["citizen", "-last_activity_at"], name="helpdesk_t_citizen"),
            # The search box: a short code typed in any case (``iexact``). The
            # trigram indexes of subject and description are PostgreSQL-only:
            # migration 0024 makes them.
            models.Index(Upper("short_code"), name="helpdesk_t_code_upper"),
            # Supervisor metrics: opened/resolved per day and response times.
            models.Index(fields=["submitted_at"], name="helpdesk_t_submitted"),
            models.Index(fields=["resolved_at"], name="helpdesk_t_resolved",
                         condition=Q(resolved_at__isnull=False)),
            models.Index(fields=["first_response_at"], name="helpdesk_t_first_response",
                         condition=Q(first_response_at__isnull=False)),
            models.Index(fields=["created_by", "status"], name="helpdesk_t_creator"),
            # Citizens' report form: open reports of a category near a point.
            models.Index(fields=["report_category", "latitude", "longitude"],
                         name="helpdesk_t_open_places",
                         condition=Q(status__in=["new", "in_progress", "waiting"])
                         & Q(latitude__isnull=False)),
            # Supervisors' dashboard and Helpdesk menu figure: open tickets only (0025).
            models.Index(fields=["office", "assignee", "status"], name="helpdesk_t_open_work",
                         include=["due_at", "unread_count", "submitted_at", "created_by",
                                  "opened_by_citizen", "id"],
                         condition=Q(status__in=["new", "in_progress", "waiting"])),
            models.Index(fields=["office", "submitted_at"], name="helpdesk_t_pending",
                         include=["created_by", "opened_by_citizen"],
                         condition=Q(status="new", assignee__isnull=True)),
            models.Index(fields=["assignee"], name="helpdesk_t_unread",
                         include=["unread_count", "office", "created_by", "opened_by_citizen"],
                         condition=Q(status__in=["new", "in_progress", "waiting"],
                                     unread_count__gt=0)),
            models.Index(fields=["created_by"], name="helpdesk_t_no_office",
                         condition=Q(office__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="request") & Q(report_category__isnull=True))
                | (Q(kind="report") & Q(service__isnull=True)),
                name="helpdesk_ticket_kind_matches_catalogue",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved")
                | (Q(resolution_type__isnull=False) & Q(resolved_at__isnull=False)),
                name="helpdesk_ticket_resolved_has_resolution",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}".strip()

    @classmethod
    def from_db(cls, db, field_names, values):
        ticket = super().from_db(db, field_names, values)
        open_labels.remember(ticket)  # a save that keeps its labels' copy writes nothing more
        return ticket

    @property
    def reference(self):
        """What people call the ticket: its short code, or ``#<id>``."""
        return self.short_code or (f"#{self.pk}" if self.pk else "")

    @property
    def topic(self):
        """What the ticket is about: its service, or its report category."""
        return self.service or self.report_category

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def has_location(self):
        return self.latitude is not None and self.longitude is not None


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    DRAFT_UPDATED = "draft_updated", _("Draft updated")
    SUBMITTED = "submitted", _("Submitted")
    TAKEN_CHARGE = "taken_charge", _("Taken in charge")
    ASSIGNED = "assigned", _("Assigned")
    TRANSFERRED = "transferred", _("Transferred")
    CITIZEN_MESSAGE = "citizen_message", _("Message from the citizen")
    REPLY = "reply", _("Reply to the citizen")
    NOTE = "note", _("Private note")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reactivated")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    NOTIFICATION_SENT = "notification_sent", _("Notification delivered")
    NOTIFICATION_FAILED = "notification_failed", _("Notification failed")
    RATING = "rating", _("Rating")
    SLA_WARNING = "sla_warning", _("Deadline reminder")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("Personal data erased")
    CITIZEN_LINKED = "citizen_linked", _("Linked to a citizen")
    CONSULT_GRANTED = "consult_granted", _("Consult granted")
    CONSULT_REVOKED = "consult_revoked", _("Consult revoked")
    CHAT_MESSAGE = "chat_message", _("Chat message")
    CHAT_JOINED = "chat_joined", _("Joined the chat")
    CHAT_LEFT = "chat_left", _("Left the chat")
    CHAT_CLOSED = "chat_closed", _("Chat ended")
    CHAT_TO_TICKET = "chat_to_ticket", _("Chat turned into a request")
    CHAT_CALLBACK = "chat_callback", _("Call-back requested")
    CHAT_INVITED = "chat_invited", _("Colleague invited to the chat")
    CHAT_MONITORED = "chat_monitored", _("Chat monitored")
    CHAT_TRANSCRIPT = "chat_transcript", _("Chat transcript sent by e-mail")
    EMAIL_AUTO_REPLY = "email_auto_reply", _("Automatic e-mail reply received")
    FOLLOW_UP = "follow_up", _("Follow-up")
    NOTIFICATION_RECEIPT = "notification_receipt", _("Delivery receipt")
    EMAIL_REROUTED = "email_rerouted", _("E-mail moved to this ticket")
    DUPLICATE_LINKED = "duplicate_linked", _("Linked as a duplicate")
    DUPLICATE_UNLINKED = "duplicate_unlinked", _("Duplicate link removed")
    LABELS_CHANGED = "labels_changed", _("Labels changed")


class AppendOnlyError(RuntimeError):
    pass


class TicketEvent(models.Model):
    """One entry of a ticket's timeline. Written once, never edited or deleted
    (the only exception is the erasure of personal data, done in bulk by the
    services layer and itself recorded as an event)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    by_citizen = models.BooleanField(_("by the citizen"), default=False)
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="helpdesk_event_ticket"),
            # Open311 servicerequestupdates: every ticket's public events in a period.
            models.Index(fields=["created_at"], name="helpdesk_event_created"),
            # An operator's own figures ("La mia attività"): their events of a day.
            models.Index(fields=["actor", "created_at"], name="helpdesk_event_actor"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Ticket events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ticket events are append-only.")


def attachment_upload_to(instance, filename):
    # The stored name never carries the citizen's file name: that is kept apart.
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    now = timezone.now()
    return f"helpdesk/{now:%Y/%m}/{uuid.uuid4().hex}{suffix[:8]}"


class Attachment(models.Model):
    """A file attached to a ticket; private, served only through a checked view."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("file"), storage=private_storage, upload_to=attachment_upload_to,
                            max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    by_citizen = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.original_name


class ShortCodeSequence(models.Model):
    """The counter behind sequential short codes, one row per prefix and year.

    Each kind has its own prefix, so this is "per kind and year"; keying on the
    prefix keeps codes unique even if both kinds are given the same prefix.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="helpdesk_shortcode_seq_unique"),
        ]

    def __str__(self):
        return f"{self.prefix} {self.year}: {self.last_value}"
