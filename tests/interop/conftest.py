"""Fixtures of the interoperability suite: our relying party on a live
server, and the reference trust anchor and providers (``spid-cie-oidc``)
beside it, seeded for it.

Topology (all on 127.0.0.1, free ports picked at start):

* our site (pytest-django live server): ``http://127.0.0.1:<rp>/oidc/rp/``;
* peer "spid": the trust anchor ``http://127.0.0.1:<a>/`` and the SPID
  provider ``http://127.0.0.1:<a>/oidc/op/``;
* peer "cie": the CIE provider ``http://127.0.0.1:<c>/oidc/op/``.
"""

import pytest
from django.test import override_settings

from tests.interop import harness

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


@pytest.fixture(scope="session")
def federation(peer_python, live_server, rp_keys, tmp_path_factory):
    """The reference trust anchor and providers, up and seeded for our site."""
    try:
        found = harness.start_federation(
            peer_python, tmp_path_factory.mktemp("interop-peer"), ports=harness.free_ports(2),
            client_id=f"{live_server.url}/oidc/rp/", rp_federation_jwks=rp_keys["federation"],
            citizens=CITIZENS)
    except harness.PeerError as exc:
        problem = str(exc)
    else:
        problem = None
    if problem:
        pytest.fail(f"The SPID/CIE interoperability peer could not be set up: {problem}",
                    pytrace=False)
    try:
        yield found
    finally:
        found.stop()


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
