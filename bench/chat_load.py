"""Live chat under load: N citizens and M operators exchanging messages over
real WebSockets for a fixed time, against real ASGI server processes
(uvicorn, the example site) sharing a Redis pub/sub channel layer and the
database. Reports the messages delivered per second, the delivery latency
(a message sent → the other side has its row, via the ``new`` signal and
``after``) at p50/p95/p99, and the messages lost or delivered twice (must
be 0: each sender's messages are checked against what the other side got,
and against the database).

    .venv/bin/python bench/chat_load.py [--conversations 100] [--operators 10]
        [--seconds 30] [--servers 2] [--interval 3]

Each conversation's citizen and operator each send a message every
``--interval`` seconds (jittered; the default stays under the chat's
30-a-minute rate limit). Uses the test settings and a throw-away database:
the one ``DATABASE_URL`` names (PostgreSQL, as the tests do) or, without it,
an SQLite file in a temporary folder (a quick run: SQLite serialises the
writes). Redis: ``HELPDESK_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/14),
with a prefix of the run's own. The load client runs in this process, on the
same machine as the servers and the database: compare runs, not machines.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=3.0,
                        help="seconds between two messages of one side of a conversation")
    parser.add_argument("--conn-max-age", type=int, default=0, metavar="SECONDS",
                        help="the servers' CONN_MAX_AGE (0: a database connection per call)")
    parser.add_argument("--pool", type=int, default=0, metavar="N",
                        help="PostgreSQL: the servers' connection pool (DATABASE_POOL), 0: none")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from tests.support.asgi import asgi_processes, database_url

    setup_test_environment()
    scratch = Path(tempfile.mkdtemp(prefix="helpdesk-chat-bench-"))
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(scratch / "bench.sqlite3")
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.monotonic()
        people = seed(args.conversations, args.operators)
        print(f"Setup: {args.conversations} conversations, {args.operators} operators "
              f"in {time.monotonic() - started:.1f} s ({connection.vendor}).", flush=True)
        connection.close()  # the servers write now; nothing held open here
        with asgi_processes(args.servers, database_url=database_url(connection.settings_dict),
                            var_dir=scratch, prefix=f"helpdesk-bench-{uuid.uuid4().hex[:12]}",
                            extra_env={"CONN_MAX_AGE": str(args.conn_max_age),
                                       "DATABASE_POOL": str(args.pool or "")}) as urls:
            run = Run(urls, people, args.seconds, args.interval)
            asyncio.run(run.main())
        report(run, args, connection.vendor, check_database(run))
    finally:
        connection.close()
        connection.creation.destroy_test_db(original_name, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)


def seed(conversations, operators):
    """The operators (each with a session) and the conversations, each
    accepted by one of them; returns (operators' cookies and conversation
    ids, conversations' ids and tokens)."""
    from django.test import Client, override_settings

    from tests.support import factories
    from wagtail_helpdesk.services import conversations as chat

    office = factories.office(email="")
    service = factories.service(office)
    staff = [factories.operator(office) for _ in range(operators)]
    cookies = {}
    for user in staff:
        client = Client()
        client.force_login(user)
        cookies[user.pk] = f"sessionid={client.cookies['sessionid'].value}"
    held = defaultdict(list)
    chats = []
    person = {"given_name": "Carico", "family_name": "Prova", "email": "carico@example.org"}
    with override_settings(WAGTAIL_HELPDESK_CHAT_CAPACITY=conversations):
        for n in range(conversations):
            c = chat.start(service=service, body=f"Conversazione {n}", person=person)
            operator = staff[n % operators]
            last_seq = chat.accept(c, operator).last_seq
            held[operator.pk].append((c.pk, last_seq))
            chats.append((c.pk, c.token, last_seq))
    return {"cookies": cookies, "held": dict(held), "chats": chats}


class Side:
    """One socket: a citizen (one conversation) or an operator (theirs)."""

    def __init__(self, run, url, path, headers, conversations, me):
        self.run, self.url, self.path, self.headers = run, url, path, headers
        self.me = me  # "citizen" | "operator": the author kind of my own rows
        self.seen = dict(conversations)  # conversation → last seq read
        self.wanted = dict(self.seen)  # last seq signalled
        self.asking = set()  # conversations with an "after" in flight
        self.ws = None

    async def send(self, **frame):
        await self.ws.send(json.dumps(frame))

    async def ask(self, pk):
        if pk not in self.asking and self.wanted[pk] > self.seen[pk]:
            self.asking.add(pk)
            frame = {"type": "after", "seq": self.seen[pk]}
            if self.me == "operator":
                frame["conversation"] = pk
            await self.send(**frame)

    async def listen(self):
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "new":
                pk = frame["conversation"]
                if pk in self.seen:
                    self.wanted[pk] = max(self.wanted[pk], frame["seq"])
                    await self.ask(pk)
            elif kind == "messages":
                pk = frame["conversation"]
                self.asking.discard(pk)
                now = time.monotonic()
                for row in frame["messages"]:
                    self.seen[pk] = max(self.seen[pk], row["seq"])
                    if row["author"] in (self.me, "system"):
                        continue
                    self.run.delivered(pk, row["body"], now)
                self.wanted[pk] = max(self.wanted[pk], frame["last_seq"])
                await self.ask(pk)
            elif kind == "sent":
                self.run.acked += 1
            elif kind == "error":
                self.run.errors[frame.get("message", "?")] += 1

    async def talk(self, pk, deadline, interval):
        """Send a message every ``interval`` seconds (jittered) until ``deadline``."""
        await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 (spreading the load)
        n = 0
        while time.monotonic() < deadline:
            n += 1
            client_id = f"{self.me[0]}-{pk}-{n}"
            body = f"{client_id} {time.monotonic():.6f}"
            self.run.sent[client_id] = (pk, time.monotonic())
            frame = {"type": "send", "client_id": client_id, "body": body}
            if self.me == "operator":
                frame["conversation"] = pk
            await self.send(**frame)
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))  # noqa: S311


