"""Live chat: a conversation (one per chat ticket) and its messages.

The rows are the truth: every message has a per-conversation sequence number
(``seq``, strictly increasing) and the client's own id (``client_id``, so a
retried send never stores twice). Sockets only say "there is something after
``seq`` N". Rows are written only by :mod:`wagtail_helpdesk.services.conversations`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import Office
from .citizens import Citizen
from .tickets import Attachment, Ticket, Visibility


class ConversationState(models.TextChoices):
    WAITING = "waiting", _("Waiting for an operator")
    ACTIVE = "active", _("Active")
    WRAPUP = "wrapup", _("Wrap-up")
    CLOSED = "closed", _("Closed")
    #: The citizen stopped waiting: the ticket goes on as an assistance request.
    TICKET = "ticket", _("Turned into a request")


#: States that hold one of the operator's places (``CHAT_CAPACITY``).
HELD_STATES = (ConversationState.ACTIVE, ConversationState.WRAPUP)
#: States in which nobody writes any more.
ENDED_STATES = (ConversationState.CLOSED, ConversationState.TICKET)


class Identity(models.TextChoices):
    VERIFIED = "verified", _("Verified (SPID/CIE)")
    DECLARED = "declared", _("Declared")


class Conversation(models.Model):
    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="conversation",
                                  verbose_name=_("ticket"))
    #: The queue: the office whose operators may accept it.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="conversations",
                               verbose_name=_("queue"))
    state = models.CharField(_("state"), max_length=10, choices=ConversationState.choices,
                             default=ConversationState.WAITING)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_conversations", verbose_name=_("operator"),
    )
    #: Who started it: a citizen logged in with SPID/CIE, or a declared contact.
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="conversations",
                                verbose_name=_("citizen"))
    identity = models.CharField(_("identity"), max_length=10, choices=Identity.choices)
    #: SHA-256 of the secret the citizen's browser holds (never stored in clear).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_seq = models.PositiveIntegerField(default=0, editable=False)
    #: The citizen's device and browser, as "Smartphone · Firefox" (no full user agent).
    device = models.CharField(_("device"), max_length=60, blank=True)
    #: The number the citizen asked to be called back at, if any.
    callback_phone = models.CharField(_("call-back number"), max_length=40, blank=True)

    created_at = models.DateTimeField(_("started"), default=timezone.now)
    #: When it (last) entered the queue: the order of the queue and its wait.
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["office", "queued_at"], name="helpdesk_conv_waiting",
                         condition=Q(state="waiting")),
            models.Index(fields=["operator", "state"], name="helpdesk_conv_operator",
                         condition=Q(state__in=["active", "wrapup"])),
            models.Index(fields=["state", "-updated_at"], name="helpdesk_conv_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state__in=["active", "wrapup"]) | Q(operator__isnull=False),
                name="helpdesk_conv_held_has_operator",
            ),
        ]

    def __str__(self):
        return f"{self.ticket_id} ({self.state})"

    @property
    def is_ended(self):
        return self.state in ENDED_STATES


class AuthorKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    OPERATOR = "operator", _("Operator")
    SYSTEM = "system", _("System")


class ConversationMessage(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    seq = models.PositiveIntegerField()
    #: The sender's own id of the message (None for system notices), unique
    #: per conversation and side (``author_kind``).
    client_id = models.CharField(max_length=64, null=True, blank=True)
    author_kind = models.CharField(_("author"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    body = models.TextField(_("text"), blank=True)
    #: ``internal``: between operators only (a consult's talk, a monitoring
    #: notice); never shown to the citizen.
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    #: A file sent in the chat (stored as the ticket's attachment).
    attachment = models.ForeignKey(Attachment, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("attachment"))
    #: System notices: what happened ("joined", "left", …) and its details.
    event = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["conversation", "seq"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"],
                                    name="helpdesk_chatmsg_seq_unique"),
            # Each side's own ids: the citizen's "c-1" and an operator's "c-1"
            # are two messages.
            models.UniqueConstraint(fields=["conversation", "author_kind", "client_id"],
                                    condition=Q(client_id__isnull=False),
                                    name="helpdesk_chatmsg_client_unique"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="helpdesk_chatmsg_seq_positive"),
        ]

    def __str__(self):
        return f"{self.conversation_id}#{self.seq}"


class ParticipantRole(models.TextChoices):
    CONSULTANT = "consultant", _("Consulted colleague")
    SUPERVISOR = "supervisor", _("Supervisor")


class ConversationParticipant(models.Model):
    """A colleague in a conversation besides its operator: a consulted
    colleague or a supervisor. Not ``public``: they read it and talk with
    the operator only (internal messages), or — a supervisor — only watch.
    ``public``: they write to the citizen too. Active while ``ended_at`` is
    empty; one active row per user and conversation."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="helpdesk_chat_participations",
                             verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=12, choices=ParticipantRole.choices)
    public = models.BooleanField(_("writes to the citizen"), default=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    #: The ticket was shared with them for this consult: the share ends with it.
    granted = models.BooleanField(default=False, editable=False)
    started_at = models.DateTimeField(_("since"), default=timezone.now)
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        verbose_name = _("chat participant")
        verbose_name_plural = _("chat participants")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"],
                                    condition=Q(ended_at__isnull=True),
                                    name="helpdesk_chatpart_one_active"),
        ]

    def __str__(self):
        return f"{self.conversation_id}:{self.user_id} ({self.role})"
