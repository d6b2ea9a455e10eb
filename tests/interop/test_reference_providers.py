"""Interoperability: complete SPID and CIE logins of our relying party
against the reference implementation (``spid-cie-oidc==1.6.3``: trust
anchor, SPID provider, CIE provider; see conftest.py), driven headlessly
with ``requests`` as a browser would: our begin view, the provider's login
form and consent page, our callback, the personal area, the logout.

The first run installs the peer's virtualenv (PyPI needed); without it the
tests fail and say so. ``pytest tests/interop`` or ``-m interop`` runs them.

Three tests guard defects the reference exposed in our relying party, now
fixed: key rotation against providers that cache our keys (signing keys
are published before use; the encryption key in use is listed first) and
the place of ``organization_name`` in our metadata.
"""

import base64
import json
import logging
import shutil
from contextlib import contextmanager
from datetime import timedelta
from importlib import import_module
from urllib.parse import urljoin

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.interop import harness
from wagtail_helpdesk.conf import get_setting
from wagtail_helpdesk.models import Citizen, CitizenLogin
from wagtail_helpdesk.oidc import keys

# Our site runs on a live server: transactional tests, which (like the browser
# tests) put the migrated data back rather than leave a flushed database.
pytestmark = [pytest.mark.interop,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PERSONAL_AREA = "helpdesk/area-personale/"
PREFERENCES = "helpdesk/area-personale/preferenze/"


def session_of(browser):
    """Our site's session for the browser's session cookie ({} without one)."""
    key = browser.http.cookies.get(settings.SESSION_COOKIE_NAME, domain="127.0.0.1")
    if not key:
        return {}
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).load()


def held_login(browser):
    """What our site keeps of the SPID/CIE login: {"provider", "access_token"}."""
    from wagtail_helpdesk.oidc.views import SESSION_LOGIN

    return session_of(browser)[SESSION_LOGIN]


def userinfo(provider, access_token):
    return requests.get(f"{provider}userinfo", timeout=harness.TIMEOUT,
                        headers={"Authorization": f"Bearer {access_token}"})


