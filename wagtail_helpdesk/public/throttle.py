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


def _key(scope, who):
    digest = hashlib.sha256(str(who).encode()).hexdigest()[:32]
    return f"wagtail_helpdesk:rate:{scope}:{int(time.time() // WINDOW)}:{digest}"


def allow(scope, who, limit):
    """Count one more event for ``who``; False once ``limit`` is exceeded in the hour."""
    if not who or not limit:
        return True
    key = _key(scope, who)
    cache.add(key, 0, WINDOW + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW + 60)
        count = 1
    return count <= limit
