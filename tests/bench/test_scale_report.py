"""The scale benchmark's pure parts: sizes, goals, staleness, the report."""

import json

from bench.scale import dataset, goals, report


def test_sizes_parse_and_name_their_database():
    assert dataset.parse_size("10k") == 10_000
    assert dataset.parse_size("100K") == 100_000
    assert dataset.parse_size("1m") == 1_000_000
    assert dataset.parse_size("2500") == 2500
    assert dataset.default_database(1_000_000) == "bench_1m"
    assert dataset.default_database(2500) == "bench_2500"


def test_a_dataset_is_stale_when_a_migration_it_was_built_with_changed():
    from bench.scale.fill import DATASET_VERSION

    current = dataset.migration_fingerprint()
    assert "0001_initial" in current
    marker = {"size": 10_000, "version": DATASET_VERSION, "migrations": dict(current)}
    assert dataset.stale_reason(marker, 10_000) is None
    assert "built for" in dataset.stale_reason(marker, 100_000)
    assert "generator" in dataset.stale_reason({**marker, "version": -1}, 10_000)
    changed = {**current, "0001_initial": "0" * 12}
    assert "0001_initial" in dataset.stale_reason({**marker, "migrations": changed}, 10_000)
    # A migration added after the build is applied to it, not a reason to rebuild.
    older = {k: v for k, v in current.items() if k != max(current)}
    assert dataset.stale_reason({**marker, "migrations": older}, 10_000) is None
    assert dataset.stale_reason(None, 10_000) == "no finished dataset"


def test_goals_judge_time_queries_memory_and_throughput():
    assert goals.judge("list_all", {"median_ms": 80.0, "queries": 12})["pass"] is True
    assert goals.judge("list_all", {"median_ms": 80.0, "queries": 13})["pass"] is False
    assert goals.judge("badge", {"median_ms": 5.1, "queries": 1})["pass"] is False
    export = {"median_ms": 1000.0, "queries": 5, "peak_mb": 40.0, "rows_per_s": 25_000}
    assert goals.judge("export_csv", export)["pass"] is True
    assert goals.judge("export_csv", {**export, "rows_per_s": 19_999})["pass"] is False
    assert goals.judge("export_csv", {**export, "peak_mb": 51})["pass"] is False
    assert goals.judge("citizen_list", {"median_ms": 1.0, "queries": 1}) == {
        "goal": "", "pass": None}
    assert goals.describe("api_list") == "keep ≤45 ms, ≤5 q"


def _report(label, size, pages):
    return {"size": size, "label": label, "database": f"bench_{label}", "runs": 7,
            "machine": {}, "pages": pages}


def test_the_table_shows_the_ratio_against_django_helpdesk(capsys):
    ours = _report("10k", 10_000, {
        "list_all": {"median_ms": 50.0, "spread_ms": 2.0, "queries": 10, "bare_sql_ms": 10.0,
                     "ratio": 5.0, **goals.judge("list_all", {"median_ms": 50.0, "queries": 10})},
        "badge": {"error": "KeyError: boom"},
    })
    theirs = {"version": "9.9.9", "pages": {"list_all": {"median_ms": 200.0, "queries": 40}}}
    report.print_results(ours, theirs)
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("list_all"))
    assert "PASS" in line
    assert "0.250" in line  # 50 ÷ 200
    assert "ERROR KeyError: boom" in out
    assert "django-helpdesk 9.9.9" in out


def test_the_table_tells_how_fast_the_cpu_was(capsys):
    from bench.scale import pages

    reference = pages.cpu_reference(runs=3)
    assert 0 < reference < 10_000
    data = {**_report("10k", 10_000, {}), "machine": {"cpu_reference_ms": [reference, 18.5]}}
    report.print_results(data)
    assert f"CPU reference [{reference}, 18.5] ms" in capsys.readouterr().out
    report.print_results(_report("10k", 10_000, {}))  # older reports have none
    assert "CPU reference" not in capsys.readouterr().out


def test_the_growth_table_puts_sizes_side_by_side(capsys, tmp_path, monkeypatch):
    small = _report("10k", 10_000, {"ticket": {"median_ms": 20.0, "queries": 9}})
    big = _report("1m", 1_000_000, {"ticket": {"median_ms": 30.0, "queries": 9}})
    monkeypatch.setattr(report, "OUTPUT", tmp_path)
    for data in (small, big):
        (tmp_path / f"results-{data['label']}.json").write_text(json.dumps(data))
    assert report.main(["--sizes", "10k", "1m"]) == 0
    out = capsys.readouterr().out
    growth = out[out.index("Growth"):]
    line = next(x for x in growth.splitlines() if x.startswith("ticket"))
    assert "20.0" in line and "30.0" in line and "1.50" in line
    assert report.main(["--sizes", "100k"]) == 1  # nothing measured at that size
