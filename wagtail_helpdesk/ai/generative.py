"""The optional language model on the municipality's own server: rewrites a
summary or a chosen suggestion into fluent Italian.

Off unless an administrator switches it on (``AssistSettings``) and gives an
OpenAI-compatible endpoint (llama.cpp server, Ollama, vLLM):
``POST {url}/chat/completions``. Before anything is sent, personal data is
masked (:mod:`.masking`); what comes back has its placeholders restored. The
answer is refused — and the extractive text kept — when it carries a
placeholder that cannot be restored, personal data the text did not have,
nothing, or far too much; and on any error or timeout. Nothing here raises
into a page, and nothing logged carries the texts.
"""

import logging
from dataclasses import dataclass

import requests

from . import masking
from .switches import assist_settings

logger = logging.getLogger(__name__)

#: What the model is asked (in Italian: the language it must write in).
PROMPTS = {
    "summary": (
        "Sei un assistente degli operatori di un Comune italiano. Riscrivi il riepilogo "
        "seguente in un paragrafo di italiano chiaro e scorrevole, per un collega. Non "
        "aggiungere fatti, nomi, numeri, date, indirizzi o recapiti che non siano nel testo. "
        "Lascia invariati i segnaposto tra parentesi quadre, come [NOME_1]. Rispondi solo "
        "con il testo riscritto."),
    "reply": (
        "Sei un assistente degli operatori di un Comune italiano. Riscrivi la risposta "
        "seguente a un cittadino in italiano chiaro, cortese e semplice: frasi brevi, parole "
        "di uso comune, nessun gergo burocratico. Non aggiungere fatti, promesse, nomi, "
        "numeri, date, indirizzi o recapiti che non siano nel testo. Lascia invariati i "
        "segnaposto tra parentesi quadre, come [NOME_1], e quelli tra graffe, come "
        "{codice}. Rispondi solo con il testo riscritto."),
}
TEMPERATURE = 0.2
#: An answer longer than this many times the text (plus a margin) is refused.
MAX_GROWTH = 3


@dataclass
class Rewrite:
    """``text``: the rewritten text, or the original when ``rewritten`` is
    false (``reason`` then says why, for the logs and tests: never shown)."""

    text: str
    rewritten: bool
    reason: str = ""


def configured(settings=None):
    """The settings when the language model is switched on and configured."""
    settings = settings if settings is not None else assist_settings()
    if settings.generative_enabled and settings.generative_url and settings.generative_model:
        return settings
    return None


def _endpoint(settings):
    return settings.generative_url.rstrip("/") + "/chat/completions"


def _ask(settings, purpose, masked):
    """The model's answer to ``masked`` (raises on any failure)."""
    headers = {"Content-Type": "application/json"}
    if settings.generative_api_key:
        headers["Authorization"] = f"Bearer {settings.generative_api_key}"
    payload = {
        "model": settings.generative_model,
        "temperature": TEMPERATURE,
        "stream": False,
        "messages": [{"role": "system", "content": PROMPTS[purpose]},
                     {"role": "user", "content": masked}],
    }
    response = requests.post(_endpoint(settings), json=payload, headers=headers,
                             timeout=max(1, int(settings.generative_timeout or 20)),
                             allow_redirects=False)
    response.raise_for_status()
    content = response.json()["choices"][0]["message"]["content"]
    if not isinstance(content, str):
        raise ValueError("no text in the answer")
    return content.strip()


def rewrite(text, *, purpose, masker, settings=None):
    """``text`` rewritten by the model for ``purpose`` ("summary" or "reply"),
    personal data masked with ``masker`` (see :func:`.masking.ticket_masker`).
    Never raises: falls back to ``text``."""
    if purpose not in PROMPTS:
        raise ValueError(f"unknown purpose {purpose!r}")
    settings = configured(settings)
    if settings is None or not (text or "").strip():
        return Rewrite(text, False, "off")
    if masker.has_placeholders(text):
        return Rewrite(text, False, "placeholder_in_text")
    masked = masker.mask(text)
    if _personal(masked, masker):  # cannot happen: masking masks what find() finds
        return Rewrite(text, False, "unmasked")
    try:
        answer = _ask(settings, purpose, masked)
    except requests.Timeout:
        logger.warning("The language model did not answer in time (%s s).",
                       settings.generative_timeout)
        return Rewrite(text, False, "timeout")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        logger.warning("The language model's answer could not be read (%s).",
                       type(exc).__name__)
        return Rewrite(text, False, "garbage")
    except requests.RequestException as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        logger.warning("The language model could not be reached (%s, status %s).",
                       type(exc).__name__, status)
        return Rewrite(text, False, "error")
    except Exception as exc:  # never into the page
        logger.warning("The language model failed (%s).", type(exc).__name__)
        return Rewrite(text, False, "error")
    return check(answer, masked, text, masker)


def _personal(text, masker):
    """The personal data ``text`` shows that ``masker`` does not keep."""
    return [text[start:end] for _kind, start, end in masking.find(text)
            if not masker.keeps(text[start:end])]


def check(answer, masked, text, masker):
    """The model's ``answer`` restored, or ``text`` when it must be refused."""
    if not answer:
        return Rewrite(text, False, "empty")
    if len(answer) > MAX_GROWTH * len(masked) + 200:
        logger.warning("The language model's answer was refused: too long.")
        return Rewrite(text, False, "too_long")
    if masker.unknown(answer):
        logger.warning("The language model's answer was refused: unknown placeholders.")
        return Rewrite(text, False, "unknown_placeholder")
    if _personal(answer, masker):
        logger.warning("The language model's answer was refused: it added personal data.")
        return Rewrite(text, False, "new_personal_data")
    return Rewrite(masker.restore(answer), True)
