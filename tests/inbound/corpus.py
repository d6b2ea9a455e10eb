"""The inbound-mail corpus: real-shaped messages with placeholders.

Files in ``corpus/`` are written as the real clients and servers write them
(Gmail, Outlook, Thunderbird, Apple Mail, Exchange, Postfix, Exim, PEC
providers). Placeholders let one file serve a test's own ticket: ``load(name,
REPLY_TO=…, OUR_MESSAGE_ID=…)`` substitutes them on the raw bytes; the
defaults make every file parse on its own. ``expected.json`` says what each
file is (see test_corpus.py; the lead's pipeline tests run over it too).
"""

import base64
import json
from pathlib import Path

DIR = Path(__file__).parent / "corpus"

DEFAULTS = {
    "REPLY_TO": "assistenza+42.a1b2c3d4e5@comune.example.it",
    "OUR_MESSAGE_ID": "hd.42.317.f0e1d2c3b4@comune.example.it",
    "SHORT_CODE": "AST-2026-000042",
    "CITIZEN_EMAIL": "mario.rossi@example.org",
    "OUR_ADDRESS": "assistenza@comune.example.it",
    "OUR_DOMAIN": "comune.example.it",
}


def names():
    """Every corpus message name (file stem), sorted."""
    return sorted(path.stem for path in DIR.glob("*.eml"))


def expected():
    return json.loads((DIR / "expected.json").read_text(encoding="utf-8"))


def substitute(raw, **subst):
    values = {**DEFAULTS, **subst}
    unknown = set(subst) - set(DEFAULTS)
    if unknown:
        raise KeyError(f"unknown placeholders: {sorted(unknown)}")
    for key, value in values.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", str(value).encode("ascii"))
    return raw


def load(name, **subst):
    """The raw bytes of ``corpus/<name>.eml`` with placeholders substituted."""
    return substitute((DIR / f"{name}.eml").read_bytes(), **subst)


def big_attachment_message(size=20 * 1024 * 1024, **subst):
    """A new request from the citizen with a ~20 MB PDF attached, built in memory."""
    chunk = b"%PDF-1.7\n" + bytes(range(256)) * 4
    data = (chunk * (size // len(chunk) + 1))[:size]
    encoded = base64.encodebytes(data)  # 76-character lines, as mailers write them
    head = b"""Return-Path: <{{CITIZEN_EMAIL}}>
Received: from mail-ej1-f41.google.com (mail-ej1-f41.google.com [209.85.218.41])
\tby mx.{{OUR_DOMAIN}} (Postfix) with ESMTPS id 4Y6B0j1Kl2z9sX9
\tfor <{{OUR_ADDRESS}}>; Sat,  5 Dec 2026 18:00:05 +0100 (CET)
MIME-Version: 1.0
From: Mario Rossi <{{CITIZEN_EMAIL}}>
Date: Sat, 5 Dec 2026 17:59:41 +0100
Message-ID: <CAJ7bigattachment0Qe9ZpT5bY3kF7dR1wA6s@mail.gmail.com>
Subject: Planimetria per la richiesta di accesso agli atti
To: {{OUR_ADDRESS}}
Content-Type: multipart/mixed; boundary="0000000000001a2b3c061f0f9e8d"

--0000000000001a2b3c061f0f9e8d
Content-Type: text/plain; charset="UTF-8"

Buonasera,
allego la planimetria richiesta (scansione ad alta risoluzione).

Mario Rossi

--0000000000001a2b3c061f0f9e8d
Content-Type: application/pdf; name="planimetria.pdf"
Content-Disposition: attachment; filename="planimetria.pdf"
Content-Transfer-Encoding: base64

"""
    tail = b"--0000000000001a2b3c061f0f9e8d--\n"
    return substitute(head, **subst) + encoded + tail


def make(body="Buongiorno,\nvorrei un'informazione.\n", *, content_type="text/plain; charset=utf-8",
         **headers):
    """A small message for unit tests: ``make(Subject="…", X_Autoreply="yes")``.

    Keyword names become headers (``_`` → ``-``); the body is sent as 8-bit UTF-8.
    """
    lines = {"From": "Mario Rossi <mario.rossi@example.org>", "To": DEFAULTS["OUR_ADDRESS"],
             "Subject": "Informazioni", "Date": "Sat, 5 Dec 2026 10:00:00 +0100",
             "Message-ID": "<test.1@example.org>", "MIME-Version": "1.0",
             "Content-Type": content_type, "Content-Transfer-Encoding": "8bit"}
    for name, value in headers.items():
        lines[name.replace("_", "-")] = value
    head = "".join(f"{k}: {v}\n" for k, v in lines.items() if v is not None)
    return (head + "\n" + body).encode("utf-8")
