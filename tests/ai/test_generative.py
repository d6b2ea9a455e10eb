"""The optional language model: what it is sent (never personal data), what
is kept of its answer, and the extractive text whenever anything goes wrong."""

import pytest

from tests.ai.fake_openai import FakeOpenAI, configure
from wagtail_helpdesk.ai.generative import rewrite
from wagtail_helpdesk.ai.masking import Masker

pytestmark = pytest.mark.django_db

TEXT = ("Gentile Giovanna Esposito, la sua pratica sull'immobile di via Garibaldi 12 è "
        "chiusa. Per dubbi chiami il 333 1234567 o scriva a giovanna@example.org "
        "(codice fiscale RSSMRA85T10A562S).")
PERSONAL = ["Giovanna", "Esposito", "Garibaldi", "333 1234567", "giovanna@example.org",
            "RSSMRA85T10A562S"]


@pytest.fixture
def fake(httpserver):
    return FakeOpenAI(httpserver)


def masker():
    return Masker(names=["Giovanna Esposito"], keep=["urp@comune.example.it"])


def test_off_by_default_sends_nothing(fake):
    result = rewrite(TEXT, purpose="reply", masker=masker())
    assert (result.text, result.rewritten, result.reason) == (TEXT, False, "off")
    assert fake.requests == []


def test_prompt_carries_no_personal_data_and_answer_is_restored(fake):
    configure(fake, generative_api_key="segreto")
    fake.answer = lambda prompt: prompt.replace("Gentile", "Cara").replace("è chiusa", "è conclusa")
    result = rewrite(TEXT, purpose="reply", masker=masker())
    assert result.rewritten
    assert result.text == TEXT.replace("Gentile", "Cara").replace("è chiusa", "è conclusa")
    (request,) = fake.requests
    sent = fake.sent_texts()
    for value in PERSONAL:
        assert value not in sent, value
    assert "[NOME_1]" in sent and "[TELEFONO_1]" in sent
    body = request["json"]
    assert body["model"] == "fake-model" and body["temperature"] <= 0.3
    assert body["messages"][0]["role"] == "system"
    assert request["headers"]["Authorization"] == "Bearer segreto"


def test_kept_office_contacts_may_travel(fake):
    configure(fake)
    text = "Scriva a urp@comune.example.it per avere il modulo della pratica."
    result = rewrite(text, purpose="reply", masker=masker())
    assert result.rewritten and "urp@comune.example.it" in fake.sent_texts()


@pytest.mark.parametrize("answer, reason", [
    (lambda p: p.replace("[NOME_1]", "[NOME_7]"), "unknown_placeholder"),
    (lambda p: p + " Chiami anche Mario Rossi al 340 9876543.", "new_personal_data"),
    (lambda p: p + " Scriva a mario.rossi@example.org.", "new_personal_data"),
    (lambda p: "", "empty"),
    (lambda p: p * 10, "too_long"),
])
def test_refused_answers_fall_back_to_the_text(fake, answer, reason):
    configure(fake)
    fake.answer = answer
    result = rewrite(TEXT, purpose="reply", masker=masker())
    assert (result.text, result.rewritten, result.reason) == (TEXT, False, reason)


def test_server_error_timeout_and_garbage_fall_back(fake, caplog):
    configure(fake, generative_timeout=1)
    fake.status = 500
    assert rewrite(TEXT, purpose="summary", masker=masker()).reason == "error"
    fake.status = 200
    fake.raw = "{not json"
    assert rewrite(TEXT, purpose="summary", masker=masker()).reason == "garbage"
    fake.raw = '{"choices": []}'
    assert rewrite(TEXT, purpose="summary", masker=masker()).reason == "garbage"
    fake.raw = None
    fake.delay = 1.5
    result = rewrite(TEXT, purpose="summary", masker=masker())
    assert (result.text, result.reason) == (TEXT, "timeout")
    # The logs say what went wrong, never what the texts were.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged and not any(value in logged for value in PERSONAL)


def test_unreachable_server_falls_back(fake):
    configure(fake, generative_url="http://127.0.0.1:9/v1")
    assert rewrite(TEXT, purpose="reply", masker=masker()).reason == "error"


def test_purpose_sets_the_prompt(fake):
    configure(fake)
    rewrite("Il cittadino chiede il rinnovo della carta d'identità.", purpose="summary",
            masker=masker())
    rewrite("La carta d'identità si prenota sul sito del Comune.", purpose="reply",
            masker=masker())
    systems = [r["json"]["messages"][0]["content"] for r in fake.requests]
    assert "riepilogo" in systems[0] and "cittadino" in systems[1]


def test_a_text_that_looks_masked_is_not_sent(fake):
    configure(fake)
    result = rewrite("Gentile [NOME_1], la pratica è chiusa.", purpose="reply", masker=masker())
    assert result.reason == "placeholder_in_text" and fake.requests == []
