"""Dates as citizens read them, the same on pages, in e-mails and in the PDF
receipt: "18 novembre 2026", "18 novembre 2026, 14:30".

Django's Italian catalogue capitalises the names of months and weekdays
("18 Novembre 2026", "Mercoledì"), and its Italian ``DATE_FORMAT`` /
``DATETIME_FORMAT`` use them; Italian writes them in lower case. A formats
module cannot fix that (the names come from the translations, not from the
format), so every date shown to citizens goes through :func:`format_date`
(templates: the ``helpdesk_date`` and ``helpdesk_datetime`` filters of
``{% load helpdesk_dates %}``), which writes the names in lower case in the
languages listed in :data:`LOWER_CASE_NAMES`.
"""

from datetime import datetime

from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

#: Day, month name, year.
DATE = "j F Y"
#: Day, month name, year, hour and minutes.
DATETIME = "j F Y, H:i"

#: Languages that write month and weekday names in lower case where
#: Django's catalogue capitalises them.
LOWER_CASE_NAMES = frozenset({"it"})


class _LowerCaseNames(dateformat.DateFormat):
    """Django's date format with the names of months and weekdays in lower case."""

    def D(self):
        return super().D().lower()

    def E(self):
        return super().E().lower()

    def F(self):
        return super().F().lower()

    def M(self):
        return super().M().lower()

    def N(self):
        return super().N().lower()

    def l(self):  # noqa: E743
        return super().l().lower()


def _lower_case_names():
    language = (translation.get_language() or "").split("-")[0].lower()
    return language in LOWER_CASE_NAMES


def format_date(value, fmt=DATE):
    """``value`` (a date or datetime; aware ones in the current time zone) in
    ``fmt``: a Django date format or the name of one (``"DATE_FORMAT"``)."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    fmt = get_format(fmt)
    formatter = _LowerCaseNames if _lower_case_names() else dateformat.DateFormat
    return formatter(value).format(fmt)


def format_datetime(value):
    return format_date(value, DATETIME)


def person_name(user):
    """How an operator (a Django user) is named on screen: full name, else username."""
    return (user.get_full_name() or user.get_username()) if user else ""


def format_duration(value):
    """A duration the way people say it: "45 min", "2 h 15 min", "3 days 4 h".

    Each number stays with its unit (no-break space) when the line wraps."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return str(_("less than a minute"))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
        if days < 10 and hours:
            parts.append(str(_("%(count)d h")) % {"count": hours})
    else:
        if hours:
            parts.append(str(_("%(count)d h")) % {"count": hours})
        if minutes:
            parts.append(str(_("%(count)d min")) % {"count": minutes})
    return " ".join(part.replace(" ", "\u00a0") for part in parts)
