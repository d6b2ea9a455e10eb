"""Fixtures of the interoperability suite: our relying party on a live
server, and the reference trust anchor and providers (``spid-cie-oidc``)
beside it, seeded for it.

Topology (all on 127.0.0.1, free ports picked at start):

* our site (pytest-django live server): ``http://127.0.0.1:<rp>/oidc/rp/``;
* peer "spid": the trust anchor ``http://127.0.0.1:<a>/`` and the SPID
  provider ``http://127.0.0.1:<a>/oidc/op/``;
* peer "cie": the CIE provider ``http://127.0.0.1:<c>/oidc/op/``.
"""

import json
import subprocess
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests
from django.test import override_settings
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.interop import harness

TRUST_MARK_TYPES = {
    "openid_provider": "https://www.spid.gov.it/certification/op",
    "openid_relying_party": "https://www.spid.gov.it/certification/rp/public",
}
CITIZENS = {
    "spid": {"username": "giuseppe.verdi", "password": "spid-interop-password",
             "given_name": "Giuseppe", "family_name": "Verdi",
             "email": "giuseppe.verdi@example.org", "fiscal_code": "VRDGPP85R10H501I"},
    "cie": {"username": "anna.bianchi", "password": "cie-interop-password",
            "given_name": "Anna", "family_name": "Bianchi",
            "email": "anna.bianchi@example.org", "fiscal_code": "BNCNNA90D43F205J"},
}


@pytest.fixture(scope="session")
def peer_python():
    """The peer's virtualenv (installed on first use; no network: a clear failure)."""
    try:
        return harness.peer_python()
    except harness.PeerError as exc:
        problem = str(exc)
    pytest.fail(f"The SPID/CIE interoperability peer is not available: {problem}",
                pytrace=False)


@pytest.fixture(scope="session")
def live_server(django_db_setup, django_db_blocker):
    """pytest-django's live server, on 127.0.0.1 rather than "localhost": the
    reference provider validates client_id and redirect_uri as pydantic
    HttpUrls, which refuse a host without a top-level domain."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rp_keys(tmp_path_factory):
    """Our relying party's keys (``helpdesk_oidc_keys generate``), for the session."""
    from wagtail_helpdesk.oidc import keys

    folder = tmp_path_factory.mktemp("rp-oidc-keys")
    with override_settings(WAGTAIL_HELPDESK_OIDC_KEYS_DIR=str(folder)):
        keys.generate()
        return {"dir": str(folder), "federation": keys.public_jwks("federation")}


@dataclass
class Federation:
    anchor: dict  # {"entity_id", "jwks"}: what our relying party pins
    spid: str  # the SPID provider's entity id
    cie: str  # the CIE provider's entity id
    client_id: str  # our relying party's entity id
    trust_marks: list  # the anchor's trust marks for our relying party
    peers: dict  # profile -> harness.PeerProcess
    citizens: dict

    def logs(self):
        return "\n".join(f"--- peer {name} (last lines) ---\n{peer.log_tail()}"
                         for name, peer in self.peers.items())


def _statement(url, jwks):
    response = requests.get(url, timeout=harness.TIMEOUT)
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/entity-statement+jwt")
    return jwt.decode(response.text, KeySet.import_key_set(jwks), algorithms=["RS256"]).claims


@pytest.fixture(scope="session")
def federation(peer_python, live_server, rp_keys, tmp_path_factory):
    """The reference trust anchor and providers, up and seeded for our site."""
    folder = tmp_path_factory.mktemp("interop-peer")
    anchor_port, cie_port = harness.free_ports(2)
    anchor = f"http://127.0.0.1:{anchor_port}/"
    providers = {"spid": f"{anchor}oidc/op/", "cie": f"http://127.0.0.1:{cie_port}/oidc/op/"}
    client_id = f"{live_server.url}/oidc/rp/"
    env = {"PEER_TRUST_ANCHOR": anchor,
           "PEER_REQUIRED_TRUST_MARKS": TRUST_MARK_TYPES["openid_relying_party"]}
    peers = {profile: harness.PeerProcess(peer_python, profile, port, folder, env)
             for profile, port in (("spid", anchor_port), ("cie", cie_port))}
    config = {"keys_file": str(harness.cache_dir() / "peer-keys.json"), "anchor": anchor,
              "providers": providers, "trust_marks": TRUST_MARK_TYPES, "citizens": CITIZENS,
              "relying_party": {"entity_id": client_id, "jwks": rp_keys["federation"]}}
    try:  # the peers stop whatever happens
        try:
            report = _start_peers(peers, config, folder)
        except harness.PeerError as exc:
            problem = str(exc)
        else:
            problem = None
        if problem:
            pytest.fail(f"The SPID/CIE interoperability peer could not be set up: {problem}",
                        pytrace=False)
        # What we pin is what the anchor publishes, checked over HTTP.
        pinned = report["anchor"]
        published = _statement(f"{anchor}.well-known/openid-federation", pinned["jwks"])
        assert published["jwks"] == pinned["jwks"] and published["sub"] == anchor
        # The trust mark the anchor issued to us at onboarding (its statement about us).
        about_us = _statement(f"{anchor}fetch?{urlencode({'sub': client_id})}",
                              pinned["jwks"])
        marks = [{"id": mark["trust_mark_type"], "trust_mark": mark["trust_mark"]}
                 for mark in about_us.get("trust_marks", [])]
        assert marks, json.dumps(about_us)
        yield Federation(anchor=pinned, spid=providers["spid"], cie=providers["cie"],
                         client_id=client_id, trust_marks=marks, peers=peers,
                         citizens=CITIZENS)
    finally:
        for peer in peers.values():
            peer.stop()


def _start_peers(peers, config, folder):
    """Keys (kept between runs), databases migrated side by side, seeds (the
    anchor's process first), servers up; the spid process' seed report."""
    peers["spid"].run(str(harness.PEER_PROJECT / "peer_seed.py"), "keys", config["keys_file"])
    migrations = {name: peer.migrate_async() for name, peer in peers.items()}
    for name, process in migrations.items():
        try:
            failed = process.wait(timeout=120) != 0
        except subprocess.TimeoutExpired:
            process.kill()
            failed = True
        if failed:
            log = (folder / f"{name}-migrate.log").read_text(errors="replace")
            raise harness.PeerError(f"peer {name}: migrate failed:\n{log[-3000:]}")
    report = peers["spid"].seed(config)
    peers["cie"].seed(config)
    for peer in peers.values():
        peer.start()
    for peer in peers.values():
        peer.wait_ready()
    return report


@pytest.fixture
def relying_party(federation, rp_keys, settings):
    """Our site configured as the federation's relying party."""
    settings.WAGTAIL_HELPDESK_OIDC_KEYS_DIR = rp_keys["dir"]
    settings.WAGTAIL_HELPDESK_OIDC_CLIENT_ID = federation.client_id
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_ANCHOR = federation.anchor
    settings.WAGTAIL_HELPDESK_OIDC_TRUST_MARKS = federation.trust_marks
    settings.WAGTAIL_HELPDESK_OIDC_PROVIDERS = [
        {"entity_id": federation.spid, "name": "Interop SPID", "profile": "spid"},
        {"entity_id": federation.cie, "name": "CIE", "profile": "cie"}]
    settings.WAGTAIL_HELPDESK_OIDC_ORGANIZATION = {
        "organization_name": "Comune di Interop", "homepage_uri": federation.client_id,
        "contacts": ["urp@comune-interop.example.it"]}
    return federation
