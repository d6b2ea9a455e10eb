"""What the open data publishes: which reports, which columns, the rows.

A report is published when it is a report (not a request), submitted (not a
draft), received at least ``delay_days`` ago, of a report category whose
``open_data`` is on, and has a place. Its row holds only the columns of
:data:`COLUMNS` — never its subject, description, address, resolution text,
citizen, operators, times of day or channel.

The channel is left out on purpose: how a citizen got in touch (phone, front
desk, chat) says something about the person, not about the problem, and with
a date and a grid cell it narrows down who reported it.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings as django_settings
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Kind, Ticket
from ..workflow import Status
from . import grid

#: The columns, in order: the CSV header and the GeoJSON properties (these
#: without latitudine/longitudine, which are the Point's coordinates). Stable:
#: a column is never renamed or removed, only added at the end.
COLUMNS = (
    "id", "categoria", "categoria_codice", "stato", "data_ricezione", "data_risoluzione",
    "ufficio", "latitudine", "longitudine", "esito",
)

#: What each column holds (shown on the public page, kept in docs/open-data.md).
COLUMN_DESCRIPTIONS = {
    "id": _("An opaque identifier of the report, stable from one download to the next; "
            "it is not the report's number."),
    "categoria": _("The type of problem (report category), as the municipality names it."),
    "categoria_codice": _("The type of problem's code (stable when its name changes)."),
    "stato": _("The status: aperta (received), presa_in_carico (taken in charge), "
               "in_attesa (waiting for more information), risolta (resolved)."),
    "data_ricezione": _("The day the report was received (YYYY-MM-DD, Italian time)."),
    "data_risoluzione": _("The day the report was resolved (YYYY-MM-DD), empty while open."),
    "ufficio": _("The office responsible for the report."),
    "latitudine": _("Latitude (WGS 84) of the centre of the grid cell holding the place."),
    "longitudine": _("Longitude (WGS 84) of the centre of the grid cell holding the place."),
    "esito": _("How the report ended (from the municipality's list of outcomes), "
               "empty while open."),
}

#: The public status vocabulary, from the ticket's status.
PUBLIC_STATUS = {
    Status.NEW: "aperta",
    Status.IN_PROGRESS: "presa_in_carico",
    Status.WAITING: "in_attesa",
    Status.RESOLVED: "risolta",
}

#: Rows fetched from the database at a time (memory stays constant).
CHUNK_SIZE = 2000
#: Hex digits of the opaque identifier (64 bits).
ID_LENGTH = 16

_FIELDS = (
    "pk", "report_category__name", "report_category__slug", "status", "submitted_at",
    "resolved_at", "office__name", "latitude", "longitude", "resolution_type__name",
)


def _id_key():
    # Derived from SECRET_KEY, never the key itself: changing SECRET_KEY
    # changes every identifier (documented).
    return hmac.new(django_settings.SECRET_KEY.encode(), b"wagtail_helpdesk.opendata.id",
                    hashlib.sha256).digest()


def opaque_id(pk, key=None):
    """The public identifier of ticket ``pk``: an HMAC of the pk under a key
    derived from ``SECRET_KEY``, truncated. Stable across exports; nobody
    without the key can go back to the pk or guess the next one."""
    key = key or _id_key()
    return hmac.new(key, str(pk).encode(), hashlib.sha256).hexdigest()[:ID_LENGTH]


def cutoff(options, now=None):
    """Reports received after this moment are not published yet."""
    return (now or timezone.now()) - timedelta(days=options.delay_days)


def published(options, now=None):
    """The published tickets (a queryset, unordered)."""
    return Ticket.objects.filter(
        kind=Kind.REPORT, status__in=list(PUBLIC_STATUS), submitted_at__isnull=False,
        submitted_at__lte=cutoff(options, now), report_category__open_data=True,
        latitude__isnull=False, longitude__isnull=False,
    )


@dataclass(frozen=True)
class State:
    """How many rows and when the newest of them last changed: what the
    ETag and Last-Modified of the files come from."""

    count: int
    last_change: object  # datetime or None


def state(options, now=None):
    """One aggregate query over the published tickets."""
    row = published(options, now).aggregate(n=Count("pk"), last=Max("updated_at"))
    return State(row["n"], row["last"])


def _day(moment, zone):
    return timezone.localtime(moment, zone).date().isoformat() if moment else ""


def rows(options, now=None):
    """The published rows as dicts of :data:`COLUMNS`, oldest first, streamed
    from one query (``iterator``) with only the columns needed. Empty values
    are ``""``; coordinates are floats."""
    key = _id_key()
    zone = timezone.get_default_timezone()
    metres = options.grid_metres
    queryset = (published(options, now).order_by("submitted_at", "pk")
                .values_list(*_FIELDS))
    for (pk, category, code, status, submitted, resolved, office, latitude, longitude,
         outcome) in queryset.iterator(chunk_size=CHUNK_SIZE):
        lat, lon = grid.snap(latitude, longitude, metres)
        is_resolved = status == Status.RESOLVED
        yield {
            "id": opaque_id(pk, key),
            "categoria": category,
            "categoria_codice": code,
            "stato": PUBLIC_STATUS[status],
            "data_ricezione": _day(submitted, zone),
            "data_risoluzione": _day(resolved, zone) if is_resolved else "",
            "ufficio": office or "",
            "latitudine": lat,
            "longitudine": lon,
            "esito": (outcome or "") if is_resolved else "",
        }
