"""Who calls: Wagtail's API tokens (``wagtail.models.APIToken``), each acting
as its user, and how often they may call."""

from ninja.errors import Throttled
from ninja.throttling import BaseThrottle
from wagtail.api.v3.auth import BearerTokenAuth

from .. import throttle
from ..conf import get_setting
from ..permissions import ticket_policy

WINDOW = 60  # seconds: API_RATE_PER_MINUTE counts calls per token per minute


class TokenAuth(BearerTokenAuth):
    """``Authorization: Bearer <token>``: an active, unrevoked token of an
    active user who works on tickets (view, change or add). The session
    cookie of a logged-in admin user never counts."""

    openapi_description = (
        "A Wagtail API token (Settings → API tokens in the admin, or "
        "`manage.py api_tokens create --user USERNAME --name NAME`), sent as "
        "`Authorization: Bearer <token>`. Calls act as the token's user.")

    def authenticate(self, request, token):
        # While an address is over its allowance of wrong tokens, every token
        # it sends is refused, the right one too: a 200 among the 429s would
        # tell which guess was right (Open311's keys: the same).
        if throttle.bad_keys_exceeded("api:bad-token", request):
            raise Throttled(throttle.bad_key_retry_after())
        found = super().authenticate(request, token)
        if found is None:
            # Guessing tokens is slowed down per client address (the policy of
            # every API: throttle.BAD_KEYS_PER_WINDOW).
            if not throttle.allow_bad_key("api:bad-token", request):
                raise Throttled(throttle.bad_key_retry_after())
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
