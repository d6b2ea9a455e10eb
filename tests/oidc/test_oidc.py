"""SPID/CIE login against a fake federation (tests/support/oidc_fake.py): the whole
flow, our entity configuration, the trust chain, and every refusal the
security rules ask for — each with a clear page and a log line."""

import logging
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.oidc_fake import FISCAL, _key
from wagtail_helpdesk.models import Citizen, CitizenLogin
from wagtail_helpdesk.oidc import federation as fed_module
from wagtail_helpdesk.oidc import policy

pytestmark = pytest.mark.django_db


def start(client, provider, next_url=""):
    url = f"/oidc/rp/begin/?provider={provider.entity_id}"
    response = client.get(url + (f"&next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def login(client, federation, provider):
    location = start(client, provider)
    callback = provider.authorize(location, federation.rp_jwks)
    return client.get(callback.replace("http://testserver", ""))


def test_a_spid_login_creates_the_account_and_links_the_citizen(client, federation, factories):
    known = factories.citizen(fiscal_code="RSSMRA80A41H501Y", given_name="M.", email="")
    response = login(client, federation, federation.spid)
    assert response.status_code == 302 and response["Location"] == "/helpdesk/area-personale/"
    known.refresh_from_db()
    assert known.user is not None and known.given_name == "Maria"  # refreshed at login
    assert known.email == "maria.rossi@example.org"
    identity = CitizenLogin.objects.get()
    assert (identity.issuer, identity.subject) == (federation.spid.entity_id,
                                                   federation.spid.user["sub"])
    assert client.get("/helpdesk/area-personale/").status_code == 200
    # Again: the same account, names refreshed from the provider.
    federation.spid.user["family_name"] = "Rossi Bianchi"
    client.logout()
    login(client, federation, federation.spid)
    assert get_user_model().objects.filter(helpdesk_logins__isnull=False).count() == 1
    known.refresh_from_db()
    assert known.family_name == "Rossi Bianchi"


@pytest.mark.parametrize("backend", ["wagtail_helpdesk.auth.backends.ModelBackend",
                                     "django.contrib.auth.backends.ModelBackend"])
def test_a_spid_session_names_the_model_backend_the_site_lists(client, federation, settings,
                                                               backend):
    from django.contrib.auth import BACKEND_SESSION_KEY

    settings.AUTHENTICATION_BACKENDS = [backend]
    login(client, federation, federation.spid)
    assert client.session[BACKEND_SESSION_KEY] == backend
    assert client.get("/helpdesk/area-personale/").status_code == 200


def test_the_request_object_and_redirect_follow_the_profile(client, federation):
    location = start(client, federation.spid, next_url="/helpdesk/area-personale/preferenze/")
    query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    assert location.startswith(federation.spid.entity_id + "authorization?")
    assert set(query) == {"client_id", "response_type", "scope", "code_challenge",
                          "code_challenge_method", "request"}
    request = jwt.decode(query["request"], KeySet.import_key_set(federation.rp_jwks),
                         algorithms=["RS256"])
    claims = request.claims
    assert request.header["kid"] and claims["iss"] == "http://testserver/oidc/rp/"
    assert claims["redirect_uri"] == "http://testserver/oidc/rp/callback/"
    assert claims["acr_values"] == "https://www.spid.gov.it/SpidL2"
    assert claims["prompt"] == "consent login" and claims["exp"] - claims["iat"] <= 70
    assert claims["claims"]["userinfo"][FISCAL] == {"essential": True}
    callback = federation.spid.authorize(location, federation.rp_jwks)
    response = client.get(callback.replace("http://testserver", ""))
    assert response["Location"] == "/helpdesk/area-personale/preferenze/"


def test_our_entity_configuration(client, federation, settings):
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_MARKS = [{"id": "https://ta/tm", "trust_mark": "x.y.z"}]
    response = client.get("/oidc/rp/.well-known/openid-federation")
    assert response["Content-Type"] == "application/entity-statement+jwt"
    from wagtail_helpdesk.oidc import keys

    token = jwt.decode(response.content.decode(), KeySet.import_key_set(
        keys.public_jwks("federation")), algorithms=["RS256"])
    assert token.header["typ"] == "entity-statement+jwt" and token.header["kid"]
    claims = token.claims
    assert claims["iss"] == claims["sub"] == "http://testserver/oidc/rp/"
    assert claims["authority_hints"] == [federation.anchor_id]
    assert claims["trust_marks"] == settings.WAGTAIL_HELPDESK_OIDC_TRUST_MARKS
    rp = claims["metadata"]["openid_relying_party"]
    assert rp["token_endpoint_auth_method"] == "private_key_jwt"
    assert rp["organization_name"] == "Comune di Esempio"  # where the SPID/CIE schemas want it
    assert rp["redirect_uris"] == ["http://testserver/oidc/rp/callback/"]
    assert {k["use"] for k in rp["jwks"]["keys"]} == {"sig", "enc"}
    assert all("d" not in k for k in rp["jwks"]["keys"] + claims["jwks"]["keys"])
    federation_kids = {k["kid"] for k in claims["jwks"]["keys"]}
    assert federation_kids.isdisjoint(k["kid"] for k in rp["jwks"]["keys"])


def test_the_personal_area_sends_visitors_to_the_login(client, federation):
    response = client.get("/helpdesk/area-personale/")
    assert response["Location"] == "/oidc/rp/login/?next=%2Fhelpdesk%2Farea-personale%2F"


def test_the_login_page_lists_spid_providers_and_cie(client, federation):
    html = client.get("/oidc/rp/login/?next=/helpdesk/area-personale/").content.decode()
    assert "Demo SPID" in html and "Log in with CIE" in html
    assert "next=/helpdesk/area-personale/" in html


# Refusals ------------------------------------------------------------------


def refused(response, caplog, status=400, text="could not be completed"):
    assert response.status_code == status
    assert text in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session
    assert any("SPID/CIE" in r.getMessage() for r in caplog.records)
    return True


def test_login_csrf_a_state_of_another_browser_is_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    from django.test import Client

    location = start(Client(), federation.spid)  # the attacker's own login
    callback = federation.spid.authorize(location, federation.rp_jwks)
    assert refused(client.get(callback.replace("http://testserver", "")), caplog)


def test_a_replayed_state_is_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    location = start(client, federation.spid)
    callback = federation.spid.authorize(location, federation.rp_jwks).replace(
        "http://testserver", "")
    assert client.get(callback).status_code == 302
    client.logout()
    assert refused(client.get(callback), caplog)


def test_a_wrong_issuer_on_the_callback_is_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    location = start(client, federation.spid)
    callback = federation.spid.authorize(location, federation.rp_jwks)
    forged = callback.replace(federation.spid.entity_id.replace(":", "%3A").replace("/", "%2F"),
                              "https%3A%2F%2Fevil.example%2F")
    assert forged != callback
    assert refused(client.get(forged.replace("http://testserver", "")), caplog)


@pytest.mark.parametrize("changes", [
    {"nonce": "x" * 43},  # nonce mismatch
    {"aud": ["https://someone-else.example/"]},  # wrong audience
    {"exp": 1000, "iat": 900},  # expired
    {"iss": "https://evil.example/"},  # wrong issuer
    {"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"},  # access token swapped
    {"acr": "https://www.spid.gov.it/SpidL1"},  # lower level than asked
], ids=["nonce", "audience", "expired", "issuer", "at_hash", "acr"])
def test_a_bad_id_token_is_refused(client, federation, caplog, changes):
    caplog.set_level(logging.WARNING)
    federation.spid.id_token_changes = changes
    assert refused(login(client, federation, federation.spid), caplog)
    assert not CitizenLogin.objects.exists()


def test_a_forged_id_token_and_an_unknown_key_id_are_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    federation.spid.id_token_key = _key()  # not the provider's key
    assert refused(login(client, federation, federation.spid), caplog)
    assert any("unknown key id" in r.getMessage() for r in caplog.records)


def test_undecryptable_userinfo_is_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    federation.spid.userinfo_body = "not.a.jwe.at.all"
    assert refused(login(client, federation, federation.spid), caplog)


@pytest.mark.parametrize("alg,enc", [("RSA-OAEP", "A128CBC-HS256"),
                                     ("RSA-OAEP-256", "A256CBC-HS512")])
def test_userinfo_encryptions_the_specs_require_are_understood(client, federation, alg, enc,
                                                               monkeypatch):
    original = federation.spid.userinfo
    monkeypatch.setattr(federation.spid, "userinfo",
                        lambda auth, jwks: original(auth, jwks, enc=enc, alg=alg))
    assert login(client, federation, federation.spid).status_code == 302


def test_a_tampered_trust_chain_is_refused(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    federation.statement_key = _key()  # the statement is not the pinned anchor's
    response = client.get(f"/oidc/rp/begin/?provider={federation.spid.entity_id}")
    assert response.status_code == 502 and "cannot be reached or verified" in \
        response.content.decode()
    assert any("cannot be trusted" in r.getMessage() for r in caplog.records)


def test_a_provider_signing_with_a_key_the_anchor_does_not_vouch_for_is_refused(federation):
    vouched, federation.spid.federation_key = federation.spid.federation_key, _key()
    original = federation.statement

    def statement(sub):  # the anchor still vouches for the provider's old key
        new, federation.spid.federation_key = federation.spid.federation_key, vouched
        try:
            return original(sub)
        finally:
            federation.spid.federation_key = new

    federation.statement = statement
    with pytest.raises(fed_module.FederationError, match="invalid_key_id|signature"):
        fed_module.resolve(federation.spid.entity_id)


def test_a_provider_outside_the_anchor_is_refused(federation, settings):
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_ANCHOR = {"entity_id": "https://other-anchor.example/",
                                                   "jwks": federation.anchor_jwks()}
    with pytest.raises(fed_module.FederationError, match="not a direct subordinate"):
        fed_module.resolve(federation.spid.entity_id)


def test_the_chain_is_cached_until_its_earliest_expiry(federation, httpserver):
    chain = fed_module.resolve(federation.spid.entity_id)
    served = len(httpserver.log)
    again = fed_module.resolve(federation.spid.entity_id)
    assert len(httpserver.log) == served and again.metadata == chain.metadata
    assert chain.expires_at <= int(__import__("time").time()) + 1800  # the statement's exp
    # The anchor's policy was applied: scopes outside its list are dropped.
    assert set(chain.metadata["scopes_supported"]) <= {"openid", "offline_access", "profile",
                                                       "email"}


def test_a_fiscal_code_of_another_providers_account_is_refused_unless_allowed(
        client, federation, settings, caplog):
    caplog.set_level(logging.WARNING)
    assert login(client, federation, federation.spid).status_code == 302
    client.logout()
    federation.cie.user = {**federation.spid.user, "sub": "another-pairwise-subject"}
    response = login(client, federation, federation.cie)
    assert refused(response, caplog, status=403, text="already linked")
    settings.WAGTAIL_HELPDESK_OIDC_LINK_BY_FISCAL_NUMBER = True
    assert login(client, federation, federation.cie).status_code == 302
    assert CitizenLogin.objects.values("user").distinct().count() == 1
    assert Citizen.objects.filter(fiscal_code="RSSMRA80A41H501Y").count() == 1


def test_a_deactivated_account_cannot_log_in(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    login(client, federation, federation.spid)
    user = CitizenLogin.objects.get().user
    user.is_active = False
    user.save(update_fields=["is_active"])
    client.logout()
    assert refused(login(client, federation, federation.spid), caplog)


def test_starting_logins_is_rate_limited(client, federation, settings):
    settings.WAGTAIL_HELPDESK_RATE_STEPS_PER_IP = 2
    url = f"/oidc/rp/begin/?provider={federation.spid.entity_id}"
    assert [client.get(url).status_code for _ in range(3)] == [302, 302, 429]


def test_logout_revokes_the_access_token(client, federation):
    login(client, federation, federation.spid)
    page = client.get("/helpdesk/area-personale/").content.decode()
    assert 'action="/oidc/rp/logout/"' in page and "data-helpdesk-logout" in page
    token = client.session["wagtail_helpdesk_oidc_login"]["access_token"]
    response = client.post("/oidc/rp/logout/")
    assert response.status_code == 302 and federation.spid.revoked == [token]
    assert "_auth_user_id" not in client.session


# The metadata policy engine (OpenID Federation operators) ---------------------


def test_policy_operators():
    metadata = {"scopes": ["openid", "email", "x"], "alg": "RS256", "contacts": ["a"]}
    result = policy.apply_policy(metadata, {
        "scopes": {"subset_of": ["openid", "email", "profile"]},
        "contacts": {"add": ["b"]},
        "grant_types": {"default": ["authorization_code"]},
        "alg": {"one_of": ["RS256", "ES256"]},
        "client_name": {"value": "Comune"},
    })
    assert result == {"scopes": ["openid", "email"], "alg": "RS256", "contacts": ["a", "b"],
                      "grant_types": ["authorization_code"], "client_name": "Comune"}
    assert metadata["contacts"] == ["a"]  # the input is not changed
    for bad in ({"alg": {"one_of": ["ES256"]}},
                {"scopes": {"superset_of": ["profile"]}},
                {"missing": {"essential": True}},
                {"alg": {"unknown_operator": 1}}):
        with pytest.raises(policy.PolicyError):
            policy.apply_policy(metadata, bad)
    assert "alg" not in policy.apply_policy(metadata, {"alg": {"value": None}})


# Generic OpenID Connect mode (a SPID/CIE proxy) --------------------------------


@pytest.fixture
def proxy(httpserver, settings, tmp_path):
    from django.core.cache import cache

    from tests.support.oidc_fake import GenericProvider
    from wagtail_helpdesk.oidc import keys

    cache.clear()
    settings.WAGTAIL_HELPDESK_OIDC_KEYS_DIR = str(tmp_path / "keys")
    keys.generate()
    settings.WAGTAIL_HELPDESK_OIDC_CLIENT_ID = "http://testserver/oidc/rp/"
    provider = GenericProvider(httpserver, client_id="comune-helpdesk", client_secret="s3cret")
    provider.rp_jwks = keys.public_jwks("sig", "enc")
    settings.WAGTAIL_HELPDESK_OIDC_PROVIDERS = [{
        "profile": "oidc", "issuer": provider.issuer, "name": "SPID e CIE",
        "client_id": "comune-helpdesk", "client_secret": "s3cret"}]
    return provider


def proxy_login(client, proxy):
    response = client.get(f"/oidc/rp/begin/?provider={proxy.issuer}")
    assert response.status_code == 302
    return client.get(proxy.authorize(response["Location"]).replace("http://testserver", ""))


def test_generic_mode_logs_in_through_a_proxy(client, proxy):
    html = client.get("/oidc/rp/login/").content.decode()
    assert "SPID e CIE" in html
    response = proxy_login(client, proxy)
    assert response.status_code == 302, response.content[:300]
    citizen = Citizen.objects.get(fiscal_code="VRDLCU80A01H501G")
    assert citizen.user is not None and citizen.family_name == "Verdi"
    assert CitizenLogin.objects.get().issuer == proxy.issuer


def test_generic_mode_with_private_key_jwt(client, proxy, settings):
    proxy.client_secret = ""
    settings.WAGTAIL_HELPDESK_OIDC_PROVIDERS = [{
        "profile": "oidc", "issuer": proxy.issuer, "client_id": "comune-helpdesk"}]
    assert proxy_login(client, proxy).status_code == 302
    published = client.get("/oidc/rp/jwks.json").json()
    assert {k["use"] for k in published["keys"]} == {"sig", "enc"}
    assert all("d" not in k for k in published["keys"])


def test_generic_mode_refuses_a_wrong_nonce_or_audience(client, proxy, caplog):
    caplog.set_level(logging.WARNING)
    proxy.id_token_changes = {"nonce": "n" * 43}
    assert refused(proxy_login(client, proxy), caplog)
    proxy.id_token_changes = {"aud": "someone-else"}
    assert refused(proxy_login(client, proxy), caplog)


# Administrators configure providers and trust marks in the admin ---------------


def test_administrators_add_providers_and_paste_trust_marks(client, federation, factories):
    import base64
    import json

    client.force_login(factories.administrator())
    response = client.post("/admin/helpdesk/spid-cie/new/", {
        "name": "Poste ID", "entity_id": "https://posteid.example/", "profile": "spid",
        "sort_order": "1", "active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Poste ID" in client.get("/oidc/rp/login/").content.decode()

    garbage = client.post("/admin/helpdesk/trust-marks/new/", {"token": "not a jwt",
                                                              "active": "on"})
    assert garbage.status_code == 200 and "three parts separated by dots" in \
        garbage.content.decode()
    payload = {"id": "https://registry.example/openid_relying_party/public/",
               "sub": "http://testserver/oidc/rp/", "iat": 1700000000, "exp": 4102444800}
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    mark = f"eyJhbGciOiJSUzI1NiJ9.{body}.c2lnbmF0dXJl"
    response = client.post("/admin/helpdesk/trust-marks/new/", {"token": mark, "active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    listing = client.get("/admin/helpdesk/trust-marks/").content.decode()
    assert payload["id"] in listing
    token = client.get("/oidc/rp/.well-known/openid-federation").content.decode()
    from wagtail_helpdesk.oidc import keys

    claims = jwt.decode(token, KeySet.import_key_set(keys.public_jwks("federation")),
                        algorithms=["RS256"]).claims
    assert claims["trust_marks"] == [{"id": payload["id"], "trust_mark": mark}]


def test_operators_cannot_configure_the_login(client, factories):
    office = factories.office()
    client.force_login(factories.supervisor(office))
    for url in ("/admin/helpdesk/spid-cie/", "/admin/helpdesk/trust-marks/new/"):
        assert client.get(url).status_code in (302, 403)
