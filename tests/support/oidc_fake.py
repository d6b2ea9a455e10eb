"""A small SPID/CIE federation for the login tests, built from the specs in
shared/reference/spid-cie-oidc.md: a trust anchor (entity configuration,
fetch endpoint) and providers (entity configuration, authorization, token,
userinfo, revocation) served over HTTP by pytest-httpserver. Knobs let a
test tamper with what the providers or the anchor send.

The real reference providers are exercised by the interop suite; this fake
is for the security tests, which the reference cannot produce (§15.9).
"""

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from joserfc import jwe, jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug import Response

FISCAL = "https://attributes.eid.gov.it/fiscal_number"
TYP = {"typ": "entity-statement+jwt"}


def _key(use="sig"):
    """A new key, unlike every other of this test (from the session's pool:
    tests/support/rsa_pool.py)."""
    return RSAKey.generate_key(2048, parameters={"use": use}, auto_kid=True)


def _public(*keys):
    return {"keys": [k.as_dict(private=False) for k in keys]}


def _sign(key, claims, typ=True):
    header = {"alg": "RS256", "kid": key.kid, **(TYP if typ else {})}
    return jwt.encode(header, claims, key, algorithms=["RS256"])


class Provider:
    def __init__(self, federation, path, profile):
        self.federation, self.path, self.profile = federation, path, profile
        self.entity_id = federation.url(path)
        self.federation_key, self.core_key = _key(), _key()
        self.user = {"sub": secrets.token_hex(16), "given_name": "Maria", "family_name": "Rossi",
                     "email": "maria.rossi@example.org", FISCAL: "TINIT-RSSMRA80A41H501Y"}
        self.pending = {}  # code -> the authorization request's claims
        self.revoked = []
        self.issued = {}  # access token -> sub
        # Tampering knobs.
        self.id_token_changes = {}
        self.id_token_key = None  # sign the ID token with another key
        self.userinfo_body = None  # send this instead of the JWE
        self.acr = "https://www.spid.gov.it/SpidL2"

    def metadata(self):
        return {"issuer": self.entity_id,
                "authorization_endpoint": self.entity_id + "authorization",
                "token_endpoint": self.entity_id + "token",
                "userinfo_endpoint": self.entity_id + "userinfo",
                "revocation_endpoint": self.entity_id + "revocation",
                "jwks": _public(self.core_key),
                "scopes_supported": ["openid", "offline_access"]}

    def entity_configuration(self):
        now = int(time.time())
        return _sign(self.federation_key, {
            "iss": self.entity_id, "sub": self.entity_id, "iat": now, "exp": now + 3600,
            "jwks": _public(self.federation_key),
            "authority_hints": [self.federation.anchor_id],
            "metadata": {"openid_provider": self.metadata()}})

    def authorize(self, location, rp_jwks, login=True):
        """What the provider does with the browser at ``location``: check the
        request object, log the user in, send the browser back (the callback URL)."""
        query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        request = jwt.decode(query["request"], KeySet.import_key_set(rp_jwks),
                             algorithms=["RS256"]).claims
        assert request["scope"] == query["scope"] == "openid"
        assert request["client_id"] == query["client_id"]
        assert request["code_challenge_method"] == "S256"
        assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32
        assert "sub" not in request
        code = secrets.token_urlsafe(16)
        self.pending[code] = request
        answer = {"code": code, "state": request["state"], "iss": self.entity_id}
        return request["redirect_uri"] + "?" + urlencode(answer)

    def token(self, form, rp_jwks):
        assertion = jwt.decode(form["client_assertion"], KeySet.import_key_set(rp_jwks),
                               algorithms=["RS256"]).claims
        assert assertion["aud"] == self.entity_id + "token"
        assert assertion["iss"] == assertion["sub"] == form["client_id"]
        request = self.pending.pop(form["code"], None)
        if request is None:
            return Response(json.dumps({"error": "invalid_grant"}), status=400)
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != request["code_challenge"]:
            return Response(json.dumps({"error": "invalid_grant"}), status=400)
        access = secrets.token_urlsafe(32)
        self.issued[access] = self.user["sub"]
        half = hashlib.sha256(access.encode()).digest()[:16]
        now = int(time.time())
        claims = {"iss": self.entity_id, "sub": self.user["sub"], "aud": [form["client_id"]],
                  "iat": now, "exp": now + 300, "nonce": request["nonce"], "acr": self.acr,
                  "at_hash": base64.urlsafe_b64encode(half).rstrip(b"=").decode(),
                  "jti": secrets.token_hex(8), **self.id_token_changes}
        claims = {k: v for k, v in claims.items() if v is not None}
        id_token = _sign(self.id_token_key or self.core_key, claims, typ=False)
        return Response(json.dumps({"access_token": access, "id_token": id_token,
                                    "token_type": "Bearer", "expires_in": 300}),
                        content_type="application/json")

    def userinfo(self, authorization, rp_jwks, enc="A256CBC-HS512", alg="RSA-OAEP"):
        access = authorization.removeprefix("Bearer ")
        if access not in self.issued or access in self.revoked:
            return Response("", status=403)
        if self.userinfo_body is not None:
            return Response(self.userinfo_body, content_type="application/jwt")
        inner = _sign(self.core_key, self.user, typ=False)
        rp_enc = next(k for k in rp_jwks["keys"] if k.get("use") == "enc")
        key = RSAKey.import_key(rp_enc)
        body = jwe.encrypt_compact({"alg": alg, "enc": enc, "kid": key.kid, "cty": "JWT"},
                                   inner.encode(), key, algorithms=[alg, enc])
        return Response(body, content_type="application/jwt")


