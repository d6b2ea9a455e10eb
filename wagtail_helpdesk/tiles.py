"""Map tiles through the municipality's own site (``MAP_TILE_PROXY``), so
that visitors' browsers never contact the tile server.

OpenStreetMap's tile usage policy is built in: an identifying User-Agent with
a contact, a Referer, tiles cached as long as the tile server says (and
revalidated with conditional requests after that), only the tiles a visitor
asks for (no prefetching), a bounded number of upstream requests per minute.
Only the municipality's area is served, up to the maps' maximum zoom. When the
tile server fails, a stale copy is served if there is one.
"""

import email.utils
import hashlib
import http.client
import logging
import math
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.exceptions import ValidationError

from . import __version__
from .conf import get_setting

log = logging.getLogger(__name__)

#: Tiles served around the area's box at every zoom (so that a map centred
#: near the border is not cut at the box's edge).
MARGIN = 1
#: The image types a tile may be.
TILE_TYPES = ("image/png", "image/jpeg", "image/webp")
MAX_BYTES = 2_000_000
STALE_MAX_AGE = 300  # seconds browsers keep a stale tile


class TileNotFound(Exception):
    """Outside the area, beyond the maximum zoom, or unknown to the tile server."""


class TileUnavailable(Exception):
    """The tile server failed (or the upstream budget is spent) and nothing is cached."""


@dataclass(frozen=True)
class Tile:
    body: bytes
    content_type: str
    max_age: int  # seconds browsers may keep it
    stale: bool = False


def enabled():
    return bool(get_setting("MAP_TILE_PROXY"))


def site_url():
    return (get_setting("SITE_URL") or getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "").rstrip("/")


def user_agent():
    custom = get_setting("MAP_TILE_USER_AGENT")
    if custom:
        return custom
    about = "; ".join(part for part in (f"+{site_url()}" if site_url() else "",
                                        get_setting("MAP_TILE_CONTACT")) if part)
    return f"wagtail-helpdesk/{__version__}" + (f" ({about})" if about else "")


def area_bbox():
    """The served area, ``(west, south, east, north)``, or None (nothing served)."""
    from .citizen.area import parse_bbox

    try:
        text = get_setting("MAP_AREA_BBOX")
        if text:
            return parse_bbox(text)
        from .open311.area import accepted_area

        return accepted_area().bbox
    except (ValidationError, OSError):
        return None


def _tile_x(lon, n):
    return int((lon + 180.0) / 360.0 * n)


def _tile_y(lat, n):
    lat = math.radians(max(min(lat, 85.05112878), -85.05112878))
    return int((1.0 - math.asinh(math.tan(lat)) / math.pi) / 2.0 * n)


def tile_range(bbox, z):
    """The tiles covering ``bbox`` at zoom ``z``, with :data:`MARGIN`:
    ``(x_min, x_max, y_min, y_max)``, inclusive."""
    west, south, east, north = bbox
    n = 2 ** z

    def clamp(v):
        return min(n - 1, max(0, v))

    return (clamp(_tile_x(west, n) - MARGIN), clamp(_tile_x(east, n) + MARGIN),
            clamp(_tile_y(north, n) - MARGIN), clamp(_tile_y(south, n) + MARGIN))


def served(z, x, y):
    """Whether the proxy serves this tile (inside the area, up to the maximum zoom)."""
    if not 0 <= z <= int(get_setting("MAP_MAX_ZOOM")):
        return False
    if not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return False
    bbox = area_bbox()
    if bbox is None:
        return False
    x_min, x_max, y_min, y_max = tile_range(bbox, z)
    return x_min <= x <= x_max and y_min <= y <= y_max


def upstream_url(z, x, y):
    template = get_setting("MAP_TILE_URL")
    if not template.startswith(("https://", "http://")):
        raise TileUnavailable("MAP_TILE_URL must be an http(s) URL")
    return (template.replace("{s}", "a").replace("{r}", "")
            .replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)))


