"""Where and when: how close two reports of the same problem type are, in
space and time — the bonus similar tickets get for it, and the open reports
nearby that always join a report's candidates.

Shared by :mod:`.similar` (ranking), :mod:`.duplicates` and the citizens'
report form (:mod:`wagtail_helpdesk.citizen.nearby`): one notion of "near".
"""

import math

from ..conf import get_setting
from ..models import Kind
from ..workflow import OPEN_STATUSES


def closeness(distance, days):
    """How close a report of the same problem type is, 0–1: space (within
    ``AI_NEAR_METRES``) weighs more than time (within ``AI_NEAR_DAYS``)."""
    radius = float(get_setting("AI_NEAR_METRES"))
    window = float(get_setting("AI_NEAR_DAYS"))
    space = max(0.0, 1.0 - distance / radius) if distance is not None else 0.0
    time = max(0.0, 1.0 - abs(days) / window) if days is not None else 0.0
    return 0.2 + 0.5 * space + 0.3 * time


def territory(query, rows):
    """``{pk: closeness}`` and ``{pk: (metres, days)}`` of the reports of the
    query's problem type (numpy over the whole window at once)."""
    place, details = {}, {}
    if query.kind != Kind.REPORT or not query.category:
        return place, details
    same = [(pk, lat, lng, when) for pk, _model, _blob, _text, lat, lng, when in rows
            if when is not None]  # None: another problem type
    if not same:
        return place, details
    np = _np()
    pks = [row[0] for row in same]
    distances = np.full(len(same), np.nan)
    if query.lat is not None and query.lng is not None:
        lat = np.array([np.nan if r[1] is None else float(r[1]) for r in same])
        lng = np.array([np.nan if r[2] is None else float(r[2]) for r in same])
        distances = haversine(float(query.lat), float(query.lng), lat, lng)
    days = np.full(len(same), np.nan)
    if query.when is not None:
        days = np.array([(query.when - r[3]).total_seconds() / 86400 for r in same])
    scores = closeness_many(distances, days)
    for i, pk in enumerate(pks):
        place[pk] = float(scores[i])
        details[pk] = (None if np.isnan(distances[i]) else float(distances[i]),
                       None if np.isnan(days[i]) else float(days[i]))
    return place, details


def _np():
    import numpy as np

    return np


def haversine(lat, lng, lats, lngs):
    """Great-circle distances in metres between points given in degrees, as
    numpy arrays that broadcast (one point and many, or a column and a row
    for every pair): :func:`wagtail_helpdesk.citizen.nearby.distance_m` for
    arrays."""
    from ..citizen.nearby import EARTH_RADIUS_M

    np = _np()
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lngs - lng)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def closeness_many(distances, days):
    """:func:`closeness` of arrays of distances and days (NaN: unknown)."""
    np = _np()
    radius = float(get_setting("AI_NEAR_METRES"))
    window = float(get_setting("AI_NEAR_DAYS"))
    space = np.nan_to_num(np.clip(1.0 - np.asarray(distances) / radius, 0.0, None), nan=0.0)
    time = np.nan_to_num(np.clip(1.0 - np.abs(np.asarray(days)) / window, 0.0, None), nan=0.0)
    return 0.2 + 0.5 * space + 0.3 * time


#: How many open reports of the same type around a report (within
#: AI_NEAR_METRES or AI_DUPLICATE_RADIUS_M, the farther) join the candidates
#: at most.
AROUND_LIMIT = 100


def open_around(query, qs):
    """The open reports of the query's problem type as near as closeness or a
    duplicate reach (a box; the partial index ``helpdesk_t_open_places``)."""
    from decimal import Decimal

    metres = max(float(get_setting("AI_NEAR_METRES")), float(get_setting("AI_DUPLICATE_RADIUS_M")))
    lat, lng = float(query.lat), float(query.lng)
    dlat = metres / 111_195
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)

    def dec(value):
        return Decimal(f"{value:.6f}")

    return (qs.filter(kind=Kind.REPORT, report_category_id=query.category,
                      status__in=OPEN_STATUSES,
                      latitude__gte=dec(lat - dlat), latitude__lte=dec(lat + dlat),
                      longitude__gte=dec(lng - dlng), longitude__lte=dec(lng + dlng))
            .order_by("-last_activity_at", "-pk"))
