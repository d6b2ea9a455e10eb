"""pec_info and daticert.xml: receipts, envelopes, and ordinary mail that is neither."""

import pytest

from tests.inbound import corpus
from tests.inbound.corpus import make
from wagtail_helpdesk.inbound.parsing import parse
from wagtail_helpdesk.inbound.pec import FAILED_RECEIPTS, certification, pec_info

DATICERT = (corpus.DIR / "pec_errore_consegna.eml").read_bytes().split(b"<?xml", 1)[1]
DATICERT = b"<?xml" + DATICERT.split(b"</postacert>", 1)[0] + b"</postacert>"


def test_receipts_from_the_corpus():
    ours = "hd.9.99.abcdef@municipio.example.net"
    for name, kind, failed in [("pec_accettazione", "accettazione", False),
                               ("pec_avvenuta_consegna", "avvenuta-consegna", False),
                               ("pec_errore_consegna", "errore-consegna", True)]:
        info = pec_info(parse(corpus.load(name, OUR_MESSAGE_ID=ours)))
        assert (info.kind, info.receipt, info.failed) == ("receipt", kind, failed)
        assert info.reference_message_id == ours
        assert info.certification["msgid"] == ours
        assert info.certification["tipo"] == kind
        assert info.inner is None


def test_envelope_unwraps_the_citizens_message():
    info = pec_info(parse(corpus.load("pec_envelope", CITIZEN_EMAIL="m.rossi@pec.example.org")))
    assert info.kind == "envelope"
    assert info.receipt == "" and info.reference_message_id == "" and info.failed is False
    assert info.certification["mittente"] == "m.rossi@pec.example.org"
    assert info.certification["identificativo"].startswith("opec292.")
    inner = info.inner
    assert inner.sender == "m.rossi@pec.example.org"
    assert inner.message_id == "7d3a1f0e-9b2c-4d5e-8f6a-1b2c3d4e5f60@pec.example.org"
    assert inner.attachments[0].data.startswith(b"%PDF-1.4")
    # the envelope's own parts are not the citizen's attachments
    assert parse(corpus.load("pec_envelope")).attachments == []


@pytest.mark.parametrize(("value", "receipt", "failed"), [
    ("accettazione", "accettazione", False),
    ("Avvenuta-Consegna", "avvenuta-consegna", False),
    ("presa-in-carico", "presa-in-carico", False),
    ("non-accettazione", "non-accettazione", True),
    ("preavviso-errore-consegna", "preavviso-errore-consegna", False),  # a warning
    ("rilevazione-virus", "rilevazione-virus", True),
    (" errore-consegna ", "errore-consegna", True),
])
def test_receipt_kinds(value, receipt, failed):
    info = pec_info(parse(make(X_Ricevuta=value, X_Riferimento_Message_ID="<a@b.it>")))
    assert (info.kind, info.receipt, info.failed) == ("receipt", receipt, failed)
    assert info.reference_message_id == "a@b.it"
    assert info.certification == {}


def test_failed_set_is_the_documented_one():
    assert FAILED_RECEIPTS == {"errore-consegna", "non-accettazione", "rilevazione-virus"}


def test_anomaly_envelope_without_daticert():
    body = ("--M\nContent-Type: text/plain\n\nAnomalia nel messaggio.\n--M\n"
            "Content-Type: message/rfc822\n\nFrom: x@y.it\nSubject: originale\n\nTesto\n--M--\n")
    info = pec_info(parse(make(body, content_type='multipart/mixed; boundary="M"',
                               X_Trasporto="errore")))
    assert info.kind == "envelope"
    assert info.certification == {}
    assert info.inner.subject == "originale"


def test_envelope_without_inner_message():
    info = pec_info(parse(make(X_Trasporto="posta-certificata")))
    assert info.kind == "envelope" and info.inner is None


def test_ordinary_mail_is_not_pec():
    for name in ("gmail_reply", "postfix_bounce", "new_request"):
        assert pec_info(parse(corpus.load(name))) is None


def test_certification_fields():
    data = certification(DATICERT.replace(b"{{CITIZEN_EMAIL}}", b"x@pec.it"))
    assert data["tipo"] == "errore-consegna"
    assert data["errore"] == "no-dest"
    assert data["destinatari"] == ["x@pec.it"]
    assert data["consegna"] == "x@pec.it"
    assert data["errore_esteso"] == "5.1.1 - Gestore PEC di Esempio - casella inesistente"
    assert (data["data"], data["ora"], data["zona"]) == ("05/12/2026", "10:12:11", "+0100")
    assert "risposte" in data and "gestore" in data and "oggetto" in data


def test_certification_omits_missing_fields_and_refuses_bad_xml():
    assert certification(b'<postacert tipo="accettazione"><dati/></postacert>') == \
        {"tipo": "accettazione"}
    assert certification(b"<postacert") == {}
    assert certification(b"") == {}
    bomb = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><postacert tipo="&b;"/>')
    assert certification(bomb) == {}
    assert certification(b"<p>" + b"x" * 300_000 + b"</p>") == {}
