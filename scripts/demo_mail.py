"""The demo's mailbox server: every e-mail the demo sends, kept, and a tiny
webmail where the demo's citizens read them and answer.

    python scripts/demo_mail.py [--smtp 127.0.0.1:8025] [--lmtp 127.0.0.1:8024]
                                [--webmail 127.0.0.1:8026] [--dir var/mail]

Run by ``make demo`` (scripts/run-demo.sh), which points the demo's
Django at it (the SMTP backend, ``EMAIL_HOST``/``EMAIL_PORT`` 127.0.0.1:8025):

* an SMTP server (aiosmtpd) on loopback: each message it accepts is written
  to ``var/mail/<time>-<n>.eml`` (an ``X-Envelope-To`` line on top says who
  it was for); a message for the help desk (``assistenza@comune.example.it``
  or its plus form ``assistenza+…@``, the Reply-To of notifications) is also
  handed to the help desk's LMTP receiver (``manage.py helpdesk_lmtp``),
  retried for a while when the receiver is not up yet;
* a webmail on http://127.0.0.1:8026/ (standard library, Italian, no
  JavaScript): the messages sent to citizens, each with "Rispondi" (a real
  reply: In-Reply-To, References, Reply-To honoured, the text quoted as mail
  programs do) and "Scrivi una nuova e-mail al Comune". Both go out through
  the SMTP server above, so they are kept and relayed like any other.

Exit status 3 (and a message saying why) when the SMTP port is taken: the
demo then keeps writing e-mails as files. A taken webmail port only takes
the webmail away.
"""

import argparse
import html
import json
import queue
import re
import signal
import smtplib
import sys
import threading
import time
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
DOMAIN = "comune.example.it"
HELPDESK = [f"assistenza@{DOMAIN}"]
NAME_RE = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{6}-[0-9]{4}\.eml$")
RETRY_SECONDS = 5
RETRY_FOR_SECONDS = 600


def say(line):
    print(line, flush=True)


def host_port(value):
    host, _sep, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def base_address(address):
    local, _at, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


# Keeping messages ---------------------------------------------------------------