class Federation:
    def __init__(self, server):
        self.server = server
        self.anchor_id = self.url("ta/")
        self.anchor_key = _key()
        self.spid = Provider(self, "spid/", "spid")
        self.cie = Provider(self, "cie/", "cie")
        self.statement_key = None  # the anchor's statement signed with another key
        self.statement_metadata = None  # the anchor's "metadata" claim about providers
        self.policy = {"openid_provider": {"scopes_supported": {"subset_of": [
            "openid", "offline_access", "profile", "email"]}}}
        self.rp_jwks = None
        self.subordinates = {}  # other entity id -> its federation jwks (e.g. our RP)
        self._routes()

    def url(self, path):
        return self.server.url_for("/" + path)

    def anchor_jwks(self):
        return _public(self.anchor_key)

    def anchor_configuration(self):
        now = int(time.time())
        return _sign(self.anchor_key, {
            "iss": self.anchor_id, "sub": self.anchor_id, "iat": now, "exp": now + 7200,
            "jwks": self.anchor_jwks(), "constraints": {"max_path_length": 1},
            "metadata": {"federation_entity": {
                "federation_fetch_endpoint": self.anchor_id + "fetch"}}})

    def statement(self, sub):
        provider = {p.entity_id: p for p in (self.spid, self.cie)}.get(sub)
        if provider is None and sub not in self.subordinates:
            return Response("", status=404)
        now = int(time.time())
        extra = {"metadata": self.statement_metadata} if provider and \
            self.statement_metadata is not None else {}
        return _sign(self.statement_key or self.anchor_key, {
            "iss": self.anchor_id, "sub": sub, "iat": now, "exp": now + 1800,
            "jwks": (_public(provider.federation_key) if provider
                     else self.subordinates[sub]),
            "metadata_policy": self.policy, **extra})

    def _routes(self):
        from werkzeug import Request  # noqa: F401 (handlers receive it)

        well_known = ".well-known/openid-federation"
        routes = {
            f"/ta/{well_known}": lambda r: self.anchor_configuration(),
            "/ta/fetch": lambda r: self.statement(r.args.get("sub")),
        }
        for provider in (self.spid, self.cie):
            base = urlparse(provider.entity_id).path
            routes[f"{base}{well_known}"] = lambda r, p=provider: p.entity_configuration()
            routes[f"{base}token"] = lambda r, p=provider: p.token(r.form.to_dict(),
                                                                   self.rp_jwks)
            routes[f"{base}userinfo"] = lambda r, p=provider: p.userinfo(
                r.headers.get("Authorization", ""), self.rp_jwks)
            routes[f"{base}revocation"] = lambda r, p=provider: (
                p.revoked.append(r.form.get("token")) or Response("", status=200))

        def handler(request):
            found = routes.get(request.path)
            if found is None:
                return Response("", status=404)
            answer = found(request)
            if isinstance(answer, str):
                return Response(answer, content_type="application/entity-statement+jwt")
            return answer

        for path in routes:
            self.server.expect_request(path).respond_with_handler(handler)


