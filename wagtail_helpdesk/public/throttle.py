"""Rate limits of the citizens' forms, counted in the cache (shared by every
worker when the cache is Redis)."""

import hashlib
import time

from django.core.cache import cache

from ..conf import get_setting

WINDOW = 3600  # seconds


def client_ip(request):
    """The client's address. Behind a proxy, set ``WAGTAIL_HELPDESK_TRUSTED_PROXY_HEADER``
    (e.g. ``"HTTP_X_REAL_IP"``) to the header your proxy sets."""
    header = get_setting("TRUSTED_PROXY_HEADER")
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _key(scope, who, window):
    digest = hashlib.sha256(str(who).encode()).hexdigest()[:32]
    return f"wagtail_helpdesk:rate:{scope}:{window}:{int(time.time() // window)}:{digest}"


def allow(scope, who, limit, window=WINDOW):
    """Count one more event for ``who``; False once ``limit`` is exceeded in
    the current ``window`` (seconds; an hour by default)."""
    if not who or not limit:
        return True
    key = _key(scope, who, window)
    cache.add(key, 0, window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 60)
        count = 1
    return count <= limit


def retry_after(window=WINDOW):
    """Seconds until the current ``window`` ends (for a Retry-After header)."""
    return int(window - time.time() % window) + 1
