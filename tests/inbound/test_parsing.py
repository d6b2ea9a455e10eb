"""parse(): headers, bodies, attachments, and never raising on broken mail."""

import base64
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.inbound import corpus
from tests.inbound.corpus import make
from wagtail_helpdesk.inbound.autoreplies import auto_reply_reason, bulk_reason
from wagtail_helpdesk.inbound.bodies import reply_text
from wagtail_helpdesk.inbound.bounces import bounce_info
from wagtail_helpdesk.inbound.parsing import MailTooBroken, ParsedMail, parse
from wagtail_helpdesk.inbound.pec import pec_info


def test_identifiers_are_bare_and_in_order():
    parsed = parse(make(
        Message_ID="  <abc.1@example.org>  ",
        In_Reply_To="<root@comune.example.it>",
        References="<root@comune.example.it>\n <second@comune.example.it> <third@x.it>",
    ))
    assert parsed.message_id == "abc.1@example.org"
    assert parsed.in_reply_to == ["root@comune.example.it"]
    assert parsed.references == ["root@comune.example.it", "second@comune.example.it",
                                 "third@x.it"]


def test_missing_or_bracketless_ids():
    assert parse(make(Message_ID=None)).message_id == ""
    assert parse(make(Message_ID="naked@example.org")).message_id == "naked@example.org"
    assert parse(make(In_Reply_To="a@x.it b@x.it")).in_reply_to == ["a@x.it", "b@x.it"]


def test_addresses_are_lowercased_and_names_kept():
    parsed = parse(make(
        From='"Rossi, Mario" <Mario.Rossi@Example.ORG>', Reply_To="Altro <ALTRO@example.org>",
        Return_Path="<Bounce@Example.org>",
    ))
    assert parsed.sender == "mario.rossi@example.org"
    assert parsed.sender_name == "Rossi, Mario"
    assert parsed.reply_to == "altro@example.org"
    assert parsed.return_path == "bounce@example.org"
    assert parsed.null_return_path is False


def test_null_return_path():
    parsed = parse(make(Return_Path="<>"))
    assert parsed.return_path == ""
    assert parsed.null_return_path is True
    assert parse(make()).null_return_path is False


def test_encoded_sender_name_and_subject_are_decoded_and_normalised():
    parsed = parse(make(
        From="=?utf-8?q?Nicol=C3=B2_Bell=C3=A0?= <nb@example.org>",
        Subject="=?iso-8859-1?q?Perch=E9?=\n   la   TARI\t=?utf-8?b?w6g=?= aumentata",
    ))
    assert parsed.sender_name == "Nicolò Bellà"
    assert parsed.subject == "Perché la TARI è aumentata"


def test_recipients_from_every_header_deduplicated_in_order():
    raw = make(To="A <a@x.it>, b@x.it", Cc="B@X.IT, c@x.it", Delivered_To="d@x.it",
               X_Original_To="a@x.it", Envelope_To="e@x.it")
    assert parse(raw).recipients == ["a@x.it", "b@x.it", "c@x.it", "d@x.it", "e@x.it"]


def test_repeated_delivered_to_headers_all_count():
    raw = b"Delivered-To: one@x.it\nDelivered-To: two@x.it\n" + make()
    assert parse(raw).recipients[-2:] == ["one@x.it", "two@x.it"]


def test_dates():
    assert parse(make()).date == datetime(2026, 12, 5, 10, tzinfo=timezone(timedelta(hours=1)))
    naive = parse(make(Date="Sat, 5 Dec 2026 10:00:00 -0000")).date
    assert naive == datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert parse(make(Date="sabato scorso")).date is None
    assert parse(make(Date=None)).date is None


def test_header_accessor_never_raises_and_decodes():
    parsed = parse(make(X_Custom="=?utf-8?b?Y2lhbw==?=  mondo", X_Broken="=?bogus?q?x?="))
    assert parsed.header("X-Custom") == "ciao mondo"
    assert parsed.header("x-custom") == "ciao mondo"
    assert parsed.header("X-Absent") == ""
    assert isinstance(parsed.header("X-Broken"), str)
    assert isinstance(parsed, ParsedMail)


