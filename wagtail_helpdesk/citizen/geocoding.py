"""Address search and reverse geocoding through a Nominatim-compatible
service, on the server (the citizen's browser never calls it directly).

Nominatim's usage policy is built in: an identifying User-Agent, at most one
upstream request per second across every worker (paced through the cache),
results cached, searches only on an explicit request (no search-as-you-type).
Everything here degrades to "no result": the forms work without geocoding.
"""

import hashlib
import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import get_language

from .. import __version__
from ..conf import get_setting

log = logging.getLogger(__name__)

_LAST = "wagtail_helpdesk:geocoder:last"
_LOCK = "wagtail_helpdesk:geocoder:lock"


class GeocoderUnavailable(Exception):
    """Geocoding is switched off, busy or the service did not answer."""


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lng: float

    def as_dict(self):
        return {"label": self.label, "lat": round(self.lat, 6), "lng": round(self.lng, 6)}


def enabled():
    return bool(get_setting("GEOCODER_URL"))


def user_agent():
    return get_setting("GEOCODER_USER_AGENT") or f"wagtail-helpdesk/{__version__}"


def _short_label(item):
    """"Via Roma 12, Comune" from Nominatim's address details, else its display name."""
    address = item.get("address") or {}
    road = address.get("road") or address.get("pedestrian") or address.get("square") or ""
    number = address.get("house_number") or ""
    town = (address.get("city") or address.get("town") or address.get("village")
            or address.get("municipality") or "")
    street = f"{road} {number}".strip()
    if street:
        return ", ".join(part for part in (street, town) if part)
    return (item.get("display_name") or "").strip()


def _place(item):
    try:
        lat, lng = float(item["lat"]), float(item["lon"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return None
    label = _short_label(item)
    return Place(label[:255], lat, lng) if label else None


def _wait_for_slot(wait):
    """Take the next upstream slot (one per ``GEOCODER_MIN_INTERVAL`` seconds,
    shared by every process using the cache). False after ``wait`` seconds."""
    interval = float(get_setting("GEOCODER_MIN_INTERVAL"))
    deadline = time.monotonic() + wait
    while True:
        if cache.add(_LOCK, 1, timeout=10):
            try:
                delay = (cache.get(_LAST) or 0) + interval - time.time()
                if delay > 0:
                    if time.monotonic() + delay > deadline:
                        return False
                    time.sleep(delay)
                cache.set(_LAST, time.time(), timeout=3600)
                return True
            finally:
                cache.delete(_LOCK)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _fetch(endpoint, params):
    base = get_setting("GEOCODER_URL").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise GeocoderUnavailable("GEOCODER_URL must be an http(s) URL")
    email = get_setting("GEOCODER_EMAIL")
    if email:
        params = {**params, "email": email}
    url = f"{base}/{endpoint}?{urllib.parse.urlencode(params)}"
    if not _wait_for_slot(float(get_setting("GEOCODER_MIN_INTERVAL")) * 1.5):
        raise GeocoderUnavailable("busy")
    request = urllib.request.Request(url, headers={  # noqa: S310 (http(s) checked above)
        "User-Agent": user_agent(), "Accept": "application/json",
        "Accept-Language": get_language() or get_setting("DEFAULT_LANGUAGE"),
    })
    try:
        timeout = float(get_setting("GEOCODER_TIMEOUT"))
        with urllib.request.urlopen(request, timeout=timeout) as r:  # noqa: S310 (http(s) only)
            return json.loads(r.read(1_000_000).decode("utf-8"))
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        log.warning("Geocoder %s unavailable: %s", endpoint, exc)
        raise GeocoderUnavailable(str(exc)) from exc


def _cached(kind, key_parts, compute):
    digest = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:40]
    key = f"wagtail_helpdesk:geocoder:{kind}:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return [Place(**p) for p in hit]
    places = compute()
    cache.set(key, [p.__dict__ for p in places], timeout=int(get_setting("GEOCODER_CACHE_SECONDS")))
    return places


def search(query, area):
    """Places matching ``query`` inside ``area`` (a :class:`~.public.area.Area`), best first."""
    if not enabled():
        raise GeocoderUnavailable("off")
    query = " ".join((query or "").split())[:200]
    if len(query) < 3:
        return []
    language = get_language() or ""
    params = {"q": query, "format": "jsonv2", "addressdetails": 1,
              "limit": int(get_setting("GEOCODER_LIMIT"))}
    if area.bbox is not None:
        params.update(viewbox=",".join(str(v) for v in area.bbox), bounded=1)
    countries = get_setting("GEOCODER_COUNTRY_CODES")
    if countries:
        params["countrycodes"] = countries

    def compute():
        data = _fetch("search", params)
        found = [_place(item) for item in data] if isinstance(data, list) else []
        return [p for p in found if p is not None and area.contains(p.lat, p.lng)]

    boundary = hashlib.sha256(repr(area.polygons).encode()).hexdigest()[:16]
    return _cached("search", [query.casefold(), area.bbox, boundary, language, countries,
                              get_setting("GEOCODER_URL"), params["limit"]], compute)


def reverse(lat, lng):
    """The address of a point, or None."""
    if not enabled():
        raise GeocoderUnavailable("off")
    lat, lng = round(float(lat), 4), round(float(lng), 4)  # about 10 m: cache-friendly
    language = get_language() or ""

    def compute():
        data = _fetch("reverse", {"lat": lat, "lon": lng, "format": "jsonv2",
                                  "addressdetails": 1, "zoom": 18})
        place = _place(data) if isinstance(data, dict) and "error" not in data else None
        return [place] if place else []

    places = _cached("reverse", [lat, lng, language, get_setting("GEOCODER_URL")], compute)
    return places[0] if places else None
