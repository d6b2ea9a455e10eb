"""A worker killed in the middle of reading a mailbox (SIGKILL: no cleanup,
no rollback beyond the open transaction) leaves nothing that the next run
takes twice: a real process runs ``imap.poll`` against Dovecot and is
killed at a chosen point; the next run finishes the job.

The child process uses the test database: the same one on PostgreSQL; on
SQLite (in memory) a copy in a file, copied back afterwards.
"""

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection

from wagtail_helpdesk.inbound import imap, store
from wagtail_helpdesk.models import InboundMessage, Mailbox

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.imap]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The child: poll one mailbox, and stop dead (waiting to be killed) at the
# point the test names: after the Nth message stored, or just before the
# progress (last_uid) of the first chunk is saved, after its messages moved.
CHILD = textwrap.dedent("""
    import os, sys, time
    import django
    django.setup()
    from django.conf import settings
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = os.environ["CHILD_PRIVATE_ROOT"]
    from wagtail_helpdesk.inbound import imap, store, tasks
    from wagtail_helpdesk.models import Mailbox

    tasks.enqueue = lambda ids: None  # processing is not under test here
    imap.CHUNK = int(os.environ["CHILD_CHUNK"])
    point, after = os.environ["CHILD_STOP"].split(":")
    after = int(after)

    def halt(what):
        print("HALTED", what, flush=True)
        time.sleep(600)

    if point == "stored":
        real_store, count = store.store, [0]
        def store_then_maybe_halt(*args, **kwargs):
            result = real_store(*args, **kwargs)
            count[0] += 1
            if count[0] == after:
                halt(f"after storing {after}")
            return result
        store.store = store_then_maybe_halt
    elif point == "progress":
        real_save = imap._save
        def save_or_halt(mailbox, **fields):
            if fields.get("last_uid"):  # not the reset to 0 of a new UIDVALIDITY
                halt("before saving last_uid")
            return real_save(mailbox, **fields)
        imap._save = save_or_halt

    print("TAKEN", imap.poll(Mailbox.objects.get(pk=int(sys.argv[1]))), flush=True)
""")


def message(n):
    return (f"From: Cittadino {n} <c{n}.{uuid.uuid4().hex[:6]}@example.org>\r\n"
            "To: assistenza@comune.example.it\r\n"
            f"Subject: Segnalazione {n}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Testo della segnalazione numero {n}.\r\n").encode()


@contextmanager
def shared_database(tmp_path):
    """A DATABASE_URL for the child that sees this test's committed rows,
    and whatever it wrote visible here afterwards."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings["USER"] or "postgres"
        password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
        yield (f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:"
               f"{settings['PORT'] or 5432}/{settings['NAME']}")
        return
    import sqlite3

    connection.ensure_connection()
    path = tmp_path / "child.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    try:
        yield f"sqlite:///{path}"
    finally:
        source = sqlite3.connect(path)
        source.backup(connection.connection)
        source.close()


def run_child(mailbox, database_url, private_root, *, stop, chunk):
    """Start the child; once it says it halted, SIGKILL it. Returns its output."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": database_url, "CHILD_PRIVATE_ROOT": str(private_root),
           "CHILD_STOP": stop, "CHILD_CHUNK": str(chunk), "PYTHONPATH": ROOT}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(mailbox.pk)],  # noqa: S603
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        line = child.stdout.readline()  # blocks until it halts (or ends)
        if not line.startswith("HALTED"):
            child.wait(30)
            raise AssertionError(f"the child did not halt: {line!r}\n{child.stderr.read()}")
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        return line
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()


@pytest.mark.parametrize("processed_folder, stop, chunk", [
    # Killed with 4 of 10 messages stored, none moved yet.
    ("Elaborati", "stored:4", 50),
    # Killed after the first 3 were moved, before their progress was saved.
    ("Elaborati", "progress:1", 3),
    # Same, when processed messages stay in the folder, flagged read.
    ("", "progress:1", 3),
    # Killed with 5 stored, in a mailbox without a processed folder.
    ("", "stored:5", 50),
])
def test_a_run_killed_midway_stores_nothing_twice(dovecot, tmp_path, private_media,
                                                  monkeypatch, processed_folder, stop, chunk):
    login, password = dovecot.user(f"kill{uuid.uuid4().hex[:10]}")
    raws = [message(n) for n in range(10)]
    dovecot.append(login, raws)
    mailbox = Mailbox.objects.create(
        name="Assistenza", address=f"{login}@comune.example.it", host=dovecot.host,
        port=dovecot.port, security="none", username=login, password=password,
        processed_folder=processed_folder)

    with shared_database(tmp_path) as url:
        halted = run_child(mailbox, url, private_media, stop=stop, chunk=chunk)
    assert halted.startswith("HALTED")

    stored_before = InboundMessage.objects.count()
    assert 0 < stored_before < 10
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 0  # the killed run saved no progress

    monkeypatch.setattr("wagtail_helpdesk.inbound.tasks.enqueue", lambda ids: None)
    taken = imap.poll(mailbox)

    rows = InboundMessage.objects.filter(mailbox=mailbox)
    assert rows.count() == 10
    assert sorted(rows.values_list("uid", flat=True)) == list(range(1, 11))
    assert sorted(store.read(row) for row in rows) == sorted(raws)
    assert len(set(rows.values_list("sha256", flat=True))) == 10
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 10 and mailbox.last_error == ""
    if processed_folder:
        assert taken == 10 - (3 if stop.startswith("progress") else 0)
        assert dovecot.uids(login, "INBOX") == []
        assert sorted(raw for _uid, _flags, raw in dovecot.fetch(login, processed_folder)) \
            == sorted(raws)
    else:
        assert taken == 10
        kept = dovecot.fetch(login, "INBOX")
        assert len(kept) == 10 and all("\\Seen" in flags for _uid, flags, _raw in kept)
    # And once more: nothing left to take.
    assert imap.poll(mailbox) == 0
    assert InboundMessage.objects.count() == 10
