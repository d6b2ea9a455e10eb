"""Labels (etichette) operators put on tickets — and so on a chat's
conversation, which is a ticket — to organise their work.

A label is global (managed by administrators) or belongs to an office's
vocabulary (managed by its supervisors). Operators pick labels from the
vocabulary of the ticket's office plus the global ones; they may type a new
one only in an office whose vocabulary is open (``Office.open_labels``).
Labels change only through :mod:`wagtail_helpdesk.services.labels`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import Office


class LabelColour(models.TextChoices):
    """A fixed palette: each colour is readable (WCAG AA) with white text."""

    GREY = "grey", _("Grey")
    BLUE = "blue", _("Blue")
    TEAL = "teal", _("Teal")
    GREEN = "green", _("Green")
    OLIVE = "olive", _("Olive")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")
    PINK = "pink", _("Pink")
    PURPLE = "purple", _("Purple")
    BROWN = "brown", _("Brown")


#: Background of each colour (white text on it has a contrast of 4.5:1 or more).
LABEL_HEX = {
    "grey": "#5c6f82", "blue": "#0055a5", "teal": "#00707a", "green": "#1e7b34",
    "olive": "#5f6b00", "orange": "#a34a00", "red": "#b3261e", "pink": "#a3195b",
    "purple": "#6a3d9a", "brown": "#7a4b2a",
}


class Label(models.Model):
    name = models.CharField(_("name"), max_length=40)
    colour = models.CharField(_("colour"), max_length=10, choices=LabelColour.choices,
                              default=LabelColour.GREY)
    #: Empty: a global label, offered on every office's tickets.
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, null=True, blank=True, related_name="labels",
        verbose_name=_("office"),
        help_text=_("Leave empty for a label offered on the tickets of every office."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        constraints = [
            models.UniqueConstraint(Lower("name"), "office", name="helpdesk_label_unique_office"),
            models.UniqueConstraint(Lower("name"), condition=Q(office__isnull=True),
                                    name="helpdesk_label_unique_global"),
        ]

    def __str__(self):
        return self.name

    @property
    def hex(self):
        return LABEL_HEX.get(self.colour, LABEL_HEX["grey"])


class TicketLabel(models.Model):
    """A label on a ticket (who put it there, and when)."""

    ticket = models.ForeignKey("wagtail_helpdesk.Ticket", on_delete=models.CASCADE,
                               related_name="label_links")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="ticket_links")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    added_at = models.DateTimeField(default=timezone.now)
    #: The ticket's office while the ticket is open, else null: the dashboard
    #: counts the labels on its offices' open tickets from one index range.
    #: Kept by :mod:`wagtail_helpdesk.tickets.open_labels`.
    open_office = models.ForeignKey(
        "wagtail_helpdesk.Office", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_index=False, editable=False,
    )

    class Meta:
        verbose_name = _("ticket label")
        verbose_name_plural = _("ticket labels")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "label"], name="helpdesk_ticket_label_unique"),
        ]
        indexes = [
            # The list filter: the tickets of a label.
            models.Index(fields=["label", "ticket"], name="helpdesk_ticket_label_label"),
            # The dashboard: the labels on an office's open tickets.
            models.Index(fields=["open_office", "label"], name="helpdesk_ticket_label_open",
                         condition=models.Q(open_office__isnull=False)),
        ]
