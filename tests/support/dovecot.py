"""A real IMAP server for the tests and the bench: Debian's Dovecot
(``apt-get install dovecot-imapd``) started on loopback with a configuration
of its own, in a temporary folder, sharing nothing with a system Dovecot.

    # in a conftest.py (tests/conftest.py does):
    from tests.support.dovecot import dovecot, dovecot_server  # noqa: F401 (fixtures)

    def test_something(dovecot):
        login, password = dovecot.user("comune")
        dovecot.append("comune", raw_bytes)
        assert dovecot.uids("comune", "INBOX") == [1]

Run as root (CI containers), the mail processes run as ``nobody``;
otherwise as the current user. Plain text logins on loopback (``ssl = no``):
use imap-tools' ``MailBoxUnencrypted``. A failed login makes Dovecot delay
the next one from the same address by a few seconds: wrong-password tests
go last (or use a server of their own).
"""

import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from imap_tools.imap_utf7 import utf7_decode
from imap_tools.utils import encode_folder

DOVECOT = os.environ.get("HELPDESK_TEST_DOVECOT", "/usr/sbin/dovecot")
MISSING = (f"Dovecot is not installed ({DOVECOT} not found): the inbound mail tests need a real "
           "IMAP server. Install it with `apt-get install dovecot-imapd` (CI does).")

