"""Open reports near a point: shown to a citizen placing a report, so they
can see the problem is already known.

What is shown is only the problem type, the distance (to 10 m), the state,
the date and a position rounded to about 100 m. Never the citizen, the title,
the description or the typed address: those are free text and may hold
personal data ("davanti al civico 3, sig. Rossi").

Which reports, and in what order, follow the same territorial matching as the
operators' likely duplicates (:mod:`wagtail_helpdesk.ai.duplicates`): the
same problem type, within the radius, open; the closest in space and time
first (:func:`~wagtail_helpdesk.ai.duplicates.place_score`: the distance
weighs more than how long ago it was sent). Nothing of the reports' text is
compared here: the citizen's words are not sent to any lookup.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from ..conf import get_setting
from ..models import Kind, Ticket
from ..workflow import OPEN_STATUSES

EARTH_RADIUS_M = 6_371_000


def distance_m(lat1, lng1, lat2, lng2):
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class NearbyReport:
    category: str
    status: str
    status_label: str
    submitted_at: datetime
    distance: int  # metres
    lat: float
    lng: float

    def as_dict(self):
        return {"category": self.category, "status": self.status,
                "status_label": str(self.status_label),
                "submitted_at": self.submitted_at.date().isoformat(),
                "distance": self.distance, "lat": self.lat, "lng": self.lng}


def open_reports_near(category_id, lat, lng, radius_m, *, limit=None):
    """Open reports of ``category_id`` within ``radius_m`` metres of the point,
    closest first in space and time (one indexed query on a box around it,
    then exact distance)."""
    from ..ai.duplicates import place_score

    if not (category_id and radius_m and lat is not None and lng is not None):
        return []
    lat, lng, radius_m = float(lat), float(lng), float(radius_m)
    limit = limit or int(get_setting("NEARBY_LIMIT"))
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    rows = (
        Ticket.objects.filter(
            kind=Kind.REPORT, report_category_id=category_id, status__in=OPEN_STATUSES,
            latitude__gte=_dec(lat - dlat), latitude__lte=_dec(lat + dlat),
            longitude__gte=_dec(lng - dlng), longitude__lte=_dec(lng + dlng),
        )
        .select_related("report_category")
        .only("report_category__name", "status", "submitted_at", "created_at",
              "latitude", "longitude")
        .order_by("-submitted_at")[:200]
    )
    found = []
    now = timezone.now()
    for ticket in rows:
        here = distance_m(lat, lng, float(ticket.latitude), float(ticket.longitude))
        if here <= radius_m:
            when = ticket.submitted_at or ticket.created_at
            score = place_score(here, (now - when).total_seconds() / 86400)
            found.append((-score, here, NearbyReport(
                category=ticket.report_category.name,
                status=ticket.status, status_label=ticket.get_status_display(),
                submitted_at=ticket.submitted_at or ticket.created_at,
                distance=max(10, int(round(here, -1))),
                lat=round(float(ticket.latitude), 3), lng=round(float(ticket.longitude), 3))))
    found.sort(key=lambda item: item[:2])
    return [report for _score, _distance, report in found[:limit]]


def _dec(value):
    return Decimal(str(round(value, 6)))
