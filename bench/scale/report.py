"""Print the scale benchmark's results: one size's table (with the ratio
ours ÷ django-helpdesk where both measured the page), and the growth table
of several sizes side by side.

    .venv/bin/python -m bench.scale.report --sizes 10k 100k 1m [--compare]

Reads ``var/bench/results-<size>.json`` (written by :mod:`bench.scale.pages`)
and ``var/bench/djhelpdesk-<size>.json`` (written by bench/djhelpdesk/run.py).
"""

import argparse
import json
import sys
from pathlib import Path

from .dataset import parse_size, size_label

OUTPUT = Path(__file__).resolve().parents[2] / "var" / "bench"
#: Our page key → django-helpdesk's, for the ratio column.
THEIRS = {"list_all": "list_all", "ticket": "ticket", "ticket_200": "ticket_200",
          "dashboard": "dashboard", "api_list": "api_list"}


def load(kind, label):
    path = OUTPUT / f"{kind}-{label}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _verdict(row):
    if row.get("error"):
        return "ERROR"
    if row.get("status", 200) >= 400:
        return f"HTTP {row['status']}"
    return {True: "PASS", False: "FAIL", None: ""}[row.get("pass")]


def _fmt(value, digits=1):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def print_results(report, theirs=None):
    m = report.get("machine", {})
    print(f"\n{report['size']:,} tickets — {report['database']} — median of {report['runs']} "
          f"warm runs, server time (test client)")
    print(f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, PostgreSQL "
          f"{m.get('postgresql', '?')}, load {m.get('load_average')}"
          + (f", CPU reference {m['cpu_reference_ms']} ms before/after (lower is faster)"
             if m.get("cpu_reference_ms") else ""))
    if report["size"] < 1_000_000:
        print("(goals are for 1M tickets: PASS/FAIL below is indicative only)")
    their_pages = (theirs or {}).get("pages", {})
    header = (f"{'page':<27} {'median ms':>9} {'spread':>7} {'q':>4} {'bare SQL':>8} "
              f"{'ratio':>6}  {'goal':<24} {'':<6}")
    if theirs:
        header += f" {'djh ms':>9} {'djh q':>6} {'ours÷djh':>8}"
    print(header)
    print("-" * len(header))
    for key, row in report["pages"].items():
        if row.get("error"):
            print(f"{key:<27} ERROR {row['error'][:90]}")
            continue
        line = (f"{key:<27} {_fmt(row.get('median_ms')):>9} {_fmt(row.get('spread_ms')):>7} "
                f"{_fmt(row.get('queries')):>4} {_fmt(row.get('bare_sql_ms')):>8} "
                f"{_fmt(row.get('ratio')):>6}  {row.get('goal', ''):<24} {_verdict(row):<6}")
        other = their_pages.get(THEIRS.get(key, ""))
        if theirs and other:
            ratio = (row["median_ms"] / other["median_ms"]
                     if other.get("median_ms") else None)
            line += (f" {_fmt(other.get('median_ms')):>9} {_fmt(other.get('queries')):>6} "
                     f"{_fmt(ratio, 3) if ratio is not None else '—':>8}")
            if other.get("timeout"):
                line += " (timeout)"
        print(line)
        extra = {k: row[k] for k in ("rows", "rows_per_s", "peak_mb", "note") if row.get(k)}
        if extra:
            print(f"{'':<27} {extra}")
    if theirs:
        print(f"django-helpdesk {theirs.get('version', '?')} measured the same way "
              "(its own virtualenv and database, same size)")


def print_growth(reports):
    """Per-page medians, sizes side by side: flat rows mean cost per page
    independent of the number of tickets."""
    labels = [r["label"] for r in reports]
    keys = []
    for report in reports:
        keys += [k for k in report["pages"] if k not in keys]
    print("\nGrowth: median ms per page (queries)")
    print(f"{'page':<27}" + "".join(f"{label:>16}" for label in labels) + f"{'last÷first':>12}")
    for key in keys:
        cells, values = [], []
        for report in reports:
            row = report["pages"].get(key) or {}
            if row.get("median_ms") is None:
                cells.append(f"{'—':>16}")
                values.append(None)
                continue
            cells.append(f"{row['median_ms']:>9,.1f} ({row.get('queries', 0):>3})")
            values.append(row["median_ms"])
        growth = (f"{values[-1] / values[0]:>12.2f}" if len(values) > 1 and values[0]
                  and values[-1] is not None else f"{'':>12}")
        print(f"{key:<27}" + "".join(cells) + growth)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100k"])
    parser.add_argument("--compare", action="store_true",
                        help="add django-helpdesk's figures and the ratio ours ÷ theirs")
    args = parser.parse_args(argv)
    reports = []
    for size in args.sizes:
        label = size_label(parse_size(size))
        report = load("results", label)
        if report is None:
            print(f"no results for {label}: run `make bench SIZE={label}`", file=sys.stderr)
            continue
        reports.append(report)
        theirs = load("djhelpdesk", label) if args.compare else None
        if args.compare and theirs is None:
            print(f"(no django-helpdesk results for {label})")
        print_results(report, theirs)
    if len(reports) > 1:
        print_growth(reports)
    return 0 if reports else 1


if __name__ == "__main__":
    sys.exit(main())
