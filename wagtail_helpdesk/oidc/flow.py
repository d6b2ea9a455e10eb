"""The SPID/CIE login, relying party side (no Django views here).

``begin``: a signed request object (JAR) with PKCE S256, ``state`` and
``nonce`` from ``secrets``; the pending login is kept in *this browser's*
session, single use, for ``PENDING_SECONDS``.

``finish``: the callback's ``state`` must name a pending login of this
session (login CSRF and replays fail); ``iss`` must be the provider asked;
the code is exchanged with a ``private_key_jwt`` client assertion; the ID
token is checked completely (signature with the provider's trusted keys,
``iss``, ``aud`` and ``azp``, ``exp``/``iat`` with leeway, ``iat`` not older
than ``OIDC_ID_TOKEN_MAX_AGE``, ``nonce``, ``at_hash`` with the hash of its
``alg``, ``acr`` not below the level asked); the userinfo JWE is decrypted
with our ``enc`` keys and its inner signature verified. Any failure raises
:class:`LoginError` (its ``reason`` goes to the logs, what the provider
sent escaped and cut by :func:`logsafe.escape`; the citizen sees a plain
message).
"""

import base64
import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from joserfc import jwe, jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from ..conf import get_setting
from . import federation, keys, sources
from .logsafe import LINE_LIMIT, escape

log = logging.getLogger(__name__)

SESSION_KEY = "wagtail_helpdesk_oidc_pending"
PENDING_SECONDS = 600
MAX_PENDING = 5
SIGNING = ["RS256", "RS384", "RS512", "PS256", "PS512", "ES256", "ES384", "ES512"]
DECRYPTION = ["RSA-OAEP", "RSA-OAEP-256", "A128CBC-HS256", "A256CBC-HS512"]
ACR_LEVELS = ["https://www.spid.gov.it/SpidL1", "https://www.spid.gov.it/SpidL2",
              "https://www.spid.gov.it/SpidL3"]
FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"
ATTRIBUTES = ["given_name", "family_name", "email", FISCAL_NUMBER]
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


class LoginError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Provider:
    entity_id: str  # the federation entity id, or the generic mode's issuer
    name: str
    profile: str  # "spid", "cie", or "oidc" (generic OpenID Connect, e.g. a SPID proxy)
    client_id: str = ""  # generic mode: the client id the proxy gave us
    client_secret: str = ""  # generic mode: empty means private_key_jwt
    scope: str = "openid"
    acr: str = ""  # generic mode: the level to ask and require ("" : none)


def providers(profile=None):
    found = []
    for entry in get_setting("OIDC_PROVIDERS") or []:
        kind = entry.get("profile", "spid")
        entity_id = entry.get("issuer") if kind == "oidc" else entry["entity_id"]
        found.append(Provider(
            entity_id=entity_id, name=entry.get("name") or entity_id, profile=kind,
            client_id=entry.get("client_id", ""), client_secret=entry.get("client_secret", ""),
            scope=entry.get("scope", "openid profile email" if kind == "oidc" else "openid"),
            acr=entry.get("acr", "")))
    from ..models import IdentityProvider

    known = {p.entity_id for p in found}
    found += [Provider(entity_id=row.entity_id, name=row.name, profile=row.profile)
              for row in IdentityProvider.objects.filter(active=True)
              if row.entity_id not in known]  # those the administrator added in the admin
    return [p for p in found if profile is None or p.profile == profile]


def provider(entity_id):
    for candidate in providers():
        if candidate.entity_id == entity_id:
            return candidate
    return None


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def begin(session, chosen, next_url=""):
    """The provider's authorization URL for a new pending login of ``session``."""
    source = sources.for_provider(chosen)
    endpoint = source.metadata["authorization_endpoint"]
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    challenge = _b64(hashlib.sha256(verifier.encode()).digest())
    acr = get_setting("OIDC_ACR") if source.federated else chosen.acr
    client, now = source.client_id, int(time.time())
    _remember(session, state, {"provider": chosen.entity_id, "nonce": nonce,
                               "verifier": verifier, "acr": acr, "started": now,
                               "next": next_url})
    if not source.federated:  # plain OpenID Connect: the parameters in the URL
        query = {"client_id": client, "response_type": "code", "scope": chosen.scope,
                 "redirect_uri": federation.redirect_uri(), "state": state, "nonce": nonce,
                 "code_challenge": challenge, "code_challenge_method": "S256"}
        if acr:
            query["acr_values"] = acr
        return f"{endpoint}?" + urlencode(query)
    request_object = keys.sign({
        "iss": client, "client_id": client, "aud": [chosen.entity_id, endpoint],
        "iat": now - 5, "exp": now + 60, "jti": str(uuid.uuid4()),
        "response_type": "code", "scope": "openid", "redirect_uri": federation.redirect_uri(),
        "state": state, "nonce": nonce, "code_challenge": challenge,
        "code_challenge_method": "S256", "acr_values": acr, "prompt": "consent login",
        "claims": {"userinfo": {name: ({"essential": True} if name == FISCAL_NUMBER else None)
                                for name in ATTRIBUTES}},
    })
    return f"{endpoint}?" + urlencode({
        "client_id": client, "response_type": "code", "scope": "openid",
        "code_challenge": challenge, "code_challenge_method": "S256",
        "request": request_object})