def test_empty_input_is_too_broken_but_str_is_accepted():
    for raw in (b"", b"   \r\n\r\n", None):
        with pytest.raises(MailTooBroken):
            parse(raw)
    assert parse("Subject: ciao\n\ntesto").text == "testo"


def test_plain_text_preferred_and_html_sanitised():
    raw = make(
        "--b\nContent-Type: text/plain; charset=utf-8\n\nTesto semplice\n"
        "--b\nContent-Type: text/html; charset=utf-8\n\n"
        "<p>Testo <b>ricco</b></p><script>alert(1)</script>\n--b--\n",
        content_type='multipart/alternative; boundary="b"',
    )
    parsed = parse(raw)
    assert parsed.text == "Testo semplice"
    assert "<b>ricco</b>" in parsed.html
    assert "script" not in parsed.html and "alert" not in parsed.html


def test_html_only_becomes_text():
    parsed = parse(make("<div>Riga uno</div><div>Riga&nbsp;due &amp; tre</div>",
                        content_type="text/html; charset=utf-8"))
    assert parsed.text == "Riga uno\nRiga due & tre"


def _part(ctype, body, **extra):
    head = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in extra.items())
    return f"Content-Type: {ctype}\n{head}\n{body}\n"


def _multipart(subtype, *parts, boundary="XYZ"):
    body = "".join(f"--{boundary}\n{p}" for p in parts) + f"--{boundary}--\n"
    return make(body, content_type=f'multipart/{subtype}; boundary="{boundary}"')


def test_attachments_real_ones_only():
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    raw = _multipart(
        "mixed",
        _part("text/plain; charset=utf-8", "Ecco i documenti."),
        _part('application/pdf; name="a.pdf"', base64.b64encode(b"%PDF-1").decode(),
              Content_Transfer_Encoding="base64", Content_Disposition='attachment; filename="a.pdf"'),
        _part("image/png", png, Content_Transfer_Encoding="base64",
              Content_Disposition='inline; filename="foto.png"', Content_ID="<img1>"),
        _part("application/octet-stream", base64.b64encode(b"xx").decode(),
              Content_Transfer_Encoding="base64"),
        _part("text/plain", "nota allegata", Content_Disposition='attachment; filename="nota.txt"'),
        _part("message/rfc822", "Subject: inoltrato\nFrom: x@y.it\n\ncorpo\n"),
    )
    parsed = parse(raw)
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [("a.pdf", "application/pdf"), ("foto.png", "image/png"),
                     ("part-3.bin", "application/octet-stream"), ("nota.txt", "text/plain"),
                     ("message.eml", "message/rfc822")]
    assert parsed.attachments[0].data == b"%PDF-1"
    assert parsed.attachments[1].data.startswith(b"\x89PNG")
    assert b"Subject: inoltrato" in parsed.attachments[4].data
    assert parsed.text == "Ecco i documenti."


def test_signatures_and_report_halves_are_not_attachments():
    signed = _multipart(
        "signed",
        _part("text/plain; charset=utf-8", "Firmato."),
        _part('application/pkcs7-signature; name="smime.p7s"', "AAAA",
              Content_Transfer_Encoding="base64", Content_Disposition='attachment; filename="smime.p7s"'),
    )
    parsed = parse(signed)
    assert parsed.attachments == []
    assert parsed.text == "Firmato."
    bounce = parse(corpus.load("postfix_bounce"))
    assert bounce.attachments == []
    assert "Subject: [Comune" not in bounce.text  # the returned message is not body text


def test_apple_mail_text_split_around_an_inline_image_is_joined():
    raw = _multipart(
        "mixed",
        _part("text/plain; charset=utf-8", "Prima parte."),
        _part('image/jpeg; name="IMG_1.jpeg"', "/9j/", Content_Transfer_Encoding="base64",
              Content_Disposition='inline; filename="IMG_1.jpeg"'),
        _part("text/plain; charset=utf-8", "Seconda parte."),
    )
    parsed = parse(raw)
    assert parsed.text == "Prima parte.\nSeconda parte."
    assert [a.filename for a in parsed.attachments] == ["IMG_1.jpeg"]


