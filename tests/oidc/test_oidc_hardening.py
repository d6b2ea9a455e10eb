"""SPID/CIE login hardening found by an outside attack run, against the fake
federation (tests/support/oidc_fake.py): provider text in the logs cannot forge log
lines, ``azp`` with several audiences, the anchor's ``metadata`` about a
provider, and the age of an ID token."""

import logging
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.oidc.test_oidc import login, refused, start
from wagtail_helpdesk.models import CitizenLogin
from wagtail_helpdesk.oidc import federation as fed_module
from wagtail_helpdesk.oidc.logsafe import escape

pytestmark = pytest.mark.django_db
US = "http://testserver/oidc/rp/"
DAY = 86400


# Provider text in the logs (CWE-117) -------------------------------------------


def test_escape_keeps_one_bounded_line():
    assert escape("a\nb\r\x1b[31m\u2028c") == "a\\nb\\r\\x1b[31m\\u2028c"
    assert escape("x" * 500) == "x" * 200 + "…"
    assert len(escape("\n" * 500)) == 201 and "\n" not in escape("\n" * 500)
    assert escape(None) == "None" and escape("plain text") == "plain text"


def test_a_providers_error_description_cannot_forge_log_lines(client, federation, caplog):
    caplog.set_level(logging.WARNING)
    location = start(client, federation.spid)
    callback = federation.spid.authorize(location, federation.rp_jwks)
    state = parse_qs(urlparse(callback).query)["state"][0]
    forged = "\n2030-01-01 12:00:00 CRITICAL django.security: admin logged in from 10.0.0.1"
    response = client.get("/oidc/rp/callback/?" + urlencode({
        "error": "access_denied\r\nWARNING forged", "state": state,
        "error_description": "cancelled" + forged + " padding" * 500}))
    assert refused(response, caplog)
    lines = [r.getMessage() for r in caplog.records if "SPID/CIE" in r.getMessage()]
    assert lines and all("\n" not in line and "\r" not in line for line in lines)
    assert all(len(line) < 600 for line in lines)  # each piece cut to 200 characters
    assert any("cancelled\\n2030-01-01" in line and "access_denied\\r\\n" in line
               for line in lines)


# azp with several audiences (OpenID Connect Core 3.1.3.7) -----------------------


@pytest.mark.parametrize("changes", [
    {"aud": [US, "https://other-client.example/"]},  # several audiences, no azp
    {"aud": [US, "https://other-client.example/"], "azp": "https://other-client.example/"},
    {"aud": [US], "azp": "https://other-client.example/"},  # azp present: must be us
], ids=["several-audiences-without-azp", "several-audiences-other-azp", "one-audience-other-azp"])
def test_an_id_token_for_another_authorized_party_is_refused(client, federation, caplog,
                                                             changes):
    caplog.set_level(logging.WARNING)
    federation.spid.id_token_changes = changes
    assert refused(login(client, federation, federation.spid), caplog)
    assert any("azp" in r.getMessage() for r in caplog.records)
    assert not CitizenLogin.objects.exists()


def test_several_audiences_with_us_as_authorized_party_are_accepted(client, federation):
    federation.spid.id_token_changes = {"aud": [US, "https://other-client.example/"],
                                        "azp": US}
    assert login(client, federation, federation.spid).status_code == 302
    assert CitizenLogin.objects.exists()


# The age of an ID token ----------------------------------------------------------


@pytest.mark.parametrize("iat_offset, exp_offset", [
    (-30 * DAY, 3650 * DAY),  # issued a month ago, valid for ten years
    (3600, 7200),  # issued an hour in the future
], ids=["too-old", "in-the-future"])
def test_an_id_token_issued_too_long_ago_or_in_the_future_is_refused(
        client, federation, caplog, iat_offset, exp_offset):
    caplog.set_level(logging.WARNING)
    now = int(time.time())
    federation.spid.id_token_changes = {"iat": now + iat_offset, "exp": now + exp_offset}
    assert refused(login(client, federation, federation.spid), caplog)
    assert not CitizenLogin.objects.exists()


def test_the_id_token_max_age_is_a_setting(client, federation, settings, caplog):
    caplog.set_level(logging.WARNING)
    now = int(time.time())
    federation.spid.id_token_changes = {"iat": now - 1200, "exp": now + 300}
    assert refused(login(client, federation, federation.spid), caplog)  # default: 600 s
    assert any("OIDC_ID_TOKEN_MAX_AGE" in r.getMessage() for r in caplog.records)
    client.logout()
    settings.WAGTAIL_HELPDESK_OIDC_ID_TOKEN_MAX_AGE = 3600
    assert login(client, federation, federation.spid).status_code == 302


# The anchor's metadata about a provider -----------------------------------------


def test_the_anchors_metadata_replaces_the_providers_own_before_the_policy(federation):
    federation.statement_metadata = {
        "openid_provider": {"token_endpoint": "https://anchor-says.example/token",
                            "scopes_supported": ["openid", "profile", "not-allowed"]},
        "federation_entity": {"organization_name": "Another entity type"}}
    metadata = fed_module.resolve(federation.spid.entity_id).metadata
    assert metadata["token_endpoint"] == "https://anchor-says.example/token"
    # The policy (subset_of) came after: it filtered the anchor's own value.
    assert metadata["scopes_supported"] == ["openid", "profile"]
    assert metadata["userinfo_endpoint"] == federation.spid.entity_id + "userinfo"  # kept
    assert "organization_name" not in metadata  # only the provider's entity type


def test_the_anchors_metadata_must_be_an_object(federation):
    federation.statement_metadata = {"openid_provider": ["not", "an", "object"]}
    with pytest.raises(fed_module.FederationError, match="not an object"):
        fed_module.resolve(federation.spid.entity_id)