def _remember(session, state, login):
    """Keep a pending login in the browser's session (a few at most, recent)."""
    now = login["started"]
    pending = {k: v for k, v in (session.get(SESSION_KEY) or {}).items()
               if v["started"] > now - PENDING_SECONDS}
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["started"]))
    pending[state] = login
    session[SESSION_KEY] = pending


def take_pending(session, state):
    """The pending login ``state`` names in this session, removed (single use)."""
    pending = dict(session.get(SESSION_KEY) or {})
    found = pending.pop(state, None) if state else None
    session[SESSION_KEY] = pending
    if found is None:
        raise LoginError("state not pending in this browser session (forged, replayed or "
                         "started elsewhere)")
    if found["started"] < time.time() - PENDING_SECONDS:
        raise LoginError("the pending login expired")
    return found


@dataclass
class Result:
    issuer: str
    subject: str
    claims: dict  # userinfo (and ID token) attributes
    access_token: str
    next_url: str


def finish(session, params):
    """Complete the login the callback ``params`` answer; a :class:`Result`."""
    if params.get("error"):
        take_pending(session, params.get("state"))  # used up either way
        raise LoginError(f"provider answered '{escape(params.get('error'))}': "
                         f"'{escape(params.get('error_description', ''))}'")
    pending = take_pending(session, params.get("state"))
    chosen = provider(pending["provider"])
    if chosen is None:
        raise LoginError("the provider is no longer configured")
    issuer = params.get("iss")
    if issuer is None and chosen.profile == "cie":
        raise LoginError("CIE callback without iss")
    if issuer is not None and issuer != chosen.entity_id:
        raise LoginError(f"callback iss '{escape(issuer)}' is not the provider asked "
                         f"{chosen.entity_id!r} (mix-up)")
    if not params.get("code"):
        raise LoginError("callback without a code")
    source = sources.for_provider(chosen)
    tokens = _token_request(source, params["code"], pending["verifier"], params["state"])
    id_claims = _check_id_token(source, tokens, pending)
    userinfo = _userinfo(source, tokens["access_token"], id_claims["sub"])
    return Result(issuer=chosen.entity_id, subject=id_claims["sub"],
                  claims={**id_claims, **userinfo}, access_token=tokens["access_token"],
                  next_url=pending.get("next", ""))


def _post(url, data):
    try:
        response = requests.post(url, data=data,
                                 timeout=float(get_setting("OIDC_HTTP_TIMEOUT")))
    except requests.RequestException as exc:
        raise LoginError(f"{url}: {exc}") from exc
    return response


def _token_request(source, code, verifier, state):
    endpoint = source.metadata["token_endpoint"]
    response = _post(endpoint, {
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": federation.redirect_uri(), "state": state,
        **source.client_auth(endpoint)})
    if response.status_code != 200:
        raise LoginError(f"token endpoint: HTTP {response.status_code} {escape(response.text)}")
    try:
        tokens = response.json()
    except ValueError as exc:
        raise LoginError("token endpoint: not JSON") from exc
    if not (tokens.get("id_token") and tokens.get("access_token")):
        raise LoginError("token endpoint: no id_token or access_token")
    return tokens


def _decode_signed(source, token, what):
    """Verify ``token`` with the provider's keys; on an unknown key id, they
    are fetched again once (the provider may have rotated its keys)."""
    for attempt in (1, 2):
        try:
            jwks = KeySet.import_key_set(source.jwks(refresh=attempt == 2))
            return jwt.decode(token, jwks, algorithms=SIGNING)
        except InvalidKeyIdError as exc:
            if attempt == 2:
                raise LoginError(f"{what}: unknown key id") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise LoginError(f"{what}: {exc}") from exc
    raise AssertionError("unreachable")