@pytest.mark.parametrize(("charset", "payload", "text"), [
    ("us-ascii", "città €".encode(), "città €"),           # UTF-8 mislabelled as ASCII
    ("iso-8859-1", "costo 5 € “netto”".encode("cp1252"), "costo 5 € “netto”"),
    ("windows-1252", "L’ufficio".encode("cp1252"), "L’ufficio"),
    ("utf-8", b"rotto \xff qui", "rotto \ufffd qui"),
])
def test_charsets(charset, payload, text):
    raw = make(content_type=f"text/plain; charset={charset}").split(b"\n\n")[0] + b"\n\n" + payload
    assert parse(raw).text == text


def test_unknown_charset_is_a_defect_not_a_crash():
    raw = make("perché".encode("cp1252").decode("latin-1"),
               content_type="text/plain; charset=x-klingon")
    parsed = parse(raw)
    assert "perch" in parsed.text
    assert any("x-klingon" in d for d in parsed.defects)


def test_broken_structure_keeps_what_it_can():
    raw = make("--B\nContent-Type: text/plain\n\nsenza chiusura\n--B\nContent-Type: text/html\n\n<p",
               content_type='multipart/mixed; boundary="B"')
    parsed = parse(raw)
    assert "senza chiusura" in parsed.text
    assert parsed.defects


def test_deeply_nested_multipart_does_not_recurse_forever():
    body, ctype = "fondo", "text/plain"
    for level in range(60):
        body = f"--L{level}\nContent-Type: {ctype}\n\n{body}\n--L{level}--\n"
        ctype = f'multipart/mixed; boundary="L{level}"'
    parsed = parse(make(body, content_type=ctype))
    assert isinstance(parsed.text, str)


def _everything(raw):
    try:
        parsed = parse(raw)
    except MailTooBroken:
        return
    reply_text(parsed)
    auto_reply_reason(parsed)
    bulk_reason(parsed)
    bounce_info(parsed)
    info = pec_info(parsed)
    if info is not None and info.inner is not None:
        reply_text(info.inner)
    for name in ("From", "To", "Subject", "Date", "Message-ID", "X-Whatever"):
        assert isinstance(parsed.header(name), str)


@pytest.mark.parametrize("name", corpus.names())
def test_truncated_messages_never_raise(name):
    raw = corpus.load(name)
    for cut in sorted({*range(0, len(raw), max(1, len(raw) // 40)), len(raw) - 1}):
        _everything(raw[:cut])


@pytest.mark.parametrize("name", corpus.names())
def test_garbled_messages_never_raise(name):
    rng = random.Random(name)  # deterministic per file
    raw = corpus.load(name)
    for _round in range(25):
        data = bytearray(raw)
        for _flip in range(rng.randint(1, 40)):
            position = rng.randrange(len(data))
            data[position] = rng.choice(b"\x00\xff\n\r:;<>=?\"-\\ \t" + bytes([rng.randrange(256)]))
        _everything(bytes(data))


def test_random_garbage_never_raises():
    rng = random.Random(17)
    for _round in range(50):
        _everything(bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000))))


@pytest.mark.parametrize(("raw", "text"), [
    (b'Content-Type: text/plain; charset="utf-8\x00"\n\nciao', "ciao"),
    (b"Content-Type: multipart/alternative\n\n--x\nContent-Type: text/plain\n\nciao\n--x--", "ciao"),
    (b"Content-Type: text/plain; charset=\xff\xfe\n\nciao", "ciao"),
    (b"Subject: a\x00b\n\nte\x00sto", "testo"),
    (b"\r\n\r\nsolo corpo", "solo corpo"),
])
def test_odd_bodies_keep_their_text(raw, text):
    parsed = parse(raw)
    assert text in parsed.text  # a boundary-less multipart keeps its raw body as text
    assert "\x00" not in parsed.text + parsed.subject


def test_attachment_names_are_bare_file_names():
    raw = _multipart(
        "mixed",
        _part("text/plain", "x"),
        _part("application/pdf", "JVBERi0=", Content_Transfer_Encoding="base64",
              Content_Disposition='attachment; filename="..\\\\..\\\\windows\\\\evil.pdf"'),
        _part("application/pdf", "JVBERi0=", Content_Transfer_Encoding="base64",
              Content_Disposition='attachment; filename="/etc/pass\x01wd"'),
    )
    assert [a.filename for a in parse(raw).attachments] == ["evil.pdf", "passwd"]
