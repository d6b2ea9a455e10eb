"""Who may POST: a registered, active Open311 client, found by the hash of
its ``api_key``, within its hourly allowance."""


from django.utils import timezone
from django.utils.translation import gettext as _

from .. import throttle
from ..conf import get_setting
from ..models import Open311Client
from ..models.open311 import hash_key
from ..services import ClientActor
from .errors import Open311Error

BAD_KEY_SCOPE = "open311:bad-key"


def authenticate(request):
    """The client whose key the request's form carries (never read from the
    query string, which ends up in logs); 403 when it is missing, unknown or
    revoked, 429 while the client address is over its allowance of wrong
    keys (as the REST API's tokens: ``throttle.BAD_KEYS_PER_WINDOW``)."""
    key = (request.POST.get("api_key") or "").strip()
    if not key and request.content_type not in ("application/x-www-form-urlencoded",
                                                 "multipart/form-data"):
        raise Open311Error(400, _("Send the request form-encoded "
                                  "(application/x-www-form-urlencoded), as GeoReport v2 "
                                  "asks."))
    if not key:
        raise Open311Error(403, _("api_key is required to file a request."))
    check_bad_keys(request)
    client = Open311Client.objects.filter(key_hash=hash_key(key), active=True).first()
    if client is None:
        count_bad_key(request)
        raise Open311Error(403, _("This api_key is not valid, or it was revoked."))
    return client


def check_bad_keys(request):
    """429 while the client address is over its allowance of wrong keys:
    every key is refused then, the right one too, so that guessing learns
    nothing until the window ends."""
    if throttle.bad_keys_exceeded(BAD_KEY_SCOPE, request):
        raise _too_many_bad_keys()


def count_bad_key(request):
    """Count a wrong or revoked key; 429 from the first one over the allowance."""
    if not throttle.allow_bad_key(BAD_KEY_SCOPE, request):
        raise _too_many_bad_keys()


def _too_many_bad_keys():
    return Open311Error(429, _("Too many requests: try again later."),
                        retry_after=throttle.bad_key_retry_after())


def check_allowance(client):
    """429 once the client has used its hourly allowance of POSTs."""
    if not throttle.allow("open311:post", client.pk, get_setting("OPEN311_RATE_POSTS_PER_KEY")):
        raise Open311Error(429, _("Too many requests with this api_key: try again later."),
                           retry_after=throttle.retry_after())


def check_reads(request):
    """429 once a client address has used its hourly allowance of GETs."""
    if not throttle.allow("open311:get", throttle.client_ip(request),
                          get_setting("OPEN311_RATE_READS_PER_IP")):
        raise Open311Error(429, _("Too many requests: try again later."),
                           retry_after=throttle.retry_after())


def mark_used(client):
    now = timezone.now()
    Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
    client.last_used_at = now


def actor(client):
    """The services layer's actor for the client: recorded on what it files."""
    return ClientActor(kind="open311", client_id=client.pk, name=client.name)
