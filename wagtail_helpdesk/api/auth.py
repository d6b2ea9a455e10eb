"""Who calls: Wagtail's API tokens (``wagtail.models.APIToken``), each acting
as its user, and how often they may call."""

from ninja.errors import Throttled
from ninja.throttling import BaseThrottle
from wagtail.api.v3.auth import BearerTokenAuth

from ..conf import get_setting
from ..permissions import ticket_policy
from ..public import throttle

WINDOW = 60  # seconds: API_RATE_PER_MINUTE counts calls per token per minute
#: Calls with a wrong, revoked or foreign token accepted per client address per minute.
BAD_TOKENS_PER_MINUTE = 30


class TokenAuth(BearerTokenAuth):
    """``Authorization: Bearer <token>``: an active, unrevoked token of an
    active user who works on tickets (view, change or add). The session
    cookie of a logged-in admin user never counts."""

    openapi_description = (
        "A Wagtail API token (Settings → API tokens in the admin, or "
        "`manage.py api_tokens create --user USERNAME --name NAME`), sent as "
        "`Authorization: Bearer <token>`. Calls act as the token's user.")

    def authenticate(self, request, token):
        found = super().authenticate(request, token)
        if found is None:
            # Guessing tokens is slowed down per client address.
            if not throttle.allow("api:bad-token", throttle.client_ip(request),
                                  BAD_TOKENS_PER_MINUTE, window=WINDOW):
                raise Throttled(throttle.retry_after(WINDOW))
            return None
        if not ticket_policy().user_has_any_permission(request.user, ["view", "change", "add"]):
            return None  # not a help desk user: the same answer as a wrong token
        return found


class TokenRateThrottle(BaseThrottle):
    """``API_RATE_PER_MINUTE`` calls per token (not per user: each
    integration has its own budget), counted in the shared cache."""

    def allow_request(self, request):
        token = getattr(request, "auth", None)
        limit = get_setting("API_RATE_PER_MINUTE")
        if token is None or not limit:
            return True
        return throttle.allow("api", token.pk, limit, window=WINDOW)

    def wait(self):
        return throttle.retry_after(WINDOW)
