"""Consults (consulenze): a ticket shared with a colleague of another office
for advice.

While the row exists the consultant may read the ticket (timeline, internal
notes and files included) and write private notes on it; nothing else. The
row is deleted when the consult ends, so revocation is immediate; the
timeline keeps who granted and who ended it. Rows are written only by
:mod:`wagtail_helpdesk.services.consults`; who may see what lives in
:mod:`wagtail_helpdesk.permissions`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tickets import Ticket


class TicketConsult(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="consults",
                               verbose_name=_("ticket"))
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_consults",
        verbose_name=_("consultant"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("shared by"),
    )
    granted_at = models.DateTimeField(_("shared at"), default=timezone.now)

    class Meta:
        ordering = ["granted_at", "pk"]
        verbose_name = _("consult")
        verbose_name_plural = _("consults")
        constraints = [
            # Also the index behind "the tickets this user consults on".
            models.UniqueConstraint(fields=["consultant", "ticket"],
                                    name="helpdesk_consult_unique"),
        ]

    def __str__(self):
        return f"{self.ticket_id} → {self.consultant_id}"