@pytest.fixture
def federation(httpserver, settings, tmp_path):
    """The fake federation, and this site configured as its relying party."""
    from django.core.cache import cache

    from wagtail_helpdesk.oidc import keys

    cache.clear()  # chains of earlier tests' federations
    settings.WAGTAIL_HELPDESK_OIDC_KEYS_DIR = str(tmp_path / "oidc-keys")
    keys.generate()
    fed = Federation(httpserver)
    fed.rp_jwks = keys.public_jwks("sig", "enc")
    settings.WAGTAIL_HELPDESK_OIDC_CLIENT_ID = "http://testserver/oidc/rp/"
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_ANCHOR = {"entity_id": fed.anchor_id,
                                                   "jwks": fed.anchor_jwks()}
    settings.WAGTAIL_HELPDESK_OIDC_PROVIDERS = [
        {"entity_id": fed.spid.entity_id, "name": "Demo SPID", "profile": "spid"},
        {"entity_id": fed.cie.entity_id, "name": "CIE", "profile": "cie"}]
    settings.WAGTAIL_HELPDESK_OIDC_ORGANIZATION = {"organization_name": "Comune di Esempio",
                                                   "contacts": ["urp@comune.example.it"]}
    return fed


class GenericProvider:
    """A plain OpenID Connect provider, as a SPID/CIE proxy exposes: discovery,
    JWKS, code flow with PKCE, client_secret_post or private_key_jwt, JSON
    userinfo."""

    def __init__(self, server, client_id, client_secret=""):
        self.server = server
        self.issuer = server.url_for("/proxy")
        self.client_id, self.client_secret = client_id, client_secret
        self.key = _key()
        self.pending, self.issued, self.rp_jwks = {}, {}, None
        self.user = {"sub": "proxy-subject-1", "given_name": "Luca", "family_name": "Verdi",
                     "email": "luca@example.org", "fiscal_number": "TINIT-VRDLCU80A01H501G"}
        self.id_token_changes = {}
        routes = {
            "/proxy/.well-known/openid-configuration": lambda r: Response(json.dumps({
                "issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "userinfo_endpoint": self.issuer + "/userinfo",
                "jwks_uri": self.issuer + "/jwks"}), content_type="application/json"),
            "/proxy/jwks": lambda r: Response(json.dumps(_public(self.key)),
                                              content_type="application/json"),
            "/proxy/token": lambda r: self.token(r.form.to_dict()),
            "/proxy/userinfo": lambda r: self.userinfo(r.headers.get("Authorization", "")),
        }
        for path, handler in routes.items():
            server.expect_request(path).respond_with_handler(handler)

    def authorize(self, location):
        query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        assert query["client_id"] == self.client_id and query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.pending[code] = query
        return query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})

    def token(self, form):
        if self.client_secret:
            if form.get("client_secret") != self.client_secret:
                return Response(json.dumps({"error": "invalid_client"}), status=401)
        else:
            jwt.decode(form["client_assertion"], KeySet.import_key_set(self.rp_jwks),
                       algorithms=["RS256"])
        query = self.pending.pop(form.get("code"), None)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if query is None or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != \
                query["code_challenge"]:
            return Response(json.dumps({"error": "invalid_grant"}), status=400)
        access = secrets.token_urlsafe(32)
        self.issued[access] = True
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.user["sub"], "aud": self.client_id,
                  "iat": now, "exp": now + 300, "nonce": query["nonce"],
                  **self.id_token_changes}
        return Response(json.dumps({"access_token": access, "token_type": "Bearer",
                                    "id_token": _sign(self.key, claims, typ=False)}),
                        content_type="application/json")

    def userinfo(self, authorization):
        if authorization.removeprefix("Bearer ") not in self.issued:
            return Response("", status=401)
        return Response(json.dumps(self.user), content_type="application/json")
