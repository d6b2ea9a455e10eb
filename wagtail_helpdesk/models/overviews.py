"""Overviews (resoconti): the desk's figures over a period and offices, as a PDF
with charts and an XLSX with the tables, generated in the background and kept
for download; and the subscriptions that e-mail last month's overview to a
supervisor on the first days of every month.

The files hold aggregates only: counts, times, categories and rounded places,
never a citizen's data or a ticket's text.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..attachments import private_storage
from .catalogue import Office


class OverviewStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("overview status", "Queued")
    RUNNING = "running", _("Being generated")
    DONE = "done", _("Ready")
    FAILED = "failed", pgettext_lazy("overview status", "Failed")


def overview_upload_to(instance, filename):
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"helpdesk/overviews/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix[:6]}"


class Overview(models.Model):
    period_start = models.DateField(_("from"))
    #: Inclusive.
    period_end = models.DateField(_("to"))
    #: Every office the requester may see (``offices`` is then empty).
    all_offices = models.BooleanField(_("all offices"), default=False)
    offices = models.ManyToManyField(Office, blank=True, related_name="+",
                                     verbose_name=_("offices"))
    status = models.CharField(_("status"), max_length=10, choices=OverviewStatus.choices,
                              default=OverviewStatus.QUEUED)
    #: 0–100, while it is being generated.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="helpdesk_overviews", verbose_name=_("requested by"),
    )
    #: Set when the monthly subscription generated it.
    subscription = models.ForeignKey(
        "OverviewSubscription", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="overviews",
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("generated"), null=True, blank=True)
    pdf = models.FileField(storage=private_storage, upload_to=overview_upload_to,
                           max_length=255, blank=True)
    xlsx = models.FileField(storage=private_storage, upload_to=overview_upload_to,
                            max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("overview")
        verbose_name_plural = _("overviews")
        indexes = [models.Index(fields=["requested_by", "-created_at"],
                                name="helpdesk_overview_requester")]

    def __str__(self):
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"


class OverviewSubscription(models.Model):
    """Last month's overview, e-mailed (as a link) to ``user`` every month."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="helpdesk_overview_subscriptions")
    all_offices = models.BooleanField(_("all offices"), default=False)
    offices = models.ManyToManyField(Office, blank=True, related_name="+",
                                     verbose_name=_("offices"))
    active = models.BooleanField(_("active"), default=True)
    #: The first day of the last month sent: the monthly job sends each month once.
    last_month = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("monthly overview by e-mail")
        verbose_name_plural = _("monthly overviews by e-mail")
        constraints = [models.UniqueConstraint(fields=["user"],
                                               name="helpdesk_overview_subscription_user")]

    def __str__(self):
        return str(self.user)
