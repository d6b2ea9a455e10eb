"""How many inbound e-mails per second one worker takes from an IMAP
mailbox and processes: a real Dovecot (tests/support/dovecot.py) filled with
realistic mail — replies to existing tickets (signed Reply-To token,
In-Reply-To our Message-ID, quoted history), new requests, out-of-office
answers and bounces (RFC 3464) — read by ``inbound.imap.poll`` (take +
store + move) and then processed by ``inbound.pipeline.process_pending``.

    .venv/bin/python bench/inbound_mail.py [--count 10000] [--runs 3]

Reception and processing are timed separately ("together" is their sum,
one worker doing both in turn). Filling the mailbox is not timed. The
tasks processing queues (notifications: the acknowledgement of a new
ticket…) are queued as a worker queues them, in django-q2's ORM broker,
not run: their delivery is bench/notify_throughput.py's (``--inline`` runs
them inside processing, as the test settings' synchronous queue does). Uses the
test settings and a throw-away database (SQLite in memory, or the one
``DATABASE_URL`` names, as the tests do). Prints every run, the medians as
a table, and a JSON line. Goal: at least 50 messages/s together.
"""

import argparse
import json
import logging
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

DOMAIN = "comune.example.it"
NAMES = ["Mario Rossi", "Anna Bianchi", "Luca Ferrari", "Giulia Russo", "Marco Esposito",
         "Sara Romano", "Paolo Colombo", "Elena Ricci", "Davide Marino", "Chiara Greco"]
TOPICS = ["Lampione spento in via Roma", "Buca sul marciapiede di corso Italia",
          "Richiesta certificato di residenza", "Rifiuti non raccolti in via Verdi",
          "Informazioni sulla TARI", "Iscrizione al nido comunale", "Passo carrabile",
          "Albero pericolante nel parco", "Rumori notturni in piazza Garibaldi"]
MIX = [("reply", 0.45), ("new", 0.30), ("auto_reply", 0.15), ("bounce", 0.10)]


def _headers(pairs):
    return "".join(f"{name}: {value}\r\n" for name, value in pairs)


def _date(rng):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0100",
                         time.gmtime(time.time() - rng.randint(0, 86400)))


def citizen(rng):
    name = rng.choice(NAMES)
    local = name.lower().replace(" ", ".")
    return name, f"{local}{rng.randint(1, 999)}@example.org"


def reply(rng, ticket):
    name, address = citizen(rng)
    body = (f"Buongiorno,\r\ngrazie per la risposta. Vi confermo che il problema c'è ancora"
            f" ({rng.randint(1, 10**6)}).\r\n\r\nCordiali saluti\r\n{name}\r\n\r\n"
            f"Il giorno 04/12/2026 alle ore 09:12, Comune di Esempio <assistenza@{DOMAIN}> "
            "ha scritto:\r\n> Gentile cittadino,\r\n> la sua richiesta "
            f"{ticket['reference']} è stata presa in carico.\r\n> \r\n> Comune di Esempio\r\n")
    return (_headers([
        ("Return-Path", f"<{address}>"), ("From", f"{name} <{address}>"),
        ("To", ticket["reply_to"]), ("Subject", f"Re: [{ticket['reference']}] Richiesta ricevuta"),
        ("Date", _date(rng)), ("Message-ID", f"<{uuid.uuid4().hex}@example.org>"),
        ("In-Reply-To", ticket["message_id"]), ("References", ticket["message_id"]),
        ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]) + "\r\n" + body).encode()