def _freshness(headers, now):
    """Seconds the tile server lets us keep the tile without asking again;
    None when it must not be stored at all."""
    control = (headers.get("Cache-Control") or "").lower()
    if "no-store" in control or "private" in control:
        return None
    if "no-cache" in control:
        return 0
    for directive in ("s-maxage", "max-age"):  # this proxy is a shared cache
        found = re.search(rf"(?:^|[,\s]){directive}\s*=\s*\"?(\d+)", control)
        if found:
            return int(found[1])
    expires = headers.get("Expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires).timestamp()
            date = headers.get("Date")
            base = email.utils.parsedate_to_datetime(date).timestamp() if date else now
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0  # an invalid Expires means "already expired"
        return max(0, int(when - base))
    return int(get_setting("MAP_TILE_FRESH_SECONDS"))


def _fetch(url, entry):
    """``(status, headers, body)`` from the tile server; 304 and 404 included."""
    site = site_url()
    headers = {"User-Agent": user_agent(), "Accept": "image/png,image/*;q=0.8"}
    if site:
        headers["Referer"] = site + "/"
    if entry and entry.get("etag"):
        headers["If-None-Match"] = entry["etag"]
    if entry and entry.get("last_modified"):
        headers["If-Modified-Since"] = entry["last_modified"]
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) checked)
    timeout = float(get_setting("MAP_TILE_TIMEOUT"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:  # noqa: S310
            return r.status, r.headers, r.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code in (304, 404, 410):
            return exc.code, exc.headers, b""
        raise TileUnavailable(f"tile server answered {exc.code}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise TileUnavailable(str(exc)) from exc


def _key(z, x, y):
    source = hashlib.sha256(get_setting("MAP_TILE_URL").encode()).hexdigest()[:12]
    return f"wagtail_helpdesk:tile:{source}:{z}/{x}/{y}"


def _tile(entry, now, stale=False):
    if entry.get("missing"):
        raise TileNotFound
    max_age = STALE_MAX_AGE if stale else max(0, int(entry["fresh_until"] - now))
    return Tile(entry["body"], entry["content_type"], max_age, stale)


def _store(key, entry):
    caches[get_setting("MAP_TILE_CACHE")].set(
        key, entry, timeout=int(get_setting("MAP_TILE_CACHE_SECONDS")))


def _upstream_allowed():
    from . import throttle

    return throttle.allow("tiles-upstream", "all",
                          int(get_setting("MAP_TILE_UPSTREAM_PER_MINUTE")), window=60)


def _wait_for_other_fetch(key, lock, store):
    """Another worker fetches this very tile: wait for it (up to the timeout)."""
    deadline = time.monotonic() + float(get_setting("MAP_TILE_TIMEOUT"))
    while time.monotonic() < deadline:
        entry = store.get(key)
        if entry is not None and entry["fresh_until"] > time.time():
            return entry
        if cache.add(lock, 1, timeout=int(get_setting("MAP_TILE_TIMEOUT")) + 5):
            return None
        time.sleep(0.05)
    return None


def get_tile(z, x, y):
    """The tile, from the cache or the tile server. Raises :class:`TileNotFound`
    or :class:`TileUnavailable`; check :func:`served` first."""
    key, lock = _key(z, x, y), f"wagtail_helpdesk:tile-lock:{_key(z, x, y)}"
    store = caches[get_setting("MAP_TILE_CACHE")]
    entry = store.get(key)
    if entry is not None and entry["fresh_until"] > time.time():
        return _tile(entry, time.time())
    if not cache.add(lock, 1, timeout=int(get_setting("MAP_TILE_TIMEOUT")) + 5):
        fetched = _wait_for_other_fetch(key, lock, store)
        if fetched is not None:
            return _tile(fetched, time.time())
    try:
        return _refresh(key, entry, z, x, y)
    finally:
        cache.delete(lock)


def _refresh(key, entry, z, x, y):
    now = time.time()
    try:
        if not _upstream_allowed():
            raise TileUnavailable("upstream budget spent")
        status, headers, body = _fetch(upstream_url(z, x, y), entry)
    except TileUnavailable as exc:
        log.warning("Tile %s/%s/%s unavailable: %s", z, x, y, exc)
        if entry is not None and not entry.get("missing"):
            return _tile(entry, now, stale=True)
        raise
    fresh = _freshness(headers, now)
    if status == 304 and entry is not None:
        entry = {**entry, "fresh_until": now + (fresh or 0)}
    elif status in (404, 410):
        entry = {"missing": True, "fresh_until": now + min(fresh or 3600, 24 * 3600)}
    else:
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        # Raster tiles only: an SVG would run as a document of our own origin.
        if (status != 200 or content_type.split(";")[0].strip() not in TILE_TYPES
                or len(body) > MAX_BYTES):
            log.warning("Tile %s/%s/%s: unusable answer (%s, %s)", z, x, y, status, content_type)
            if entry is not None and not entry.get("missing"):
                return _tile(entry, now, stale=True)
            raise TileUnavailable("unusable answer")
        entry = {"body": body, "content_type": content_type, "fresh_until": now + (fresh or 0),
                 "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
    if fresh is not None:
        _store(key, entry)
    return _tile(entry, now)