class MailDir:
    """The folder of .eml files (var/mail), newest last by name."""

    def __init__(self, path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.counter = 0

    def write(self, raw, recipients):
        with self.lock:
            self.counter = (self.counter + 1) % 10000
            name = f"{datetime.now():%Y%m%d-%H%M%S-%f}-{self.counter:04d}.eml"
        trace = f"X-Envelope-To: {', '.join(recipients)}\r\n".encode()
        (self.path / name).write_bytes(trace + raw)
        return name

    def names(self):
        return sorted((p.name for p in self.path.glob("*.eml") if NAME_RE.match(p.name)),
                      reverse=True)

    def headers(self, name):
        with open(self.path / name, "rb") as handle:
            return BytesHeaderParser(policy=policy.default).parse(handle)

    def message(self, name):
        if not NAME_RE.match(name or "") or not (self.path / name).exists():
            return None
        with open(self.path / name, "rb") as handle:
            return BytesParser(policy=policy.default).parse(handle)


# The SMTP server and the relay to the help desk ----------------------------------

class Relay(threading.Thread):
    """Hands the help desk's mail to its LMTP receiver, in order, retrying
    while the receiver is not listening."""

    def __init__(self, lmtp):
        super().__init__(daemon=True, name="demo-mail-relay")
        self.lmtp = lmtp
        self.queue = queue.Queue()

    def put(self, name, raw, mail_from, recipients):
        self.queue.put((name, raw, mail_from, recipients, time.monotonic()))

    def run(self):
        while True:
            name, raw, mail_from, recipients, since = self.queue.get()
            while True:
                try:
                    self.deliver(name, raw, mail_from, recipients)
                    break
                except OSError as error:
                    if time.monotonic() - since > RETRY_FOR_SECONDS:
                        say(f"[posta demo] {name}: non consegnata all'assistenza ({error}).")
                        break
                    time.sleep(RETRY_SECONDS)

    def deliver(self, name, raw, mail_from, recipients):
        with smtplib.LMTP(*self.lmtp, timeout=30) as client:
            try:
                refused = client.sendmail(mail_from or "", recipients, raw)
            except smtplib.SMTPRecipientsRefused as error:
                refused = error.recipients
            except smtplib.SMTPResponseException as error:
                say(f"[posta demo] {name}: rifiutata dall'assistenza "
                    f"({error.smtp_code} {error.smtp_error!r}).")
                return
            accepted = [r for r in recipients if r not in refused]
            for _ in accepted[1:]:  # LMTP: one reply per recipient
                client.getreply()
        for address, (code, _text) in refused.items():
            say(f"[posta demo] {name}: {address} rifiutato dall'assistenza ({code}).")
        if accepted:
            say(f"[posta demo] {name}: consegnata all'assistenza ({', '.join(accepted)}).")


class Sink:
    """aiosmtpd handler: keep every message, relay the help desk's."""

    def __init__(self, maildir, relay, helpdesk):
        self.maildir, self.relay = maildir, relay
        self.helpdesk = {base_address(a) for a in helpdesk}

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        recipients = list(envelope.rcpt_tos)
        name = self.maildir.write(raw, recipients)
        ours = [r for r in recipients if base_address(r) in self.helpdesk]
        if ours:
            self.relay.put(name, raw, envelope.mail_from, ours)
        return "250 OK"


# The webmail ----------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#17324d}
header{background:#06c;color:#fff;padding:.8rem 1.5rem}header a{color:#fff}
main{max-width:60rem;margin:1.5rem auto;padding:0 1rem}
table{width:100%;border-collapse:collapse;background:#fff}
td,th{padding:.5rem;border-bottom:1px solid #dde;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;background:#fff;padding:1rem;border:1px solid #dde}
.button,button{background:#06c;color:#fff;border:0;padding:.5rem 1rem;text-decoration:none;
display:inline-block;border-radius:4px;cursor:pointer}
label{display:block;margin:.7rem 0 .2rem;font-weight:600}
input,textarea{width:100%;padding:.4rem;box-sizing:border-box;font:inherit}
.note{background:#e6f4ea;padding:.6rem 1rem;border-left:4px solid #1a7f37}
.muted{color:#5c6f82;font-size:.9rem}
"""


def page(title, body):
    return (f"<!doctype html><html lang='it'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)} · Webmail demo</title><style>{STYLE}</style></head>"
            f"<body><header><strong><a href='/'>Webmail dei cittadini</a></strong> "
            f"<span class='muted' style='color:#dce'>— posta di prova della demo</span></header>"
            f"<main>{body}</main></body></html>")


def citizen_addresses(message):
    """The recipients of ``message`` who are not the Comune."""
    found = []
    for _name, address in getaddresses([str(message.get("X-Envelope-To", "")),
                                        str(message.get("To", "")), str(message.get("Cc", ""))]):
        address = address.lower()
        if "@" in address and not address.endswith("@" + DOMAIN) and address not in found:
            found.append(address)
    return found


def sender_address(message):
    pairs = getaddresses([str(message.get("From", ""))])
    return pairs[0][1].lower() if pairs else ""


def text_of(message):
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"(?is)<(script|style).*?</\1>", "", text)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</h\d>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
        text = re.sub(r"\n\s*\n\s*\n+", "\n\n", text)
    return text.strip()


def date_of(message):
    try:
        return parsedate_to_datetime(str(message.get("Date"))).astimezone()
    except (TypeError, ValueError):
        return None


def quoted(message):
    """The reply's starting text: the original quoted, as Thunderbird does."""
    when = date_of(message)
    when = f"{when:%d/%m/%Y} alle ore {when:%H:%M}" if when else "(data sconosciuta)"
    lines = [f"> {line}" if line else ">" for line in text_of(message).splitlines()]
    return f"\n\nIl giorno {when}, {message.get('From', '')} ha scritto:\n" + "\n".join(lines)


class Webmail(BaseHTTPRequestHandler):
    maildir: MailDir = None
    smtp = ("127.0.0.1", 8025)
    server_version = "DemoWebmail"

    def log_message(self, fmt, *args):  # quiet: the demo's terminal is busy enough
        pass

    def send_page(self, title, body, status=200):
        data = page(title, body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, where):
        self.send_response(303)
        self.send_header("Location", where)
        self.end_headers()

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/":
            return self.index(query.get("a", [""])[0], "inviato" in query)
        if url.path.startswith("/m/"):
            return self.show(url.path[3:])
        if url.path.startswith("/rispondi/"):
            return self.reply_form(url.path[len("/rispondi/"):])
        if url.path == "/scrivi":
            return self.write_form(query.get("da", [""])[0])
        return self.send_page("Non trovata", "<p>Pagina non trovata.</p>", 404)

    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        url = urlsplit(self.path)
        if url.path.startswith("/rispondi/"):
            return self.send_reply(url.path[len("/rispondi/"):], form)
        if url.path == "/scrivi":
            return self.send_new(form)
        return self.send_page("Non trovata", "<p>Pagina non trovata.</p>", 404)

    # Pages -------------------------------------------------------------------

    def index(self, address, sent):
        rows = []
        for name in self.maildir.names()[:300]:
            try:
                headers = self.maildir.headers(name)
            except Exception:  # noqa: S112 (a file being written, or not an e-mail: skip it)
                continue
            citizens = citizen_addresses(headers)
            if not citizens or (address and address not in citizens):
                continue
            when = date_of(headers)
            who = ", ".join(f"<a href='/?{urlencode({'a': a})}'>{html.escape(a)}</a>"
                            for a in citizens)
            rows.append(
                f"<tr><td>{html.escape(f'{when:%d/%m/%Y %H:%M}' if when else '')}</td>"
                f"<td>{who}</td><td>{html.escape(str(headers.get('From', '')))}</td>"
                f"<td><a href='/m/{name}'>{html.escape(str(headers.get('Subject', '')) or '(senza oggetto)')}"
                f"</a></td></tr>")
        note = "<p class='note'>Messaggio inviato al Comune.</p>" if sent else ""
        title = f"Posta di {address}" if address else "Posta in arrivo dei cittadini"
        filter_note = "<p><a href='/'>Mostra la posta di tutti i cittadini</a></p>" if address else ""
        table = ("<table><tr><th>Data</th><th>Destinatario</th><th>Mittente</th><th>Oggetto</th>"
                 f"</tr>{''.join(rows)}</table>" if rows else
                 "<p>Nessun messaggio per ora: le e-mail che il Comune invia ai cittadini "
                 "compariranno qui.</p>")
        self.send_page(title, f"{note}<h1>{html.escape(title)}</h1>{filter_note}"
                              f"<p><a class='button' href='/scrivi?{urlencode({'da': address})}'>"
                              f"Scrivi una nuova e-mail al Comune</a></p>{table}")

    def show(self, name):
        message = self.maildir.message(name)
        if message is None:
            return self.send_page("Non trovato", "<p>Messaggio non trovato.</p>", 404)
        fields = [("Da", "From"), ("A", "To"), ("Rispondi a", "Reply-To"), ("Data", "Date"),
                  ("Oggetto", "Subject")]
        rows = "".join(f"<tr><th>{label}</th><td>{html.escape(str(message.get(header)))}</td></tr>"
                       for label, header in fields if message.get(header))
        attachments = [part.get_filename() for part in message.iter_attachments()
                       if part.get_filename()]
        listed = (f"<p class='muted'>Allegati: {html.escape(', '.join(attachments))}</p>"
                  if attachments else "")
        self.send_page(str(message.get("Subject", "Messaggio")),
                       f"<h1>{html.escape(str(message.get('Subject', '')))}</h1><table>{rows}</table>"
                       f"<pre>{html.escape(text_of(message))}</pre>{listed}"
                       f"<p><a class='button' href='/rispondi/{name}'>Rispondi</a> "
                       f"<a href='/'>Torna alla posta</a></p>")

    def reply_form(self, name):
        message = self.maildir.message(name)
        if message is None:
            return self.send_page("Non trovato", "<p>Messaggio non trovato.</p>", 404)
        to = str(message.get("Reply-To") or message.get("From") or "")
        me = (citizen_addresses(message) or [""])[0]
        subject = str(message.get("Subject", ""))
        subject = subject if subject.lower().startswith(("re:", "r:")) else f"Re: {subject}"
        self.send_page("Rispondi", self.form(f"/rispondi/{name}", "Rispondi", me, to, subject,
                                             quoted(message), to_locked=True))

    def write_form(self, me):
        self.send_page("Scrivi al Comune", self.form(
            "/scrivi", "Scrivi una nuova e-mail al Comune", me or "mario.rossi@example.org",
            HELPDESK[0], "", "", to_locked=True, name_field=True))

    @staticmethod
    def form(action, title, me, to, subject, body, *, to_locked, name_field=False):
        name = ("<label for='nome'>Il tuo nome</label>"
                "<input id='nome' name='nome' value='Mario Rossi'>") if name_field else ""
        return (f"<h1>{html.escape(title)}</h1><form method='post' action='{quote(action)}'>"
                f"<label for='da'>Da (il tuo indirizzo)</label>"
                f"<input id='da' name='da' type='email' required value='{html.escape(me, True)}'>"
                f"{name}<label for='a'>A</label>"
                f"<input id='a' name='a' value='{html.escape(to, True)}'"
                f"{' readonly' if to_locked else ''}>"
                f"<label for='oggetto'>Oggetto</label>"
                f"<input id='oggetto' name='oggetto' required value='{html.escape(subject, True)}'>"
                f"<label for='testo'>Testo</label>"
                f"<textarea id='testo' name='testo' rows='14' required>"
                f"{html.escape(body)}</textarea>"
                f"<p><button type='submit'>Invia</button> <a href='/'>Annulla</a></p></form>")

    # Sending -------------------------------------------------------------------

    def send_reply(self, name, form):
        original = self.maildir.message(name)
        if original is None:
            return self.send_page("Non trovato", "<p>Messaggio non trovato.</p>", 404)
        reply = self.compose(form, to=str(original.get("Reply-To") or original.get("From")))
        message_id = str(original.get("Message-ID", "")).strip()
        if message_id:
            reply["In-Reply-To"] = message_id
            references = " ".join(str(original.get("References", "")).split() + [message_id])
            reply["References"] = references
        self.deliver(reply, form.get("da", ""))

    def send_new(self, form):
        self.deliver(self.compose(form, to=HELPDESK[0]), form.get("da", ""))

    @staticmethod
    def compose(form, *, to):
        me = form.get("da", "").strip()
        reply = EmailMessage()
        name = form.get("nome", "").strip()
        reply["From"] = f"{name} <{me}>" if name else me
        reply["To"] = to
        reply["Subject"] = form.get("oggetto", "").strip()
        reply["Date"] = format_datetime(datetime.now().astimezone())
        reply["Message-ID"] = make_msgid(domain=me.rpartition("@")[2] or "example.org")
        reply["User-Agent"] = "Webmail demo (wagtail-helpdesk)"
        reply.set_content(form.get("testo", "").replace("\r\n", "\n"))
        return reply

    def deliver(self, message, me):
        recipients = [a for _n, a in getaddresses([str(message["To"])]) if a]
        try:
            with smtplib.SMTP(*self.smtp, timeout=30) as client:
                client.send_message(message, from_addr=me, to_addrs=recipients)
        except (OSError, smtplib.SMTPException) as error:
            return self.send_page("Errore", f"<p>Invio non riuscito: {html.escape(str(error))}"
                                            "</p><p><a href='/'>Torna alla posta</a></p>", 502)
        self.redirect("/?" + urlencode({"a": me.lower(), "inviato": 1}))


# Running it ------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp", default="127.0.0.1:8025")
    parser.add_argument("--lmtp", default="127.0.0.1:8024")
    parser.add_argument("--webmail", default="127.0.0.1:8026")
    parser.add_argument("--dir", default=str(REPO / "var" / "mail"))
    parser.add_argument("--helpdesk", action="append",
                        help=f"the help desk's address (repeatable; default {HELPDESK[0]})")
    parser.add_argument("--ready", help="write this JSON file once listening")
    args = parser.parse_args()
    if args.helpdesk:
        HELPDESK[:] = args.helpdesk

    from aiosmtpd.controller import Controller

    maildir = MailDir(args.dir)
    relay = Relay(host_port(args.lmtp))
    relay.start()
    smtp_host, smtp_port = host_port(args.smtp)
    controller = Controller(Sink(maildir, relay, HELPDESK), hostname=smtp_host, port=smtp_port,
                            data_size_limit=64 * 1024 * 1024)
    try:
        controller.start()
    except Exception as error:
        say(f"[posta demo] Non parte: la porta SMTP {args.smtp} non è disponibile ({error}).")
        sys.exit(3)
    webmail_url = None
    Webmail.maildir, Webmail.smtp = maildir, (smtp_host, smtp_port)
    web_host, web_port = host_port(args.webmail)
    try:
        httpd = ThreadingHTTPServer((web_host, web_port), Webmail)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True, name="demo-webmail").start()
        webmail_url = f"http://{web_host}:{web_port}/"
    except OSError as error:
        httpd = None
        say(f"[posta demo] La webmail non parte: la porta {args.webmail} non è disponibile "
            f"({error}).")
    if args.ready:
        Path(args.ready).write_text(json.dumps({"smtp": args.smtp, "webmail": webmail_url}))
    say(f"[posta demo] SMTP su {args.smtp}: le e-mail sono in {args.dir}; quelle per "
        f"l'assistenza vanno al ricevitore LMTP su {args.lmtp}.")

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    stop.wait()
    controller.stop()
    if httpd is not None:
        httpd.shutdown()


if __name__ == "__main__":
    main()
