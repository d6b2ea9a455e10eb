"""bounce_info: RFC 3464 reports (Postfix, Exchange), plain-text bounces, and non-bounces."""

from tests.inbound import corpus
from tests.inbound.corpus import make
from wagtail_helpdesk.inbound.bounces import bounce_info
from wagtail_helpdesk.inbound.parsing import parse

RETURNED = "Message-ID: <hd.1.2.abc@comune.example.it>\nTo: x@example.org\nSubject: Avviso\n\nTesto\n"


def report(status_blocks, human="Delivery failed.", returned=RETURNED, **headers):
    body = ("--R\nContent-Type: text/plain\n\n" + human + "\n"
            "--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.it\n\n"
            + "\n".join(status_blocks) + "\n")
    if returned is not None:
        body += "--R\nContent-Type: message/rfc822\n\n" + returned
    body += "--R--\n"
    headers.setdefault("From", "MAILER-DAEMON@mx.example.it (Mail Delivery System)")
    headers.setdefault("Return_Path", "<>")
    return parse(make(body, content_type='multipart/report; report-type=delivery-status; '
                                         'boundary="R"', **headers))


def block(address, action="failed", status="5.1.1", diagnostic=None):
    text = f"Final-Recipient: rfc822; {address}\nAction: {action}\nStatus: {status}\n"
    return text + (f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else "")


def test_postfix_corpus():
    bounce = bounce_info(parse(corpus.load("postfix_bounce", CITIZEN_EMAIL="Anna@Example.net")))
    assert bounce.recipients == ["anna@example.net"]
    assert (bounce.status, bounce.permanent) == ("5.1.1", True)
    assert bounce.diagnostic.startswith("550 5.1.1 <Anna@Example.net>: Recipient address rejected")
    assert bounce.original_message_id == corpus.DEFAULTS["OUR_MESSAGE_ID"]
    assert bounce.original_headers["Subject"].startswith("[Comune di Esempio] Richiesta")


def test_exchange_corpus():
    bounce = bounce_info(parse(corpus.load("exchange_bounce")))
    assert bounce.status == "5.1.10"
    assert "RecipientNotFound" in bounce.diagnostic
    assert bounce.original_headers["To"] == corpus.DEFAULTS["CITIZEN_EMAIL"]


def test_delay_is_not_permanent_and_headers_only_part_is_read():
    bounce = bounce_info(parse(corpus.load("postfix_delayed")))
    assert bounce.permanent is False
    assert bounce.status == "4.4.1"
    assert bounce.original_message_id == corpus.DEFAULTS["OUR_MESSAGE_ID"]


def test_several_recipients_only_failed_ones_count():
    bounce = bounce_info(report([block("ok@x.it", "delivered", "2.0.0"),
                                 block("Ko@X.it", diagnostic="550 5.1.1 unknown"),
                                 block("late@x.it", "delayed", "4.2.2")]))
    assert bounce.recipients == ["ko@x.it", "late@x.it"]
    assert bounce.status == "5.1.1"
    assert bounce.permanent is True
    assert bounce.diagnostic == "550 5.1.1 unknown"


def test_success_report_is_not_a_bounce():
    assert bounce_info(report([block("ok@x.it", "delivered", "2.0.0")])) is None


def test_failed_action_with_a_4_status_is_a_failure():
    """Postfix gives up ("delivery time expired") with Action: failed, Status 4.4.7."""
    bounce = bounce_info(report([block("x@x.it", "failed", "4.4.7")]))
    assert bounce.permanent is True


def test_delayed_action_is_temporary():
    bounce = bounce_info(report([block("x@x.it", "delayed", "4.4.1")]))
    assert bounce.permanent is False


def test_no_returned_message_and_human_text_as_diagnostic():
    bounce = bounce_info(report([block("x@x.it")], human="Casella   piena.\n" + "x" * 400,
                                returned=None))
    assert bounce.original_message_id == ""
    assert bounce.original_headers == {}
    assert bounce.diagnostic.startswith("Casella piena.")
    assert len(bounce.diagnostic) == 300


def test_exim_style_plain_text_bounce():
    bounce = bounce_info(parse(corpus.load("exim_bounce", CITIZEN_EMAIL="gino@example.net")))
    assert bounce.recipients == ["gino@example.net"]
    assert bounce.permanent is True
    assert bounce.original_message_id == corpus.DEFAULTS["OUR_MESSAGE_ID"]


def test_plain_text_bounce_with_status_in_text():
    parsed = parse(make("<x@example.org>: host mx said: 452 4.2.2 mailbox full\n",
                        From="postmaster@example.org", Return_Path="<>"))
    bounce = bounce_info(parsed)
    assert bounce.recipients == ["x@example.org"]
    assert (bounce.status, bounce.permanent) == ("4.2.2", False)


def test_null_return_path_with_returned_message_is_a_bounce():
    body = ("--M\nContent-Type: text/plain\n\nNon consegnato.\n"
            "--M\nContent-Type: message/rfc822\n\n" + RETURNED + "--M--\n")
    parsed = parse(make(body, content_type='multipart/mixed; boundary="M"',
                        From="Sistema <noreply@appliance.example.it>", Return_Path="<>"))
    assert bounce_info(parsed).original_message_id == "hd.1.2.abc@comune.example.it"


def test_ordinary_mail_is_not_a_bounce():
    for name in ("gmail_reply", "new_request", "exchange_out_of_office", "auto_reply_vacation",
                 "pec_errore_consegna", "mailing_list"):
        assert bounce_info(parse(corpus.load(name))) is None, name
    # a human postmaster writing normally; a forwarded message from a person
    assert bounce_info(parse(make(From="postmaster@example.org"))) is None
    body = "--M\nContent-Type: text/plain\n\nVi inoltro.\n--M\nContent-Type: message/rfc822\n\n" \
        + RETURNED + "--M--\n"
    assert bounce_info(parse(make(body, content_type='multipart/mixed; boundary="M"'))) is None


def test_base64_encoded_delivery_status_is_decoded():
    parsed = parse(make(
        "--R\nContent-Type: text/plain\n\nfailed\n--R\nContent-Type: message/delivery-status\n"
        "Content-Transfer-Encoding: base64\n\nRmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGFAYi5pdApBY3Rpb246"
        "IGZhaWxlZApTdGF0dXM6IDUuMi4yCg==\n--R--\n",
        content_type='multipart/report; report-type=delivery-status; boundary="R"',
        From="MAILER-DAEMON@mx.example.it"))
    bounce = bounce_info(parsed)
    assert bounce.recipients == ["a@b.it"]
    assert (bounce.status, bounce.permanent) == ("5.2.2", True)
