"""Every corpus message against the pure functions, as expected.json says.

The values substituted here differ from the corpus defaults, so a file that
forgot a placeholder (or a function reading a default) fails.
"""

import json
import time

import pytest

from tests.inbound import corpus
from wagtail_helpdesk.inbound import parsing
from wagtail_helpdesk.inbound.autoreplies import auto_reply_reason, bulk_reason
from wagtail_helpdesk.inbound.bodies import reply_text, short_codes
from wagtail_helpdesk.inbound.bounces import bounce_info
from wagtail_helpdesk.inbound.parsing import parse
from wagtail_helpdesk.inbound.pec import pec_info

SUBST = {
    "REPLY_TO": "assistenza+917.q8w7e6r5t4@municipio.example.net",
    "OUR_MESSAGE_ID": "hd.917.5521.z9y8x7w6v5@municipio.example.net",
    "SHORT_CODE": "SEG-2027-000917",
    "CITIZEN_EMAIL": "carla.fontana@example.com",
    "OUR_ADDRESS": "assistenza@municipio.example.net",
    "OUR_DOMAIN": "municipio.example.net",
}
OUTCOMES = {"threaded", "new_ticket", "auto_reply", "bounce", "pec_receipt", "dropped", "failed"}
EXPECTED = corpus.expected()
# Every kind the brief asks the corpus to cover.
REQUIRED = {
    "gmail_reply", "outlook_reply", "thunderbird_reply", "apple_mail_reply",
    "exchange_out_of_office", "postfix_bounce", "exchange_bounce", "pec_accettazione",
    "pec_avvenuta_consegna", "pec_errore_consegna", "pec_envelope", "mailing_list",
    "html_only", "iso_8859_1", "windows_1252", "malformed_mime", "new_request",
    "auto_reply_vacation", "ours_coming_back",
}


def fill(value):
    """expected.json values with this test's placeholders substituted."""
    text = json.dumps(value, ensure_ascii=False)
    for key, sub in SUBST.items():
        text = text.replace("{{" + key + "}}", sub)
    return json.loads(text)


def test_every_file_has_expectations_and_the_required_kinds_exist():
    assert set(corpus.names()) == set(EXPECTED)
    assert set(corpus.names()) >= REQUIRED
    assert {entry["outcome"] for entry in EXPECTED.values()} <= OUTCOMES


@pytest.mark.parametrize("name", corpus.names())
def test_placeholders_are_all_substituted(name):
    raw = corpus.load(name, **SUBST)
    assert b"{{" not in raw
    default_raw = corpus.load(name)
    for key, default in corpus.DEFAULTS.items():
        if b"{{" + key.encode() + b"}}" in (corpus.DIR / f"{name}.eml").read_bytes():
            assert SUBST[key].encode() in raw
            assert default.encode() in default_raw


def test_unknown_placeholder_is_refused():
    with pytest.raises(KeyError):
        corpus.load("new_request", TICKET="1")


@pytest.mark.parametrize("name", corpus.names())
def test_corpus_message(name):
    want = fill(EXPECTED[name])
    parsed = parse(corpus.load(name, **SUBST))
    text = reply_text(parsed)

    assert text, "a message with a body never yields an empty reply text"
    for fragment in want.get("reply_text_contains", []):
        assert fragment in text, fragment
    for fragment in want.get("reply_text_excludes", []):
        assert fragment not in text, fragment
    for fragment in want.get("html_contains", []):
        assert fragment in parsed.html, fragment
    for fragment in want.get("html_excludes", []):
        assert fragment not in parsed.html, fragment

    for key in ("sender", "reply_to", "subject", "message_id", "in_reply_to", "null_return_path"):
        if key in want:
            assert getattr(parsed, key) == want[key], key
    if "short_codes" in want:
        assert short_codes(parsed.subject) == want["short_codes"]
    if "attachments" in want:
        assert [a.filename for a in parsed.attachments] == want["attachments"]
    if want.get("defects"):
        assert parsed.defects

    assert bool(auto_reply_reason(parsed)) is want["auto_reply"]
    if "auto_reply_reason" in want:
        assert auto_reply_reason(parsed) == want["auto_reply_reason"]
    assert bool(bulk_reason(parsed)) is want["bulk"]
    if "bulk_reason" in want:
        assert bulk_reason(parsed) == want["bulk_reason"]

    bounce = bounce_info(parsed)
    assert (bounce is not None) is want["bounce"]
    if bounce is not None:
        assert bounce.recipients == want["bounce_recipients"]
        assert bounce.status == want["bounce_status"]
        assert bounce.permanent is want["bounce_permanent"]
        assert bounce.original_message_id == want["bounce_original_message_id"]
        assert want["bounce_diagnostic_contains"] in bounce.diagnostic
        assert len(bounce.diagnostic) <= 300

    pec = pec_info(parsed)
    assert (pec.kind if pec else None) == want["pec"]
    if pec is not None:
        for key, value in want.get("certification", {}).items():
            assert pec.certification.get(key) == value, key
        if "pec_failed" in want:
            assert pec.failed is want["pec_failed"]
        if pec.kind == "receipt":
            assert pec.receipt == want["pec_receipt"]
            assert pec.reference_message_id == want["pec_reference"]
            assert pec.inner is None
        else:
            inner = pec.inner
            assert inner.sender == want["inner_sender"]
            assert inner.subject == want["inner_subject"]
            assert [a.filename for a in inner.attachments] == want["inner_attachments"]
            for fragment in want["inner_reply_text_contains"]:
                assert fragment in reply_text(inner)


def test_big_attachment_message_is_parsed_whole_and_fast_enough():
    raw = corpus.big_attachment_message(CITIZEN_EMAIL=SUBST["CITIZEN_EMAIL"])
    assert len(raw) > 20 * 1024 * 1024
    started = time.perf_counter()
    parsed = parse(raw)
    elapsed = time.perf_counter() - started
    assert parsed.sender == SUBST["CITIZEN_EMAIL"]
    assert [a.filename for a in parsed.attachments] == ["planimetria.pdf"]
    assert len(parsed.attachments[0].data) == 20 * 1024 * 1024
    assert parsed.attachments[0].data.startswith(b"%PDF-1.7")
    assert "allego la planimetria" in reply_text(parsed)
    assert elapsed < 5, f"parsing 20 MB took {elapsed:.1f} s"


def test_typical_message_parses_and_strips_well_under_10_ms():
    raws = [corpus.load(name) for name in ("gmail_reply", "outlook_reply", "thunderbird_reply")]
    for raw in raws:  # warm up regex caches
        reply_text(parse(raw))
    timings = []
    for _round in range(15):
        for raw in raws:
            parsing._HEADER_CACHE.clear()  # as cold as a message never seen before
            started = time.perf_counter()
            reply_text(parse(raw))
            timings.append(time.perf_counter() - started)
    timings.sort()
    median = timings[len(timings) // 2]
    assert median < 0.010, f"median parse + reply_text {median * 1000:.1f} ms"
