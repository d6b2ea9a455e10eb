"""Rate limits of the citizens' forms, counted in the cache (shared by every
worker when the cache is Redis)."""

import hashlib
import time

from django.core.cache import cache

from .conf import get_setting

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


# Wrong API credentials (the REST API's tokens, Open311's api_keys): the same
# policy for every API, counted per client address.

#: Requests with a wrong, revoked or foreign token or key accepted per client
#: address per ``BAD_KEY_WINDOW``; the next ones are answered 429.
BAD_KEYS_PER_WINDOW = 30
BAD_KEY_WINDOW = 60  # seconds


def exceeded(scope, who, limit, window=WINDOW):
    """True when ``who`` is already over ``limit`` in the current ``window``
    (counts nothing: :func:`allow` counts)."""
    if not who or not limit:
        return False
    return (cache.get(_key(scope, who, window)) or 0) > limit


def allow_bad_key(scope, request):
    """Count one more wrong key or token from the request's client address;
    False once ``BAD_KEYS_PER_WINDOW`` is exceeded in the current window."""
    return allow(scope, client_ip(request), BAD_KEYS_PER_WINDOW, window=BAD_KEY_WINDOW)


def bad_keys_exceeded(scope, request):
    """True while the request's client address is over its allowance of
    wrong keys (every key it sends is then refused, the right one too)."""
    return exceeded(scope, client_ip(request), BAD_KEYS_PER_WINDOW, window=BAD_KEY_WINDOW)


def bad_key_retry_after():
    """Seconds until a throttled address may send keys again."""
    return retry_after(BAD_KEY_WINDOW)