def at_hash(access_token, alg):
    digest = _HASHES.get(alg[-3:], hashlib.sha256)(access_token.encode()).digest()
    return _b64(digest[: len(digest) // 2])


def _check_id_token(source, tokens, pending):
    decoded = _decode_signed(source, tokens["id_token"], "ID token")
    claims = decoded.claims
    try:
        JWTClaimsRegistry(leeway=int(get_setting("OIDC_LEEWAY_SECONDS")),
                          iss={"essential": True, "value": source.issuer},
                          sub={"essential": True}, exp={"essential": True},
                          iat={"essential": True},
                          nonce={"essential": True, "value": pending["nonce"]}).validate(claims)
    except JoseError as exc:
        raise LoginError(f"ID token: {exc}") from exc
    _check_audience(claims, source.client_id)
    _check_issued_at(claims["iat"])
    expected_hash = claims.get("at_hash")
    if (expected_hash or source.federated) and not secrets.compare_digest(
            expected_hash or "", at_hash(tokens["access_token"], decoded.header["alg"])):
        raise LoginError("ID token: at_hash does not match the access token")
    asked, got = pending["acr"], claims.get("acr")
    if asked and (got not in ACR_LEVELS or (asked in ACR_LEVELS
                                            and ACR_LEVELS.index(got) < ACR_LEVELS.index(asked))):
        raise LoginError(f"ID token: acr '{escape(got)}' below {asked!r}")
    return claims


def _check_audience(claims, client_id):
    """``aud`` must name us; with several audiences ``azp`` must be present,
    and whenever present it must be us (OpenID Connect Core 3.1.3.7)."""
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise LoginError(f"ID token: audience '{escape(audience)}' is not us")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise LoginError(f"ID token: azp '{escape(claims.get('azp'))}' is not us "
                         f"(audience '{escape(audience)}')")


def _check_issued_at(issued):
    """``iat`` neither older than ``OIDC_ID_TOKEN_MAX_AGE`` (a token kept from
    long ago is refused whatever its ``exp``) nor in the future, both with
    the clock-skew leeway."""
    leeway, now = int(get_setting("OIDC_LEEWAY_SECONDS")), time.time()
    max_age = int(get_setting("OIDC_ID_TOKEN_MAX_AGE"))
    if issued < now - max_age - leeway:
        raise LoginError(f"ID token: issued {int(now - issued)} s ago, more than "
                         f"OIDC_ID_TOKEN_MAX_AGE ({max_age} s)")
    if issued > now + leeway:
        raise LoginError(f"ID token: issued {int(issued - now)} s in the future")


def _userinfo(source, access_token, subject):
    endpoint = source.metadata["userinfo_endpoint"]
    try:
        response = requests.get(endpoint, headers={"Authorization": f"Bearer {access_token}"},
                                timeout=float(get_setting("OIDC_HTTP_TIMEOUT")))
    except requests.RequestException as exc:
        raise LoginError(f"userinfo: {exc}") from exc
    if response.status_code != 200:
        raise LoginError(f"userinfo: HTTP {response.status_code}")
    claims = _userinfo_claims(source, response)
    if claims.get("sub") != subject:
        raise LoginError("userinfo: sub differs from the ID token's")
    # The reference providers put only sub and the attributes in userinfo:
    # iss, aud and the dates are checked when present, not required.
    if "iss" in claims and claims["iss"] != source.issuer:
        raise LoginError("userinfo: wrong iss")
    if "aud" in claims and source.client_id not in (
            claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]):
        raise LoginError("userinfo: wrong aud")
    if "exp" in claims and claims["exp"] < time.time() - int(get_setting("OIDC_LEEWAY_SECONDS")):
        raise LoginError("userinfo: expired")
    return claims


def _userinfo_claims(source, response):
    """Federation: a JWE (to our ``enc`` key) around the provider's JWS.
    Generic mode: plain JSON, or a signed (possibly encrypted) JWT."""
    body = response.text.strip()
    if not source.federated and response.headers.get("Content-Type", "").startswith(
            "application/json"):
        try:
            return response.json()
        except ValueError as exc:
            raise LoginError("userinfo: not JSON") from exc
    if body.count(".") == 4:  # compact JWE
        try:
            body = jwe.decrypt_compact(body, keys.key_set("enc"),
                                       algorithms=DECRYPTION).plaintext.decode()
        except (JoseError, ValueError, TypeError) as exc:
            raise LoginError(f"userinfo: cannot decrypt ({exc})") from exc
    elif source.federated:
        raise LoginError("userinfo: not encrypted")
    return _decode_signed(source, body, "userinfo").claims


def revoke(entity_id, access_token):
    """Revoke ``access_token`` at the provider (logout); best effort."""
    chosen = provider(entity_id)
    try:
        source = sources.for_provider(chosen) if chosen else None
        endpoint = source.metadata.get("revocation_endpoint") if source else None
        if endpoint:
            _post(endpoint, {"token": access_token, **source.client_auth(endpoint)})
    except (federation.FederationError, LoginError) as exc:
        log.warning("Token revocation at %s failed: %s", entity_id, escape(exc, LINE_LIMIT))