class Run:
    def __init__(self, urls, people, seconds, interval):
        self.urls, self.people = urls, people
        self.seconds, self.interval = seconds, interval
        self.sent = {}  # client_id → (conversation, time sent)
        self.received = Counter()  # client_id → times the other side got its row
        self.latencies = []  # seconds, for the rows sent during the measured time
        self.acked = 0
        self.strays = 0
        self.errors = Counter()
        self.elapsed = 0.0

    def delivered(self, pk, body, now):
        client_id, _space, sent_at = body.partition(" ")
        if client_id not in self.sent:
            self.strays += 1  # not a message of this run: counted, never matched
            return
        self.received[client_id] += 1
        if self.received[client_id] == 1:
            self.latencies.append(now - float(sent_at))

    async def connect(self, side):
        from websockets.asyncio.client import connect

        side.ws = await connect(side.url.replace("http://", "ws://") + side.path,
                                additional_headers={"Origin": side.url, **side.headers},
                                max_queue=None, open_timeout=60)

    async def main(self):
        sides, talks = [], []
        urls = self.urls
        for i, (pk, token, last_seq) in enumerate(self.people["chats"]):
            side = Side(self, urls[i % len(urls)], "/ws/helpdesk/chat/", {},
                        [(pk, last_seq)], "citizen")
            side.token = token
            sides.append(side)
        for i, (user_pk, cookie) in enumerate(self.people["cookies"].items()):
            sides.append(Side(self, urls[(i + 1) % len(urls)], "/ws/helpdesk/operator/",
                              {"Cookie": cookie}, self.people["held"].get(user_pk, []),
                              "operator"))
        for chunk in range(0, len(sides), 100):  # no thundering herd of handshakes
            await asyncio.gather(*(self.connect(s) for s in sides[chunk:chunk + 100]))
        for side in sides:
            if side.me == "citizen":
                await side.send(type="auth", token=side.token)
        listeners = [asyncio.create_task(side.listen()) for side in sides]
        await asyncio.sleep(1)  # the citizens' "ready"
        started = time.monotonic()
        deadline = started + self.seconds
        for side in sides:
            for pk in side.seen:
                talks.append(asyncio.create_task(side.talk(pk, deadline, self.interval)))
        await asyncio.gather(*talks)
        self.elapsed = self.seconds  # every message was sent within it
        # Drain: whatever was sent must arrive (lost = still missing after 20 s).
        drain = time.monotonic() + 20
        while time.monotonic() < drain and len(self.received) < len(self.sent):
            await asyncio.sleep(0.1)
        self.drained_in = time.monotonic() - deadline
        for side in sides:
            await side.ws.close()
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)


def check_database(run):
    """Messages stored per client id: each sent message exactly once."""
    from django.db.models import Count

    from wagtail_helpdesk.models import ConversationMessage

    stored = Counter(dict(ConversationMessage.objects.exclude(client_id__isnull=True)
                          .exclude(client_id="").values_list("client_id")
                          .annotate(n=Count("pk")).values_list("client_id", "n")))
    return {"missing": sum(1 for cid in run.sent if stored[cid] == 0),
            "twice": sum(1 for cid in run.sent if stored[cid] > 1)}


def report(run, args, vendor, stored):
    lat = sorted(run.latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else float("nan")

    lost = sum(1 for cid in run.sent if run.received[cid] == 0)
    twice = sum(1 for cid in run.sent if run.received[cid] > 1)
    print(f"{args.conversations} conversations ({args.conversations} citizens, {args.operators} "
          f"operators) on {args.servers} ASGI processes, Redis pub/sub layer, {vendor}; "
          f"one message per side every {args.interval:g} s for {run.elapsed:.1f} s:")
    print(f"  sent                {len(run.sent):8d}  ({len(run.sent) / run.elapsed:.1f}/s), "
          f"acknowledged {run.acked}")
    print(f"  delivered           {len(run.received):8d}  "
          f"({len(run.received) / run.elapsed:.1f}/s)")
    print(f"  latency p50/p95/p99 {pct(50):8.1f} / {pct(95):.1f} / {pct(99):.1f} ms "
          f"(median {statistics.median(lat) * 1000 if lat else float('nan'):.1f} ms)")
    print(f"  lost {lost}, delivered twice {twice}; in the database: missing "
          f"{stored['missing']}, stored twice {stored['twice']}")
    if run.errors:
        print("  refused:", dict(run.errors))
    if run.strays:
        print(f"  rows that no sender of this run sent: {run.strays}")
    if lost or twice or run.strays or stored["missing"] or stored["twice"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
