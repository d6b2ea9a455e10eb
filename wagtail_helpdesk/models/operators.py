"""Operators' availability (presence), as the seeds describe it: set by the
system from activity, changeable by the operator."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    DO_NOT_DISTURB = "dnd", _("Do not disturb")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class OperatorPresence(models.Model):
    """One row per operator: the status they chose (empty = automatic) and when
    they were last seen in the admin. The effective presence is computed by
    :mod:`wagtail_helpdesk.services.presence`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
        related_name="helpdesk_presence",
    )
    chosen = models.CharField(
        _("chosen status"), max_length=10, choices=Presence.choices, blank=True,
        help_text=_("Empty: set automatically from activity."),
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("operator presence")
        verbose_name_plural = _("operator presences")

    def __str__(self):
        return f"{self.user}: {self.chosen or 'auto'}"


class NewTicketMail(models.TextChoices):
    """How an operator hears of new tickets in their offices."""

    IMMEDIATE = "immediate", _("At once: one e-mail per ticket")
    DAILY = "daily", _("Once a day: a summary")
    NEVER = "never", _("Never")


class OperatorPreferences(models.Model):
    """An operator's own choices about the help desk's e-mails (no row: the
    defaults). Edited in their Wagtail account, "Notifications" tab."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
        related_name="helpdesk_preferences",
    )
    new_tickets = models.CharField(
        _("new tickets in your offices"), max_length=10, choices=NewTicketMail.choices,
        default=NewTicketMail.DAILY,
        help_text=_("Tickets assigned to you, mentions and deadlines are always sent at once."),
    )
    #: The end of the period the last daily summary covered.
    digest_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("operator preferences")
        verbose_name_plural = _("operator preferences")

    def __str__(self):
        return f"{self.user}: {self.new_tickets}"
