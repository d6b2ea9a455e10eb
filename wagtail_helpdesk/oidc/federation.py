"""OpenID Connect Federation, relying party side: our Entity Configuration,
and the trust chain of each provider up to the pinned trust anchor.

Resolution of a provider (SPID identity provider or CIE):

1. its Entity Configuration (``/.well-known/openid-federation``), self-signed;
2. among its ``authority_hints`` (at most ``OIDC_MAX_AUTHORITY_HINTS``), the
   pinned trust anchor: its own configuration verified with the **pinned**
   keys (``OIDC_TRUST_ANCHOR['jwks']``, never the keys it shows), its fetch
   endpoint asked for the provider's subordinate statement, verified with
   the pinned keys, ``iss``/``sub`` matched;
3. the provider's configuration verified again with the keys the anchor
   vouches for; every statement's ``typ``, ``exp`` and ``iat`` checked;
4. the anchor's ``metadata`` about the provider (its values replace the
   provider's own, per entity type), then its ``metadata_policy``, applied
   to the provider's metadata;
5. the result cached until the earliest ``exp`` of the chain (refreshed
   early when a token arrives signed with a key id we do not know).

SPID and CIE providers are direct subordinates of their trust anchor;
intermediates are refused (a clear error names the provider).
"""

import json
import logging
import time
from dataclasses import dataclass

import requests
from django.core.cache import cache
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from ..conf import get_setting
from . import keys
from .policy import PolicyError, apply_metadata, apply_policies

log = logging.getLogger(__name__)

STATEMENT_TYPE = "entity-statement+jwt"
ALGORITHMS = ["RS256", "RS512", "ES256", "ES512", "PS256", "PS512"]
WELL_KNOWN = ".well-known/openid-federation"
CACHE_PREFIX = "wagtail_helpdesk.oidc.chain:"


class FederationError(Exception):
    """A provider could not be trusted (the message says why, for the logs)."""


@dataclass
class Chain:
    entity_id: str
    metadata: dict  # the provider's metadata, policy applied
    federation_jwks: dict
    expires_at: int

    def as_dict(self):
        return {"entity_id": self.entity_id, "metadata": self.metadata,
                "federation_jwks": self.federation_jwks, "expires_at": self.expires_at}


def http_get(url, **params):
    try:
        response = requests.get(url, params=params or None,
                                timeout=float(get_setting("OIDC_HTTP_TIMEOUT")))
    except requests.RequestException as exc:
        raise FederationError(f"{url}: {exc}") from exc
    if response.status_code != 200:
        raise FederationError(f"{url}: HTTP {response.status_code}")
    return response.text.strip()


def _well_known(entity_id):
    return f"{entity_id.rstrip('/')}/{WELL_KNOWN}"


