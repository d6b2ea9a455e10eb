"""The supervisors' dashboard's figures of closed days, kept per office.

A closed day is a local calendar day (``TIME_ZONE``) before today. Its
figures are sums and counts, so that any set of days and offices adds up:
the dashboard reads them instead of aggregating a month of tickets on every
load and computes only today's part (and the edges of its rolling windows)
live. :mod:`wagtail_helpdesk.insight.daily` computes and checks them.

A row holds one office's figures of one day; the resolved tickets are split
by resolution type (``resolution_type`` set, the other figures zero), so that
whether a type "counts as solved" is read when the figures are shown, not
frozen when they were computed. Tickets without an office are never kept
here: the dashboard counts them live (few, and visible to their creator only).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .catalogue import Office, ResolutionType


class DailyFigures(models.Model):
    day = models.DateField(_("day"))
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    resolution_type = models.ForeignKey(
        ResolutionType, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("resolution type"))
    #: Tickets submitted that day.
    opened = models.PositiveIntegerField(default=0)
    #: Tickets first answered that day, and the sum of their waits (µs).
    first_responses = models.PositiveIntegerField(default=0)
    first_response_us = models.BigIntegerField(default=0)
    #: Tickets resolved that day (still resolved) with ``resolution_type``…
    resolved = models.PositiveIntegerField(default=0)
    #: … those of them with a submission time, and the sum of their durations (µs).
    resolutions = models.PositiveIntegerField(default=0)
    resolution_us = models.BigIntegerField(default=0)
    #: Citizens' ratings given that day; those with a score, and the scores' sum.
    ratings = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0)

    class Meta:
        verbose_name = _("daily figures")
        verbose_name_plural = _("daily figures")
        indexes = [models.Index(fields=["day", "office"], name="helpdesk_daily_day")]


class FiguresDay(models.Model):
    """A closed day whose :class:`DailyFigures` are there: they reflect every
    ticket change stamped (``updated_at``) before ``checked_at`` minus a
    margin, and those in ``seen``, in the zone ``time_zone``."""

    day = models.DateField(_("day"), primary_key=True)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)
    time_zone = models.CharField(_("time zone"), max_length=64)
    #: The changes the check before the last computation found, already in
    #: the figures (``insight.daily``: ``[source, id, stamp in µs]``).
    seen = models.JSONField(_("changes seen"), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("day of figures")
        verbose_name_plural = _("days of figures")
