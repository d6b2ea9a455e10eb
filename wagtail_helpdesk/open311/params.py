"""Reading the parameters of a request: the jurisdiction, comma lists, dates
and the period of list queries. An empty parameter counts as absent."""

import re
from datetime import datetime, time, timedelta

from django.utils import dateparse, timezone
from django.utils.translation import gettext as _

from ..conf import get_setting
from .errors import Open311Error

#: The longest period a list query may span, and its default (the last 90 days).
MAX_SPAN = timedelta(days=90)
#: The longest description the spec allows.
DESCRIPTION_MAX = 4000
#: Most rows a list returns (the spec's default).
MAX_ROWS = 1000
#: Dates outside these years are refused (far from any ticket, and from the
#: edges of what dates can hold once the 90 days are added).
FIRST_YEAR, LAST_YEAR = 1900, 2999
#: A "+hh:mm" offset that came through an unencoded query string as " hh:mm".
_LOST_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def value(params, name):
    """The parameter stripped, or "" when absent or empty. No text may hold
    the NUL character (no database column can)."""
    text = (params.get(name) or "").strip()
    if "\x00" in text:
        raise Open311Error(400, _("%(name)s contains the NUL character (\\x00): remove it.")
                           % {"name": name})
    return text


def comma_list(params, name):
    return [part.strip() for part in value(params, name).split(",") if part.strip()]


def check_jurisdiction(params):
    """A ``jurisdiction_id`` other than the configured one is unknown (404)."""
    configured = get_setting("OPEN311_JURISDICTION_ID")
    given = value(params, "jurisdiction_id")
    if configured and given and given != configured:
        raise Open311Error(404, _("Unknown jurisdiction_id: this endpoint serves “%(id)s”.")
                           % {"id": configured})


def parse_datetime(params, name, *, day_end=False):
    """An ISO 8601 date or date and time; without a time zone, the site's. A
    date alone is its first moment, or with ``day_end`` its last (an end date
    includes its day)."""
    text = value(params, name)
    if not text:
        return None
    text = _LOST_PLUS.sub(r"\1+\2", text)
    try:
        # A date alone first: parse_datetime would read it as its midnight.
        if (day := dateparse.parse_date(text)) is not None:
            moment = datetime.combine(day, time.max if day_end else time.min)
        else:
            moment = dateparse.parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None or not (FIRST_YEAR <= moment.year <= LAST_YEAR):
        raise Open311Error(400, _("%(name)s is not a valid date and time: use ISO 8601, "
                                  "e.g. 2026-01-31T08:00:00+01:00.") % {"name": name})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def period(params):
    """``(start, end)`` of a list query: at most 90 days; the last 90 days
    when neither is given, 90 days from (or up to) the one given."""
    start = parse_datetime(params, "start_date")
    end = parse_datetime(params, "end_date", day_end=True)
    if start is None and end is None:
        end = timezone.now()
        return end - MAX_SPAN, end
    if start is None:
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if start > end:
        raise Open311Error(400, _("start_date must come before end_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may span at most 90 days."))
    return start, end


def iso(moment):
    """A datetime as the spec wants it: ISO 8601 with its time zone (local time)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")
