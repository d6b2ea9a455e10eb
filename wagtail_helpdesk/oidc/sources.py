"""Where a provider's metadata and keys come from, and how we authenticate
to it: the SPID/CIE federation (trust chain, ``private_key_jwt`` with our
federation entity id), or — the generic mode, for municipalities behind a
SPID/CIE proxy that speaks plain OpenID Connect — discovery
(``/.well-known/openid-configuration``) with the client id and secret the
proxy gave us, or ``private_key_jwt`` with our core key (published at
``<mount>/jwks.json``)."""

import json
import time
import uuid

from django.core.cache import cache

from . import federation, keys
from .logsafe import escape

DISCOVERY_CACHE = "wagtail_helpdesk.oidc.discovery:"
DISCOVERY_SECONDS = 3600


def private_key_jwt(client_id, audience):
    """The token-request fields authenticating ``client_id`` with a client
    assertion signed by our core key (``iat`` backdated: some providers
    allow no clock skew)."""
    now = int(time.time())
    assertion = keys.sign({"iss": client_id, "sub": client_id, "aud": audience,
                           "iat": now - 5, "exp": now + 60, "jti": str(uuid.uuid4())})
    return {"client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}


class FederationSource:
    federated = True

    def __init__(self, provider):
        self.provider = provider
        self.issuer = provider.entity_id
        self._chain = None

    @property
    def client_id(self):
        return federation.client_id()

    @property
    def metadata(self):
        if self._chain is None:
            self._chain = federation.resolve(self.issuer)
        return self._chain.metadata

    def jwks(self, refresh=False):
        if refresh or self._chain is None:
            self._chain = federation.resolve(self.issuer, refresh=refresh)
        return federation.provider_jwks(self._chain)

    def client_auth(self, endpoint):
        return private_key_jwt(self.client_id, endpoint)


class DiscoverySource:
    federated = False

    def __init__(self, provider):
        self.provider = provider
        self.issuer = provider.entity_id
        self.client_id = provider.client_id

    @property
    def metadata(self):
        key = DISCOVERY_CACHE + self.issuer
        found = cache.get(key)
        if found is None:
            url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
            try:
                found = json.loads(federation.http_get(url))
            except ValueError as exc:
                raise federation.FederationError(f"{url}: not JSON") from exc
            if found.get("issuer", "").rstrip("/") != self.issuer.rstrip("/"):
                raise federation.FederationError(f"{url}: issuer '{escape(found.get('issuer'))}' "
                                                 "is not the one configured")
            cache.set(key, found, DISCOVERY_SECONDS)
        return found

    def jwks(self, refresh=False):
        key = DISCOVERY_CACHE + "jwks:" + self.issuer
        found = None if refresh else cache.get(key)
        if found is None:
            try:
                found = json.loads(federation.http_get(self.metadata["jwks_uri"]))
            except (KeyError, ValueError) as exc:
                raise federation.FederationError(f"{self.issuer}: no readable jwks_uri") from exc
            cache.set(key, found, DISCOVERY_SECONDS)
        return found

    def client_auth(self, endpoint):
        if self.provider.client_secret:  # client_secret_post
            return {"client_id": self.client_id, "client_secret": self.provider.client_secret}
        return private_key_jwt(self.client_id, endpoint)


def for_provider(provider):
    return DiscoverySource(provider) if provider.profile == "oidc" else FederationSource(provider)