CONFIG = """\
# Written by tests/support/dovecot.py: nothing from /etc/dovecot.
instance_name = {instance}
base_dir = {work}/run
state_dir = {work}/state
log_path = {work}/dovecot.log
info_log_path = {work}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {work}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={work}/home/%u
}}
service imap-login {{
  chroot =
  user = {user}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  user = {user}
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  user = {user}
}}
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One Dovecot instance: ``start()``, ``stop()``, users and messages."""

    host = "127.0.0.1"

    def __init__(self):
        if not os.path.exists(DOVECOT):
            raise RuntimeError(MISSING)
        if os.geteuid() == 0:
            account = pwd.getpwnam("nobody")
        else:
            account = pwd.getpwuid(os.getuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.user_name = account.pw_name
        self.group_name = grp.getgrgid(self.gid).gr_name
        self.work = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.work.chmod(0o755)  # the unprivileged processes walk into it
        self.port = None
        self.process = None
        self.passwords = {}

    # The server -------------------------------------------------------------

    def start(self, timeout=10.0):
        self.port = _free_port()
        for folder in ("home", "state", "run", "users"):
            (self.work / folder).mkdir(exist_ok=True)
        os.chown(self.work / "home", self.uid, self.gid)
        config = self.work / "dovecot.conf"
        config.write_text(CONFIG.format(
            instance=f"helpdesk-test-{uuid.uuid4().hex[:8]}", work=self.work, user=self.user_name,
            group=self.group_name, uid=self.uid, gid=self.gid, port=self.port))
        self.process = subprocess.Popen(  # noqa: S603 (our own binary and config)
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Dovecot ended at start:\n{self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not answer on port {self.port}:\n{self._log_tail()}")

    def _log_tail(self):
        stderr = b""
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            stderr = self.process.stderr.read() or b""
        log = self.work / "dovecot.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return (stderr.decode(errors="replace") + text)[-3000:]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    # Users and messages ----------------------------------------------------

    def user(self, name, password=None):
        """``(login, password)`` of ``name``, created on first use."""
        if name not in self.passwords:
            if not re.fullmatch(r"[A-Za-z0-9._@+-]+", name):
                raise ValueError(f"not a usable login: {name!r}")
            password = password or f"pw-{uuid.uuid4().hex[:12]}"
            # A passwd-file per user: Dovecot reads a new file at once (one
            # shared file changed within the same second could be missed).
            (self.work / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")
            self.passwords[name] = password
        return name, self.passwords[name]

    def connect(self, name):
        """An imaplib client logged in as ``name`` (close it with ``logout()``)."""
        login, password = self.user(name)
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        client.login(login, password)
        return client

    def _select(self, client, folder, readonly=True):
        typ, data = client.select(_quote(folder), readonly=readonly)
        if typ != "OK":
            raise RuntimeError(f"cannot select {folder}: {data}")

    def create_folder(self, name, folder):
        client = self.connect(name)
        try:
            client.create(_quote(folder))
        finally:
            client.logout()

    def delete_folder(self, name, folder):
        client = self.connect(name)
        try:
            client.delete(_quote(folder))
        finally:
            client.logout()

    def folders(self, name):
        client = self.connect(name)
        try:
            _typ, data = client.list()
        finally:
            client.logout()
        names = []
        for line in data:
            match = re.match(rb'\(.*?\) (?:NIL|"[^"]*") (.+)$', line or b"")
            if match:
                names.append(utf7_decode(match.group(1).strip(b'"')))
        return sorted(names)

    def append(self, name, raw, folder="INBOX", flags=""):
        """Deliver ``raw`` (bytes, or a list of them) by IMAP APPEND; their UIDs."""
        raws = [raw] if isinstance(raw, (bytes, bytearray)) else list(raw)
        client = self.connect(name)
        uids = []
        try:
            for one in raws:
                typ, data = client.append(_quote(folder), flags, None, bytes(one))
                if typ != "OK":
                    raise RuntimeError(f"APPEND refused: {data}")
                match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                uids.append(int(match.group(1)) if match else None)
        finally:
            client.logout()
        return uids

    def deliver_maildir(self, name, raws):
        """Drop ``raws`` straight into the user's Maildir ``new/`` (fast: the
        bench's ten thousand messages); Dovecot gives them UIDs on the next
        SELECT, in file-name order."""
        self.user(name)
        home = self.work / "home" / name
        maildir = home / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        for n, raw in enumerate(raws):
            path = maildir / "new" / f"{stamp}.M{n:07d}P{os.getpid()}.bench"
            path.write_bytes(bytes(raw))
        for root, _dirs, files in os.walk(home):
            for entry in [root, *(os.path.join(root, f) for f in files)]:
                os.chown(entry, self.uid, self.gid)

    def uids(self, name, folder="INBOX"):
        client = self.connect(name)
        try:
            self._select(client, folder)
            _typ, data = client.uid("SEARCH", "ALL")
        finally:
            client.logout()
        return [int(uid) for uid in (data[0] or b"").split()]

    def status(self, name, folder="INBOX"):
        """``{"MESSAGES": n, "UIDVALIDITY": v, "UIDNEXT": u, "UNSEEN": s}``."""
        client = self.connect(name)
        try:
            _typ, data = client.status(_quote(folder), "(MESSAGES UIDVALIDITY UIDNEXT UNSEEN)")
        finally:
            client.logout()
        values = data[0].decode().rsplit("(", 1)[1].rstrip(")").split()
        return {values[i]: int(values[i + 1]) for i in range(0, len(values), 2)}

    def fetch(self, name, folder="INBOX"):
        """``[(uid, flags, raw bytes)]`` of the folder's messages, without
        marking them read."""
        client = self.connect(name)
        messages = []
        try:
            self._select(client, folder)
            _typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head = item[0].decode()
                uid = int(re.search(r"UID (\d+)", head).group(1))
                flags = re.search(r"FLAGS \(([^)]*)\)", head)
                messages.append((uid, flags.group(1).split() if flags else [], item[1]))
        finally:
            client.logout()
        return sorted(messages)


def _quote(folder):
    """The folder name as IMAP wants it (modified UTF-7, quoted)."""
    return encode_folder(folder)


@pytest.fixture(scope="session")
def dovecot_server():
    """One Dovecot for the whole run (users differ per test)."""
    if not os.path.exists(DOVECOT):
        pytest.fail(MISSING, pytrace=False)
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def dovecot(dovecot_server):
    """The session's Dovecot; each test makes its own users (see ``user``)."""
    return dovecot_server