def verify_statement(token, jwks, *, iss, sub):
    """The claims of an entity statement signed with one of ``jwks``, with
    its header, issuer, subject and dates checked; else FederationError."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)
    except (JoseError, ValueError, TypeError) as exc:
        raise FederationError(f"statement about {sub} by {iss}: {exc}") from exc
    if decoded.header.get("typ") != STATEMENT_TYPE or not decoded.header.get("kid"):
        raise FederationError(f"statement about {sub} by {iss}: bad header {decoded.header}")
    claims = decoded.claims
    try:
        JWTClaimsRegistry(leeway=int(get_setting("OIDC_LEEWAY_SECONDS")),
                          iss={"essential": True, "value": iss},
                          sub={"essential": True, "value": sub},
                          exp={"essential": True}, iat={"essential": True}).validate(claims)
    except JoseError as exc:
        raise FederationError(f"statement about {sub} by {iss}: {exc}") from exc
    return claims


def self_signed(entity_id):
    """(claims, token) of ``entity_id``'s Entity Configuration, verified with
    the keys it carries (a first, weak check: the anchor's statement decides)."""
    token = http_get(_well_known(entity_id))
    try:
        payload = json.loads(jws.extract_compact(token.encode()).payload)
    except (JoseError, ValueError) as exc:
        raise FederationError(f"{entity_id}: unreadable entity configuration ({exc})") from exc
    claims = verify_statement(token, payload.get("jwks") or {"keys": []},
                              iss=entity_id, sub=entity_id)
    return claims, token


def resolve(entity_id, kind="openid_provider", *, refresh=False):
    """The trusted, policy-applied metadata of ``entity_id`` (a :class:`Chain`),
    from the cache while the chain is valid."""
    key = CACHE_PREFIX + entity_id
    cached = None if refresh else cache.get(key)
    if cached and cached["expires_at"] > time.time():
        return Chain(**cached)
    chain = _build(entity_id, kind)
    cache.set(key, chain.as_dict(), timeout=max(int(chain.expires_at - time.time()), 1))
    return chain


@dataclass
class AnchorStatement:
    """The pinned anchor's configuration and its statement about a subordinate,
    both verified with the pinned keys (claims and the tokens as received)."""

    anchor_claims: dict
    anchor_token: str
    statement_claims: dict
    statement_token: str


def pinned_anchor():
    """(entity id, jwks) of the pinned trust anchor; FederationError if unset."""
    anchor = get_setting("OIDC_TRUST_ANCHOR") or {}
    anchor_id, anchor_jwks = anchor.get("entity_id"), anchor.get("jwks")
    if not (anchor_id and anchor_jwks):
        raise FederationError("OIDC_TRUST_ANCHOR (entity_id and jwks) is not configured")
    return anchor_id, anchor_jwks


def about_subordinate(entity_id):
    """What the pinned trust anchor says about ``entity_id`` (its fetch endpoint)."""
    anchor_id, anchor_jwks = pinned_anchor()
    anchor_token = http_get(_well_known(anchor_id))
    anchor_claims = verify_statement(anchor_token, anchor_jwks, iss=anchor_id, sub=anchor_id)
    fetch = (anchor_claims.get("metadata", {}).get("federation_entity", {})
             .get("federation_fetch_endpoint"))
    if not fetch:
        raise FederationError(f"{anchor_id} has no federation_fetch_endpoint")
    statement_token = http_get(fetch, sub=entity_id)
    statement_claims = verify_statement(statement_token, anchor_jwks, iss=anchor_id,
                                        sub=entity_id)
    return AnchorStatement(anchor_claims, anchor_token, statement_claims, statement_token)


def _build(entity_id, kind):
    anchor_id = pinned_anchor()[0]  # unset: refused before any request
    claims, token = self_signed(entity_id)
    hints = claims.get("authority_hints") or []
    if anchor_id not in hints[: int(get_setting("OIDC_MAX_AUTHORITY_HINTS"))]:
        raise FederationError(f"{entity_id} is not a direct subordinate of {anchor_id}")
    about = about_subordinate(entity_id)
    anchor_claims, statement = about.anchor_claims, about.statement_claims
    vouched = statement.get("jwks") or {"keys": []}
    verify_statement(token, vouched, iss=entity_id, sub=entity_id)  # the anchor's keys decide
    constraints = statement.get("constraints") or anchor_claims.get("constraints") or {}
    if constraints.get("max_path_length", 0) < 0:
        raise FederationError(f"{anchor_id} allows no path to {entity_id}")
    own = claims.get("metadata", {}).get(kind)
    if not own:
        raise FederationError(f"{entity_id} has no {kind} metadata")
    metadata = _resolved_metadata(entity_id, own, statement, kind)
    expires = min(claims["exp"], anchor_claims["exp"], statement["exp"])
    return Chain(entity_id=entity_id, metadata=metadata, federation_jwks=vouched,
                 expires_at=int(expires))


def _resolved_metadata(entity_id, own, statement, kind):
    """``own`` metadata of type ``kind`` with what the superior's ``statement``
    says: its ``metadata`` values first, then its ``metadata_policy``."""
    superior = statement.get("metadata") or {}
    policies = statement.get("metadata_policy") or {}
    try:
        if not isinstance(superior, dict) or not isinstance(policies, dict):
            raise PolicyError("metadata and metadata_policy must be objects")
        return apply_policies(apply_metadata(own, superior.get(kind)), [policies.get(kind, {})])
    except PolicyError as exc:
        raise FederationError(f"{entity_id}: metadata policy: {exc}") from exc


def provider_jwks(chain):
    """The provider's core keys: inline ``jwks``, else ``signed_jwks_uri``
    (verified with its federation keys), else ``jwks_uri``."""
    metadata = chain.metadata
    if metadata.get("jwks"):
        return metadata["jwks"]
    if metadata.get("signed_jwks_uri"):
        claims = verify_statement_like_jwks(http_get(metadata["signed_jwks_uri"]),
                                            chain.federation_jwks, chain.entity_id)
        return {"keys": claims["keys"]}
    if metadata.get("jwks_uri"):
        try:
            return json.loads(http_get(metadata["jwks_uri"]))
        except ValueError as exc:
            raise FederationError(f"{chain.entity_id}: unreadable jwks_uri") from exc
    raise FederationError(f"{chain.entity_id} publishes no keys")


def verify_statement_like_jwks(token, jwks, entity_id):
    try:
        claims = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS).claims
    except (JoseError, ValueError) as exc:
        raise FederationError(f"{entity_id}: signed_jwks_uri: {exc}") from exc
    if claims.get("iss") not in (None, entity_id) or "keys" not in claims:
        raise FederationError(f"{entity_id}: signed_jwks_uri does not match")
    return claims


