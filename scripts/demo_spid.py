"""SPID and CIE login for the demo site, without real SPID: the reference
providers of ``spid-cie-oidc`` (the interoperability suite's peer,
tests/interop/) started on loopback beside the demo, with two demo citizens
registered at them.

    python scripts/demo_spid.py HOST PORT

Run by ``make demo`` (scripts/run-demo.sh) before the web server starts:

1. our relying party's keys (``helpdesk_oidc_keys generate``, kept in var/);
2. the peer's own virtualenv (var/interop-peer/, installed from PyPI the
   first time, about a minute);
3. the trust anchor with the SPID provider on PORT+1, the CIE provider on
   PORT+2, fresh databases in var/demo-spid/, our site registered at the
   anchor as a relying party with a trust mark;
4. var/demo-spid/settings.json: what example_site/settings.py reads when
   ``HELPDESK_DEMO_SPID`` points at it (pinned anchor, providers, trust marks).

It then keeps the providers running until it is stopped (SIGTERM/SIGINT).
Exit status 3 (and a message saying why) when the providers cannot start:
the demo then runs without SPID/CIE.
"""

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")

from tests.interop import harness  # noqa: E402


def _say(line):
    """A progress line (flushed: under `make demo` stdout may be a pipe)."""
    print(f"  SPID/CIE: {line}", flush=True)


def _free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _our_side():
    """Our relying party's federation keys (created if missing) and the two
    demo citizens who log in: demo citizens with tickets and an e-mail, so
    that their personal area has something to show."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from wagtail_helpdesk.demo.builder import DEMO_PASSWORD
    from wagtail_helpdesk.models import Citizen
    from wagtail_helpdesk.oidc import keys

    keys.generate()
    chosen = list(
        Citizen.objects.exclude(email="").exclude(fiscal_code="")
        .annotate(shown=Count("tickets", filter=~Q(tickets__status="draft")))
        .filter(shown__gt=0).order_by("-shown", "fiscal_code")[:2])
    if len(chosen) < 2:
        raise harness.PeerError("the demo data has no citizens yet (run helpdesk_demo first)")
    citizens = {}
    for profile, citizen in zip(("spid", "cie"), chosen, strict=True):
        citizens[profile] = {
            "username": f"{profile}.{citizen.fiscal_code.lower()[:6]}", "password": DEMO_PASSWORD,
            "given_name": citizen.given_name, "family_name": citizen.family_name,
            "email": citizen.email, "fiscal_code": citizen.fiscal_code}
    return keys.public_jwks("federation"), citizens


def start(host, port):
    if host != "127.0.0.1":
        raise harness.PeerError(
            f"the reference providers accept relying parties with a dotted host only: "
            f"start the demo on 127.0.0.1, not {host}")
    ports = (port + 1, port + 2)
    busy = [p for p in ports if not _free(p)]
    if busy:
        raise harness.PeerError(f"port(s) {', '.join(map(str, busy))} already in use")
    _say("our relying party's keys and the two demo citizens who log in…")
    jwks, citizens = _our_side()
    if not (harness.venv_dir() / ".ready").exists():
        _say(f"installing the reference providers from PyPI into {harness.venv_dir()} "
             "(the first time only, about a minute)…")
    python = harness.peer_python()
    _say(f"starting the trust anchor and the SPID provider on port {ports[0]}, "
         f"the CIE provider on port {ports[1]}…")
    folder = REPO / "var" / "demo-spid"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.sqlite3"):
        old.unlink()
    federation = harness.start_federation(
        python, folder, ports=ports, client_id=f"http://{host}:{port}/oidc/rp/",
        rp_federation_jwks=jwks, citizens=citizens)
    settings = {
        "OIDC_CLIENT_ID": federation.client_id,
        "OIDC_TRUST_ANCHOR": federation.anchor,
        "OIDC_TRUST_MARKS": federation.trust_marks,
        "OIDC_PROVIDERS": [
            {"entity_id": federation.spid, "name": "SPID di prova (demo)", "profile": "spid"},
            {"entity_id": federation.cie, "name": "CIE di prova (demo)", "profile": "cie"}],
        "citizens": {profile: {key: person[key] for key in
                               ("username", "password", "given_name", "family_name")}
                     for profile, person in citizens.items()},
    }
    target = folder / "settings.json"
    temporary = folder / ".settings.json"
    temporary.write_text(json.dumps(settings, indent=2))
    temporary.replace(target)
    _say("ready.")
    return federation, target


def main(argv):
    host, port = argv[0], int(argv[1])
    (REPO / "var" / "demo-spid" / "settings.json").unlink(missing_ok=True)
    try:
        federation, target = start(host, port)
    except harness.PeerError as exc:
        print(f"\n  SPID/CIE demo login not available: {exc}\n", file=sys.stderr)
        return 3
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    try:
        while not stopping:
            for name, peer in federation.peers.items():
                if peer.process.poll() is not None:
                    print(f"SPID/CIE demo provider {name} stopped:\n{peer.log_tail()}",
                          file=sys.stderr)
                    return 3
            time.sleep(0.5)
    finally:
        federation.stop()
        target.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
