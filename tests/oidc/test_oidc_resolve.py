"""Our federation resolve endpoint (``/oidc/rp/resolve``): announced in our
Entity Configuration, answers about ourselves only, with a trust chain the
pinned anchor's keys verify."""

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from wagtail_helpdesk.oidc import keys

pytestmark = pytest.mark.django_db
ME = "http://testserver/oidc/rp/"


def decode(token, jwks):
    return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256"])


@pytest.fixture
def registered(federation):
    """Our relying party registered at the fake anchor."""
    federation.subordinates[ME] = keys.public_jwks("federation")
    return federation


def test_the_entity_configuration_announces_the_resolve_endpoint(client, federation):
    token = client.get("/oidc/rp/.well-known/openid-federation").content.decode()
    claims = decode(token, keys.public_jwks("federation")).claims
    assert claims["metadata"]["federation_entity"]["federation_resolve_endpoint"] == (
        ME + "resolve")


def test_it_resolves_us_with_a_verifiable_trust_chain(client, registered, settings):
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_MARKS = [{"id": "https://ta/tm", "trust_mark": "a.b.c"}]
    response = client.get("/oidc/rp/resolve", {"sub": ME, "trust_anchor": registered.anchor_id})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/resolve-response+jwt"
    answer = decode(response.content.decode(), keys.public_jwks("federation"))
    assert answer.header["typ"] == "resolve-response+jwt" and answer.header["kid"]
    claims = answer.claims
    assert claims["iss"] == claims["sub"] == ME
    assert set(claims["metadata"]) == {"federation_entity", "openid_relying_party"}
    assert claims["metadata"]["openid_relying_party"]["redirect_uris"] == [ME + "callback/"]
    assert claims["trust_marks"] == settings.WAGTAIL_HELPDESK_OIDC_TRUST_MARKS
    ours, statement, anchor = claims["trust_chain"]
    # Our configuration, verified with the keys the anchor vouches for; the
    # anchor's statement and configuration, with the pinned keys.
    about_us = decode(statement, registered.anchor_jwks()).claims
    assert about_us["iss"] == registered.anchor_id and about_us["sub"] == ME
    assert decode(ours, about_us["jwks"]).claims["sub"] == ME
    assert decode(anchor, registered.anchor_jwks()).claims["sub"] == registered.anchor_id
    assert claims["exp"] <= about_us["exp"] and claims["iat"] <= claims["exp"]


def test_entity_type_filters_the_metadata_and_anchor_is_an_alias(client, registered):
    response = client.get("/oidc/rp/resolve", {"sub": ME, "anchor": registered.anchor_id,
                                               "entity_type": "openid_relying_party"})
    claims = decode(response.content.decode(), keys.public_jwks("federation")).claims
    assert set(claims["metadata"]) == {"openid_relying_party"}


@pytest.mark.parametrize("params, status, error", [
    ({"sub": ME}, 400, "invalid_request"),
    ({"sub": "https://other.example/", "trust_anchor": "ANCHOR"}, 404, "invalid_subject"),
    ({"sub": ME, "trust_anchor": "https://other-anchor.example/"}, 404,
     "invalid_trust_anchor"),
])
def test_what_it_cannot_resolve_is_a_json_error(client, registered, params, status, error):
    params = {k: (registered.anchor_id if v == "ANCHOR" else v) for k, v in params.items()}
    response = client.get("/oidc/rp/resolve", params)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]


def test_an_anchor_that_does_not_know_us_is_temporarily_unavailable(client, federation,
                                                                    caplog):
    # Not registered: the anchor's fetch endpoint answers 404 about us.
    response = client.get("/oidc/rp/resolve", {"sub": ME, "trust_anchor": federation.anchor_id})
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert any("resolve endpoint" in record.getMessage() for record in caplog.records)


def test_the_anchor_is_asked_once_while_its_statement_is_valid(client, registered):
    before = len(registered.server.log)
    for _ in range(3):
        assert client.get("/oidc/rp/resolve", {
            "sub": ME, "trust_anchor": registered.anchor_id}).status_code == 200
    assert len(registered.server.log) - before == 2  # configuration + statement, once