# Our own Entity Configuration ------------------------------------------------


def client_id():
    configured = get_setting("OIDC_CLIENT_ID")
    if not configured:
        raise FederationError("OIDC_CLIENT_ID is not configured")
    return configured if configured.endswith("/") else configured + "/"


def redirect_uri():
    return client_id() + "callback/"


def relying_party_metadata():
    organization = get_setting("OIDC_ORGANIZATION") or {}
    # organization_name (and logo_uri) here too: the SPID/CIE RP metadata
    # schemas of the reference implementation require them in this block.
    extra = {k: organization[k] for k in ("organization_name", "logo_uri") if organization.get(k)}
    return {
        **extra,
        "client_id": client_id(),
        "client_name": organization.get("organization_name", ""),
        "application_type": "web",
        "redirect_uris": [redirect_uri()],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "client_registration_types": ["automatic"],
        "token_endpoint_auth_method": "private_key_jwt",
        "id_token_signed_response_alg": "RS256",
        "userinfo_signed_response_alg": "RS256",
        "userinfo_encrypted_response_alg": "RSA-OAEP",
        "userinfo_encrypted_response_enc": "A256CBC-HS512",
        "subject_type": "pairwise",
        "contacts": list(organization.get("contacts", [])),
        "jwks": keys.public_jwks("sig", "enc"),
    }


def trust_marks():
    """The trust marks we publish: those in the settings, then those an
    administrator pasted in the admin (active ones)."""
    from ..models import TrustMark

    marks = list(get_setting("OIDC_TRUST_MARKS") or [])
    return marks + [mark.as_claim() for mark in TrustMark.objects.filter(active=True)]


def entity_configuration(now=None):
    """Our Entity Configuration, signed with the federation key."""
    return keys.sign(entity_configuration_claims(now), "federation", typ=STATEMENT_TYPE)


def entity_configuration_claims(now=None):
    now = int(now or time.time())
    anchor = (get_setting("OIDC_TRUST_ANCHOR") or {}).get("entity_id")
    organization = {**(get_setting("OIDC_ORGANIZATION") or {}),
                    "federation_resolve_endpoint": client_id() + "resolve"}
    return {
        "iss": client_id(), "sub": client_id(), "iat": now,
        "exp": now + int(get_setting("OIDC_ENTITY_CONFIGURATION_HOURS")) * 3600,
        "jwks": keys.public_jwks("federation"),
        "authority_hints": list(get_setting("OIDC_AUTHORITY_HINTS") or ([anchor] if anchor
                                                                        else [])),
        "trust_marks": trust_marks(),
        "metadata": {"federation_entity": organization,
                     "openid_relying_party": relying_party_metadata()},
    }
