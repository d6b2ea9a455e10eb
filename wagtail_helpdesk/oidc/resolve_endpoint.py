"""Our federation resolve endpoint (``<client_id>resolve``), announced as
``federation_resolve_endpoint`` in our ``federation_entity`` metadata as the
SPID/CIE rules ask of relying parties.

It answers the OpenID Federation "resolve entity" request for the one
entity it knows, ourselves: ``?sub=<client_id>&trust_anchor=<anchor>``
(``anchor`` is accepted too, as older drafts named it; ``entity_type`` may
repeat) → a JWT of type ``resolve-response+jwt`` signed with our federation
key: our metadata, our trust marks and the trust chain — our Entity
Configuration, the anchor's statement about us, the anchor's configuration
— valid until the earliest expiry among them. What the anchor says is
fetched and verified with the pinned keys, and cached until it expires.
"""

import time

from django.core.cache import cache

from ..conf import get_setting
from . import federation, keys

RESPONSE_TYPE = "resolve-response+jwt"
CACHE_KEY = "wagtail_helpdesk.oidc.about-us"


class ResolveError(Exception):
    def __init__(self, status, error, description):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def as_dict(self):
        return {"error": self.error, "error_description": self.description}


def _same(a, b):
    return a.rstrip("/") == b.rstrip("/")


def _about_us(me):
    """The anchor's configuration and statement about us (tokens, earliest exp)."""
    cached = cache.get(CACHE_KEY)
    if cached and cached["sub"] == me and cached["exp"] > time.time():
        return cached
    about = federation.about_subordinate(me)
    found = {"sub": me, "statement": about.statement_token, "anchor": about.anchor_token,
             "exp": min(about.statement_claims["exp"], about.anchor_claims["exp"])}
    cache.set(CACHE_KEY, found, timeout=max(int(found["exp"] - time.time()), 1))
    return found


def response(sub, trust_anchor, entity_types=(), now=None):
    """The signed resolve response about ``sub`` (ourselves), or ResolveError."""
    if not sub or not trust_anchor:
        raise ResolveError(400, "invalid_request", "sub and trust_anchor are required")
    try:
        me = federation.client_id()
    except federation.FederationError as exc:
        raise ResolveError(404, "not_found", str(exc)) from exc
    if not _same(sub, me):
        raise ResolveError(404, "invalid_subject", f"this endpoint resolves only {me}")
    pinned = (get_setting("OIDC_TRUST_ANCHOR") or {}).get("entity_id") or ""
    if not pinned or not _same(trust_anchor, pinned):
        raise ResolveError(404, "invalid_trust_anchor", f"{trust_anchor} is not our trust anchor")
    try:
        about = _about_us(me)
    except federation.FederationError as exc:
        raise ResolveError(503, "temporarily_unavailable",
                           f"the trust anchor cannot be reached or verified: {exc}") from exc
    now = int(now or time.time())
    ours = federation.entity_configuration_claims(now)
    metadata = ours["metadata"]
    if entity_types:
        metadata = {kind: value for kind, value in metadata.items() if kind in entity_types}
    claims = {
        "iss": me, "sub": me, "iat": now, "exp": min(ours["exp"], about["exp"]),
        "metadata": metadata, "trust_marks": ours["trust_marks"],
        "trust_chain": [keys.sign(ours, "federation", typ=federation.STATEMENT_TYPE),
                        about["statement"], about["anchor"]],
    }
    return keys.sign(claims, "federation", typ=RESPONSE_TYPE)
