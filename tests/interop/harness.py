"""The interoperability peer: the reference ``spid-cie-oidc`` package in a
virtualenv of its own (it needs Django 4.2 and pydantic 1, which cannot live
beside Wagtail 8), driven by our own small Django project in
tests/interop/peer/, and a headless citizen that logs in with ``requests``.

Nothing here imports the package: the peer runs in subprocesses.
"""

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests

REPO = Path(__file__).resolve().parents[2]
PEER_PROJECT = Path(__file__).resolve().parent / "peer"
PINNED = {"spid-cie-oidc": "1.6.3", "design-django-theme": "1.4.8"}
TIMEOUT = 10  # seconds, for every HTTP request of the harness
TRUST_MARK_TYPES = {
    "openid_provider": "https://www.spid.gov.it/certification/op",
    "openid_relying_party": "https://www.spid.gov.it/certification/rp/public",
}


class PeerError(Exception):
    """The peer could not be installed, set up or started (the message says why)."""


# The peer's virtualenv ---------------------------------------------------------


def cache_dir():
    """Where the peer's virtualenv and keys are kept between runs (gitignored
    ``var/``; ``HELPDESK_INTEROP_CACHE`` moves it)."""
    return Path(os.environ.get("HELPDESK_INTEROP_CACHE") or REPO / "var" / "interop-peer")


def venv_dir():
    pins = "-".join(f"{name}-{version}" for name, version in sorted(PINNED.items()))
    return cache_dir() / f"venv-py{sys.version_info.major}.{sys.version_info.minor}-{pins}"


def _run(command, timeout, **kwargs):
    try:
        return subprocess.run(command, capture_output=True, text=True,  # noqa: S603 - our argv
                              timeout=timeout, check=False, **kwargs)
    except subprocess.TimeoutExpired as exc:
        raise PeerError(f"`{' '.join(map(str, command))}` took more than {timeout} s") from exc


def _installed_versions(python):
    script = ("import importlib.metadata as m, json, sys; "
              "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))")
    done = _run([python, "-c", script, *PINNED, "django"], timeout=60)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout)


def peer_python():
    """The Python of the peer's virtualenv, created the first time with
    exactly the pinned packages (a lock keeps parallel runs from racing)."""
    folder = venv_dir()
    python = folder / "bin" / "python"
    ready = folder / ".ready"
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists() and python.exists():
            return python
        shutil.rmtree(folder, ignore_errors=True)
        done = _run([sys.executable, "-m", "venv", str(folder)], timeout=120)
        if done.returncode != 0:
            raise PeerError(f"cannot create the peer virtualenv {folder}:\n{done.stderr[-2000:]}")
        pins = [f"{name}=={version}" for name, version in PINNED.items()]
        done = _run([python, "-m", "pip", "install", "--no-input",
                     "--disable-pip-version-check", *pins], timeout=900)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise PeerError(
                f"cannot install the interoperability peer ({' '.join(pins)}) into {folder}: "
                "PyPI must be reachable (the first run installs it, later runs reuse it).\n"
                f"pip said:\n{(done.stdout + done.stderr)[-3000:]}")
        versions = _installed_versions(python) or {}
        if any(versions.get(name) != version for name, version in PINNED.items()):
            shutil.rmtree(folder, ignore_errors=True)
            raise PeerError(f"the peer virtualenv has {versions}, not {PINNED}")
        ready.write_text(json.dumps(versions) + "\n")
        return python


# Ports and processes -----------------------------------------------------------


def free_ports(count):
    """``count`` distinct free TCP ports on loopback (never 8000, the demo site's)."""
    ports = set()
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != 8000:
            ports.add(port)
    return sorted(ports)