def header_of(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


class Trail:
    """The citizens of a test, and what every side did, told on failure."""

    def __init__(self, federation, live_server, caplog):
        self.federation, self.caplog = federation, caplog
        self.rp = f"{live_server.url}/"
        self.hops = []

    def citizen(self, profile):
        person = self.federation.citizens[profile]
        return harness.Citizen(person["username"], person["password"], hops=self.hops)

    def log_in(self, profile):
        """A complete login of the profile's test citizen, checked up to our
        redirect to the personal area; the browser and the callback URL."""
        browser = self.citizen(profile)
        urls, response = browser.log_in(self.rp, getattr(self.federation, profile))
        assert response.status_code == 302, (
            f"our callback answered HTTP {response.status_code} to "
            f"{urls['callback']}:\n{response.text[:1500]}")
        assert browser.expect_redirect(response, "our callback") == self.rp + PERSONAL_AREA
        return browser, urls["callback"]

    @contextmanager
    def explained(self):
        """On a failed check, say what happened on every side: the browser's
        hops, our relying party's log and the peers' logs."""
        try:
            yield
        except AssertionError as exc:
            hops = "\n".join(f"  {method} {url} -> {status}"
                             for method, url, status in self.hops)
            ours = "\n".join(f"  {r.levelname} {r.name}: {r.getMessage()}"
                             for r in self.caplog.records
                             if r.name.startswith(("wagtail_helpdesk", "django.request")))
            raise AssertionError(f"{exc}\n\nbrowser:\n{hops}\n\nour relying party:\n{ours}"
                                 f"\n\n{self.federation.logs()}") from exc


@pytest.fixture
def trail(relying_party, live_server, caplog):
    caplog.set_level(logging.INFO, logger="wagtail_helpdesk")
    return Trail(relying_party, live_server, caplog)


@pytest.mark.parametrize("profile", ["spid", "cie"])
def test_a_citizen_logs_in_and_out_through_the_reference_provider(trail, profile):
    federation, rp = trail.federation, trail.rp
    provider = getattr(federation, profile)
    person = federation.citizens[profile]
    browser = trail.citizen(profile)
    with trail.explained():
        urls, response = browser.log_in(rp, provider)

        # The provider answered our callback as the profile says (CIE must
        # send iss; the reference sends it for SPID too).
        answer = harness.query_of(urls["callback"])
        assert urls["callback"].startswith(f"{federation.client_id}callback/?")
        assert "error" not in answer, answer
        assert answer["code"] and answer["state"] and answer["iss"] == provider
        # Our callback accepted every token and let the citizen in.
        assert response.status_code == 302, (
            f"our callback answered HTTP {response.status_code}:\n{response.text[:2000]}")
        assert browser.expect_redirect(response, "our callback") == rp + PERSONAL_AREA

        # The attributes arrived: the account, its identity and citizen record.
        session = session_of(browser)
        assert session, f"no {settings.SESSION_COOKIE_NAME} cookie from our site"
        user = get_user_model().objects.get(pk=session["_auth_user_id"])
        identity = CitizenLogin.objects.get(user=user)
        assert identity.issuer == provider
        assert len(identity.subject) == 64  # the reference's pairwise subject (sha256)
        citizen = Citizen.objects.get(user=user)
        assert citizen.fiscal_code == person["fiscal_code"]  # TINIT- stripped
        assert (citizen.given_name, citizen.family_name, citizen.email) == (
            person["given_name"], person["family_name"], person["email"])
        assert (user.first_name, user.last_name) == (person["given_name"],
                                                     person["family_name"])
        area = browser.request("GET", rp + PERSONAL_AREA)
        assert area.status_code == 200, area.text[:1000]

        # Logout revokes the access token at the provider.
        held = held_login(browser)
        assert held["provider"] == provider
        before = userinfo(provider, held["access_token"])
        assert before.status_code == 200
        assert before.headers["Content-Type"].startswith("application/jwt")
        token = browser.csrf_token(rp + PREFERENCES)
        out = browser.request("POST", rp + "oidc/rp/logout/",
                              data={"csrfmiddlewaretoken": token},
                              headers={"Referer": rp + PREFERENCES})
        assert out.status_code == 302, out.text[:1000]
        assert "_auth_user_id" not in session_of(browser)
        assert browser.request("GET", rp + PERSONAL_AREA).status_code == 302
        after = userinfo(provider, held["access_token"])
        assert after.status_code == 403, (
            f"the access token still works at the provider after logout "
            f"(HTTP {after.status_code})")


def test_the_same_citizen_again_reaches_the_same_account(trail):
    with trail.explained():
        first, _ = trail.log_in("spid")
        second, _ = trail.log_in("spid")
        assert session_of(first)["_auth_user_id"] == session_of(second)["_auth_user_id"]
        assert CitizenLogin.objects.count() == 1 and Citizen.objects.count() == 1


def test_a_citizen_who_cancels_at_the_provider_is_not_logged_in(trail):
    """The provider's login page names us; its "Cancel" sends the browser
    back with an error: our callback refuses the login, and the pending
    state is spent."""
    browser = trail.citizen("spid")
    with trail.explained():
        _, page = browser.login_page(trail.rp, trail.federation.spid)
        organization = get_setting("OIDC_ORGANIZATION")["organization_name"]
        assert organization in page.text  # the provider names us, from our configuration
        cancel = next(link for link in harness.links_of(page.text) if "notconsent" in link)
        callback = browser.expect_redirect(
            browser.request("GET", urljoin(page.url, cancel)), "the provider's cancel")
        answer = harness.query_of(callback)
        assert callback.startswith(f"{trail.federation.client_id}callback/?")
        assert answer["error"] and answer["state"]
        refused = browser.request("GET", callback)
        assert refused.status_code == 400, refused.text[:1000]
        assert "_auth_user_id" not in session_of(browser)
        assert any("provider answered" in r.getMessage() for r in trail.caplog.records)
        assert browser.request("GET", callback).status_code == 400  # not pending any more


# The anchor's onboarding checks ---------------------------------------------


def test_the_anchor_onboarding_check_accepts_our_entity_configuration(relying_party):
    """What the package checks before it registers a descendant: our
    configuration fetched, self-signed, with the anchor in authority_hints."""
    report = relying_party.peers["spid"].command("check-rp", relying_party.client_id)
    assert report["entity_configuration"] == "ok", report


def test_our_resolve_endpoint_gives_a_chain_the_reference_anchor_signed(relying_party):
    """``federation_resolve_endpoint``: our metadata with the trust chain, whose
    statement about us is the real anchor's, verified with its pinned keys."""
    anchor = relying_party.anchor
    response = requests.get(f"{relying_party.client_id}resolve", timeout=harness.TIMEOUT,
                            params={"sub": relying_party.client_id,
                                    "trust_anchor": anchor["entity_id"]})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/resolve-response+jwt"
    claims = jwt.decode(response.text, KeySet.import_key_set(keys.public_jwks("federation")),
                        algorithms=["RS256"]).claims
    ours, statement, anchor_configuration = claims["trust_chain"]
    pinned = KeySet.import_key_set(anchor["jwks"])
    about_us = jwt.decode(statement, pinned, algorithms=["RS256"]).claims
    assert about_us["iss"] == anchor["entity_id"] and about_us["sub"] == relying_party.client_id
    # The anchor issues its trust marks afresh at each fetch: same type and subject.
    ours_marks = [jwt.decode(mark["trust_mark"], pinned, algorithms=["RS256"]).claims
                  for mark in claims["trust_marks"]]
    assert [(m["trust_mark_type"], m["sub"]) for m in ours_marks] == [
        (mark["trust_mark_type"], relying_party.client_id) for mark in about_us["trust_marks"]]
    assert jwt.decode(ours, KeySet.import_key_set(about_us["jwks"]),
                      algorithms=["RS256"]).claims["sub"] == relying_party.client_id
    assert jwt.decode(anchor_configuration, pinned,
                      algorithms=["RS256"]).claims["sub"] == anchor["entity_id"]


def test_our_relying_party_metadata_satisfies_the_reference_schemas(relying_party):
    report = relying_party.peers["spid"].command("check-rp", relying_party.client_id)
    assert report["openid_relying_party_spid"] == "ok", report
    assert report["openid_relying_party_cie"] == "ok", report


# Key rotation against providers that cache our keys --------------------------


@pytest.fixture
def own_keys(relying_party, rp_keys, settings, tmp_path):
    """A copy of our keys for a test that rotates them; afterwards the
    providers forget what they cached of us (the next test's keys differ)."""
    folder = tmp_path / "oidc-keys"
    shutil.copytree(rp_keys["dir"], folder)
    settings.WAGTAIL_HELPDESK_OIDC_KEYS_DIR = str(folder)
    yield folder
    for peer in relying_party.peers.values():
        peer.command("forget", relying_party.client_id)


def test_logins_go_on_after_rotating_the_signing_key(trail, own_keys):
    with trail.explained():
        trail.log_in("spid")  # the provider has our chain cached
        keys.rotate("sig", get_setting("OIDC_KEY_OVERLAP_DAYS"))
        browser = trail.citizen("spid")
        urls, response = browser.log_in(trail.rp, trail.federation.spid)
        answer = harness.query_of(urls["callback"])
        assert "error" not in answer, (
            f"after `rotate sig` the provider refused our request object: {answer}")
        assert response.status_code == 302


def test_logins_go_on_after_rotating_and_pruning_the_encryption_key(trail, own_keys,
                                                                    monkeypatch):
    federation = trail.federation
    with trail.explained():
        old = keys.current("enc").kid
        overlap = get_setting("OIDC_KEY_OVERLAP_DAYS")
        new = keys.rotate("enc", overlap)["kid"]
        # During the overlap the provider's cached chain expires: it fetches
        # our configuration again, now with both keys.
        federation.peers["spid"].command("forget", federation.client_id)
        browser, _ = trail.log_in("spid")
        encrypted_to = header_of(userinfo(federation.spid,
                                          held_login(browser)["access_token"]).text)["kid"]
        # The overlap is over: the old key goes.
        later = keys._now() + timedelta(days=overlap + 1)
        monkeypatch.setattr(keys, "_now", lambda: later)
        assert keys.prune() == 1
        urls, response = trail.citizen("spid").log_in(trail.rp, federation.spid)
        assert response.status_code == 302, (
            f"after `prune` the provider (chain cached during the overlap) still encrypts "
            f"userinfo to {encrypted_to} (old {old}, new {new}): our callback answered HTTP "
            f"{response.status_code}")