def new_request(rng, _ticket):
    name, address = citizen(rng)
    topic = rng.choice(TOPICS)
    boundary = f"b{uuid.uuid4().hex}"
    text = (f"Buongiorno,\r\nvi scrivo per segnalare: {topic.lower()}. La situazione dura da "
            f"{rng.randint(2, 20)} giorni.\r\nGrazie,\r\n{name}\r\n")
    html = f"<div>{text.replace(chr(13) + chr(10), '<br>')}</div>"
    return (_headers([
        ("Return-Path", f"<{address}>"), ("From", f"{name} <{address}>"),
        ("To", f"Comune di Esempio <assistenza@{DOMAIN}>"), ("Subject", topic),
        ("Date", _date(rng)), ("Message-ID", f"<{uuid.uuid4().hex}@mail.example.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]) + f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
         f"Content-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n--{boundary}\r\n"
         f"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
         f"{html}\r\n--{boundary}--\r\n").encode()


def auto_reply(rng, ticket):
    name, address = citizen(rng)
    return (_headers([
        ("Return-Path", "<>"), ("From", f"{name} <{address}>"), ("To", ticket["reply_to"]),
        ("Subject", f"Risposta automatica: [{ticket['reference']}] Richiesta ricevuta"),
        ("Date", _date(rng)), ("Message-ID", f"<{uuid.uuid4().hex}@example.org>"),
        ("In-Reply-To", ticket["message_id"]), ("Auto-Submitted", "auto-replied"),
        ("X-Autoreply", "yes"), ("Content-Type", "text/plain; charset=utf-8"),
    ]) + f"\r\nSono fuori ufficio fino al {rng.randint(1, 28)} dicembre.\r\n").encode()


def bounce(rng, ticket):
    _name, address = citizen(rng)
    boundary = f"d{uuid.uuid4().hex}"
    return (_headers([
        ("Return-Path", "<>"), ("From", "Mail Delivery System <MAILER-DAEMON@mx.example.org>"),
        ("To", f"assistenza@{DOMAIN}"), ("Subject", "Undelivered Mail Returned to Sender"),
        ("Date", _date(rng)), ("Message-ID", f"<{uuid.uuid4().hex}@mx.example.org>"),
        ("Auto-Submitted", "auto-replied"), ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/report; report-type=delivery-status; boundary="{boundary}"'),
    ]) + (f"\r\n--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
          f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
          f"<{address}>: host mx.example.org said: 550 5.1.1 User unknown\r\n"
          f"\r\n--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
          f"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; {address}\r\n"
          f"Action: failed\r\nStatus: 5.1.1\r\n"
          f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
          f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
          f"From: Comune di Esempio <assistenza@{DOMAIN}>\r\nTo: {address}\r\n"
          f"Subject: [{ticket['reference']}] Richiesta ricevuta\r\n"
          f"Message-ID: {ticket['message_id']}\r\n\r\n--{boundary}--\r\n")).encode()


BUILDERS = {"reply": reply, "new": new_request, "auto_reply": auto_reply, "bounce": bounce}


def messages(count, tickets, seed):
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    kinds = rng.choices([k for k, _w in MIX], weights=[w for _k, w in MIX], k=count)
    return [BUILDERS[kind](rng, rng.choice(tickets)) for kind in kinds]


def make_tickets(count=20):
    """The office new mail opens tickets in (with a service), and tickets
    whose notifications the replies answer."""
    from django.conf import settings

    from tests.support import factories
    from wagtail_helpdesk.notifications import email
    from wagtail_helpdesk.services import CitizenActor

    settings.WAGTAIL_HELPDESK_NOTIFY_REPLY_TO = f"assistenza+{{token}}@{DOMAIN}"
    office = factories.office("URP")
    service = factories.service(office)
    tickets = []
    for _ in range(count):
        person = factories.citizen()
        ticket = factories.request_ticket(CitizenActor(person), service_=service,
                                          citizen_=person)
        tickets.append({"reference": ticket.reference, "reply_to": email.reply_to(ticket.pk),
                        "message_id": email.message_id(ticket.pk, 0)})
    return tickets, office


def pipeline():
    try:
        from wagtail_helpdesk.inbound import pipeline as module
    except ImportError as error:
        return None, str(error)
    return module, ""


def run(server, count, tickets, office, seed):
    from django.db.models import Count

    from wagtail_helpdesk.inbound import imap
    from wagtail_helpdesk.models import InboundMessage, Mailbox

    login = f"bench{seed}"
    login, password = server.user(login)
    raws = messages(count, tickets, seed)
    server.deliver_maildir(login, raws)
    if server.status(login)["MESSAGES"] != count:  # Dovecot indexes them now, untimed
        raise SystemExit("Dovecot did not see every message")
    mailbox = Mailbox.objects.create(
        name=f"Bench {seed}", address=f"{login}@{DOMAIN}", host=server.host, port=server.port,
        security="none", username=login, password=password, office=office)

    started = time.perf_counter()
    taken = imap.poll(mailbox)
    reception = time.perf_counter() - started
    mailbox.refresh_from_db()
    if taken != count or mailbox.last_error:
        raise SystemExit(f"took {taken} of {count}: {mailbox.last_error}")

    module, missing = pipeline()
    processing = None
    if module is not None:
        started = time.perf_counter()
        done = 0
        for _ in range(count):  # until nothing is left (however it batches)
            step = module.process_pending()
            done += step or 0
            if not step:
                break
        processing = time.perf_counter() - started
        left = InboundMessage.objects.filter(mailbox=mailbox, outcome="pending").count()
        if left:
            raise SystemExit(f"{left} messages still pending after process_pending()")
    rows = InboundMessage.objects.filter(mailbox=mailbox)
    outcomes = dict(rows.values_list("outcome").annotate(n=Count("pk")))
    failures = list(rows.filter(outcome="failed").values_list("detail", flat=True)
                    .distinct()[:3])
    return {"reception": count / reception,
            "processing": count / processing if processing else None,
            "together": count / (reception + processing) if processing else None,
            "outcomes": outcomes, "failures": failures, "missing": missing}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inline", action="store_true",
                        help="run queued tasks (notification delivery) inside processing")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django_q.conf import Conf

    from tests.support.dovecot import Dovecot
    from wagtail_helpdesk.inbound import tasks

    logging.getLogger("django-q").setLevel(logging.WARNING)
    setup_test_environment()
    # Processing is timed on its own: nothing is queued while taking the mail.
    tasks.enqueue = lambda ids: None
    Conf.SYNC = bool(args.inline)  # the test settings run tasks at once; a worker queues them
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = Dovecot()
    server.start()
    try:
        tickets, office = make_tickets()
        results = []
        for n in range(1, args.runs + 1):
            result = run(server, args.count, tickets, office, seed=n)
            results.append(result)
            parts = [f"reception {result['reception']:.0f}/s"]
            if result["processing"]:
                parts += [f"processing {result['processing']:.0f}/s",
                          f"together {result['together']:.0f}/s"]
            print(f"run {n}: {', '.join(parts)}  outcomes {result['outcomes']}", flush=True)
            for detail in result["failures"]:
                print(f"  failed: {detail[:300]}")
    finally:
        server.cleanup()
        connection.creation.destroy_test_db(original_name, verbosity=0)

    def median(key):
        values = [r[key] for r in results if r[key]]
        return statistics.median(values) if values else None

    summary = {"database": connection.vendor, "messages": args.count, "runs": args.runs,
               "tasks_inline": bool(args.inline),
               "reception_per_s": median("reception"), "processing_per_s": median("processing"),
               "together_per_s": median("together"), "goal_per_s": 50}
    print(f"\nmedians of {args.runs} runs, {args.count} messages each ({connection.vendor}, "
          "one worker):")
    print(f"  {'step':<34}{'messages/s':>12}")
    for label, key in [("reception (take + store + move)", "reception_per_s"),
                       ("processing (pipeline)", "processing_per_s"),
                       ("together", "together_per_s")]:
        value = summary[key]
        print(f"  {label:<34}{(f'{value:.0f}' if value else 'n/a'):>12}")
    if results[0]["missing"]:
        print(f"  (processing not measured: {results[0]['missing']})")
        summary["processing_missing"] = results[0]["missing"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