@dataclass
class PeerProcess:
    """One peer Django process: ``spid`` (trust anchor + SPID provider) or
    ``cie`` (CIE provider), with its own temporary SQLite database."""

    python: Path
    profile: str
    port: int
    folder: Path
    env_extra: dict = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_path(self):
        return self.folder / f"{self.profile}.log"

    def env(self):
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("DJANGO_", "PYTHON", "VIRTUAL_ENV", "DATABASE_URL"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "peer_settings",
            "PYTHONPATH": str(PEER_PROJECT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "PEER_PROFILE": self.profile,
            "PEER_DB": str(self.folder / f"{self.profile}.sqlite3"),
            "TZ": "UTC",
            **self.env_extra,
        })
        return env

    def run(self, *args, timeout=120):
        """Run ``args`` with the peer's Python and settings; its stdout."""
        done = _run([self.python, *args], timeout=timeout, env=self.env(), cwd=self.folder)
        if done.returncode != 0:
            raise PeerError(f"peer {self.profile}: `{' '.join(map(str, args))}` failed:\n"
                            f"{(done.stdout + done.stderr)[-4000:]}")
        return done.stdout

    def command(self, name, argument):
        """A command of peer_seed.py (``check-rp``, ``forget``): its JSON answer."""
        output = self.run(str(PEER_PROJECT / "peer_seed.py"), name, argument)
        return json.loads(output.strip().splitlines()[-1])

    def _spawn(self, args, log_path):
        """Start ``args`` with the peer's Python, output to ``log_path``."""
        with open(log_path, "w") as log:  # the child keeps its own descriptor
            return subprocess.Popen([self.python, *args], env=self.env(),  # noqa: S603 - our argv
                                    cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)

    def migrate_async(self):
        return self._spawn(["-m", "django", "migrate", "--noinput"],
                           self.folder / f"{self.profile}-migrate.log")

    def seed(self, config):
        path = self.folder / f"{self.profile}-seed.json"
        path.write_text(json.dumps(config, indent=2))
        return json.loads(self.run(str(PEER_PROJECT / "peer_seed.py"), "seed", str(path))
                          .strip().splitlines()[-1])

    def start(self):
        # --insecure: the login pages' styles are served although DEBUG is off.
        self.process = self._spawn(
            ["-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--insecure"],
            self.log_path)

    def wait_ready(self, timeout=30):
        url = f"{self.base}oidc/op/.well-known/openid-federation"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PeerError(f"peer {self.profile} exited ({self.process.returncode}):\n"
                                f"{self.log_tail()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise PeerError(f"peer {self.profile} did not answer {url} in {timeout} s:\n"
                        f"{self.log_tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self, lines=60):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# A federation: the trust anchor with the SPID provider, and the CIE provider ------


@dataclass
class Federation:
    """The reference trust anchor and providers, up and seeded for one relying party."""

    anchor: dict  # {"entity_id", "jwks"}: what the relying party pins
    spid: str  # the SPID provider's entity id
    cie: str  # the CIE provider's entity id
    client_id: str  # the relying party's entity id
    trust_marks: list  # [{"id", "trust_mark"}]: the anchor's trust marks for it
    peers: dict  # profile -> PeerProcess
    citizens: dict  # profile -> the test citizen registered at that provider

    def logs(self):
        return "\n".join(f"--- peer {name} (last lines) ---\n{peer.log_tail()}"
                         for name, peer in self.peers.items())

    def stop(self):
        for peer in self.peers.values():
            peer.stop()


def start_federation(python, folder, *, ports, client_id, rp_federation_jwks, citizens):
    """Start the trust anchor + SPID provider (on ``ports[0]``) and the CIE
    provider (``ports[1]``) in ``folder`` (fresh databases), with ``client_id``
    registered as the anchor's descendant with a trust mark, and ``citizens``
    ({"spid": {...}, "cie": {...}}: username, password, names, e-mail, fiscal
    code) as the providers' users. On failure the peers are stopped and
    :class:`PeerError` says why."""
    folder = Path(folder)
    anchor = f"http://127.0.0.1:{ports[0]}/"
    providers = {"spid": f"{anchor}oidc/op/", "cie": f"http://127.0.0.1:{ports[1]}/oidc/op/"}
    env = {"PEER_TRUST_ANCHOR": anchor,
           "PEER_REQUIRED_TRUST_MARKS": TRUST_MARK_TYPES["openid_relying_party"]}
    peers = {profile: PeerProcess(python, profile, port, folder, env)
             for profile, port in (("spid", ports[0]), ("cie", ports[1]))}
    config = {"keys_file": str(cache_dir() / "peer-keys.json"), "anchor": anchor,
              "providers": providers, "trust_marks": TRUST_MARK_TYPES, "citizens": citizens,
              "relying_party": {"entity_id": client_id, "jwks": rp_federation_jwks}}
    try:
        report = _start_peers(peers, config, folder)
        # What the relying party pins is what the anchor publishes, checked over HTTP.
        pinned = report["anchor"]
        published = _statement(f"{anchor}.well-known/openid-federation", pinned["jwks"])
        if published["jwks"] != pinned["jwks"] or published["sub"] != anchor:
            raise PeerError(f"the anchor publishes other keys than it reported: {published}")
        # The trust mark the anchor issued at onboarding (its statement about the RP).
        about_rp = _statement(f"{anchor}fetch?{urlencode({'sub': client_id})}", pinned["jwks"])
        marks = [{"id": mark["trust_mark_type"], "trust_mark": mark["trust_mark"]}
                 for mark in about_rp.get("trust_marks", [])]
        if not marks:
            raise PeerError(f"the anchor issued no trust mark to {client_id}: {about_rp}")
    except BaseException:
        for peer in peers.values():
            peer.stop()
        raise
    return Federation(anchor=pinned, spid=providers["spid"], cie=providers["cie"],
                      client_id=client_id, trust_marks=marks, peers=peers, citizens=citizens)


def _statement(url, jwks):
    """The claims of the entity statement at ``url``, verified with ``jwks``."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    response = requests.get(url, timeout=TIMEOUT)
    kind = response.headers.get("Content-Type", "")
    if response.status_code != 200 or not kind.startswith("application/entity-statement+jwt"):
        raise PeerError(f"{url}: HTTP {response.status_code} {kind}: {response.text[:500]}")
    return jwt.decode(response.text, KeySet.import_key_set(jwks), algorithms=["RS256"]).claims


def _start_peers(peers, config, folder):
    """Keys (kept between runs), databases migrated side by side, seeds (the
    anchor's process first), servers up; the spid process' seed report."""
    peers["spid"].run(str(PEER_PROJECT / "peer_seed.py"), "keys", config["keys_file"])
    migrations = {name: peer.migrate_async() for name, peer in peers.items()}
    for name, process in migrations.items():
        try:
            failed = process.wait(timeout=120) != 0
        except subprocess.TimeoutExpired:
            process.kill()
            failed = True
        if failed:
            log = (folder / f"{name}-migrate.log").read_text(errors="replace")
            raise PeerError(f"peer {name}: migrate failed:\n{log[-3000:]}")
    report = peers["spid"].seed(config)
    peers["cie"].seed(config)
    for peer in peers.values():
        peer.start()
    for peer in peers.values():
        peer.wait_ready()
    return report


# A headless citizen -------------------------------------------------------------


class _Page(HTMLParser):
    """The forms of a page, [{"action", "method", "fields": {name: value}}],
    and its links."""

    def __init__(self):
        super().__init__()
        self.forms, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append({"action": attrs.get("action") or "",
                               "method": (attrs.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms_of(html):
    parser = _Page()
    parser.feed(html)
    return parser.forms


def links_of(html):
    parser = _Page()
    parser.feed(html)
    return parser.links


def form_posting_to(html, path_end):
    for form in forms_of(html):
        if form["method"] == "post" and urlparse(form["action"]).path.endswith(path_end):
            return form
    raise AssertionError(f"no form posting to …{path_end} on the page:\n{html[:3000]}")


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


class Citizen:
    """A browser without a browser: one cookie jar, redirects followed by
    hand so that each hop can be checked."""

    def __init__(self, username, password, hops=None):
        self.username, self.password = username, password
        self.http = requests.Session()
        # One connection per request, closed at once: a kept-alive one would
        # race with the server closing it, or leave our live server's thread
        # waiting on it when the interpreter exits.
        self.http.headers["Connection"] = "close"
        # (method, url, status) of every request, for the failure messages
        self.hops = [] if hops is None else hops

    def request(self, method, url, **kwargs):
        try:
            response = self.http.request(method, url, allow_redirects=False, timeout=TIMEOUT,
                                         **kwargs)
        finally:
            self.http.close()  # the cookies stay
        self.hops.append((method, url.split("?")[0], response.status_code))
        return response

    def expect_redirect(self, response, what):
        if response.status_code not in (301, 302, 303):
            raise AssertionError(f"{what}: expected a redirect, got HTTP "
                                 f"{response.status_code}:\n{response.text[:3000]}")
        return urljoin(response.url, response.headers["Location"])

    def login_page(self, rp_base, provider, next_url=""):
        """From our begin view to the provider's login page: (its URL, the page)."""
        begin = f"{rp_base}oidc/rp/begin/"
        params = {"provider": provider, **({"next": next_url} if next_url else {})}
        authorization = self.expect_redirect(self.request("GET", begin, params=params),
                                             "our begin view")
        assert authorization.startswith(provider), (
            f"our RP sent the browser to {authorization}, not to {provider}")
        # The provider checks the request object (fetching our trust chain)
        # and shows its login form.
        page = self.request("GET", authorization)
        if page.status_code != 200:
            where = (self.expect_redirect(page, "the provider's authorization endpoint")
                     if page.is_redirect else page.text[:2000])
            raise AssertionError(f"the provider refused the authorization request "
                                 f"(HTTP {page.status_code}): {where}")
        return authorization, page

    def log_in(self, rp_base, provider, next_url=""):
        """The whole login at ``provider`` (an entity id), from our begin URL
        to our callback: ({"authorization": URL, "callback": URL}, the
        response of our callback)."""
        authorization, page = self.login_page(rp_base, provider, next_url)
        login = form_posting_to(page.text, "/authorization")
        fields = {**login["fields"], "username": self.username, "password": self.password}
        assert fields.get("authz_request_object") and fields.get("csrfmiddlewaretoken"), fields
        consent_url = self.expect_redirect(
            self.request("POST", urljoin(authorization, login["action"]), data=fields,
                         headers={"Referer": authorization}),
            "the provider's login form")
        consent = self.request("GET", consent_url)
        assert consent.status_code == 200, (consent.status_code, consent.text[:2000])
        agree = form_posting_to(consent.text, "/consent")
        callback = self.expect_redirect(
            self.request("POST", urljoin(consent_url, agree["action"] or consent_url),
                         data={**agree["fields"], "agree": "True"},
                         headers={"Referer": consent_url}),
            "the provider's consent form")
        # Back to us with code, state and iss.
        response = self.request("GET", callback)
        return {"authorization": authorization, "callback": callback}, response

    def csrf_token(self, url):
        """The CSRF token of the first POST form at ``url`` (the cookie comes along)."""
        page = self.request("GET", url)
        assert page.status_code == 200, (url, page.status_code)
        for form in forms_of(page.text):
            if form["method"] == "post" and form["fields"].get("csrfmiddlewaretoken"):
                return form["fields"]["csrfmiddlewaretoken"]
        raise AssertionError(f"no POST form with a CSRF token at {url}")
