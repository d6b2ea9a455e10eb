"""The goals of issue 20 for 1,000,000 tickets, as data, and the verdict of
one measured page against its goal."""

#: Goals that hold at 1M tickets. Pages marked "keep" must stay where they
#: were when the issue was written (its "now" figures).
GOALS = {
    **{f"list_{queue}": {"ms": 100, "queries": 12}
       for queue in ("pending", "mine", "others", "waiting", "closed", "drafts", "consults",
                     "all")},
    "list_filter_status_office": {"ms": 100},
    "search_short_code": {"ms": 30},
    "search_fiscal_code": {"ms": 30},
    # The same searches as the list's search box sends them (the results
    # alone, Wagtail's w-swap): what an operator typing waits for.
    "search_short_code_typed": {"ms": 30},
    "search_fiscal_code_typed": {"ms": 30},
    "search_word": {"ms": 150},
    "list_deep": {"ms": 100},
    "export_csv": {"peak_mb": 50, "rows_per_s": 20_000},
    "ticket_200": {"ms": 60, "queries": 12},
    "ticket": {"ms": 60, "queries": 12},
    "dashboard": {"ms": 150},
    "badge": {"ms": 5},
    "api_list": {"ms": 45, "queries": 5, "keep": True},
    "api_deep": {"ms": 31, "keep": True},
    "api_detail": {"ms": 15, "keep": True},
}


def describe(key):
    goal = GOALS.get(key)
    if not goal:
        return ""
    parts = []
    if "ms" in goal:
        parts.append(f"≤{goal['ms']} ms")
    if "queries" in goal:
        parts.append(f"≤{goal['queries']} q")
    if "peak_mb" in goal:
        parts.append(f"≤{goal['peak_mb']} MB")
    if "rows_per_s" in goal:
        parts.append(f"≥{goal['rows_per_s']:,} rows/s")
    return ("keep " if goal.get("keep") else "") + ", ".join(parts)


def judge(key, row):
    """{"goal": text, "pass": True/False/None (no goal or nothing measured)}."""
    goal = GOALS.get(key)
    if not goal or row.get("median_ms") is None:
        return {"goal": describe(key), "pass": None}
    checks = []
    if "ms" in goal:
        checks.append(row["median_ms"] <= goal["ms"])
    if "queries" in goal:
        checks.append(row["queries"] <= goal["queries"])
    if "peak_mb" in goal and row.get("peak_mb") is not None:
        checks.append(row["peak_mb"] <= goal["peak_mb"])
    if "rows_per_s" in goal:
        checks.append((row.get("rows_per_s") or 0) >= goal["rows_per_s"])
    return {"goal": describe(key), "pass": all(checks) if checks else None}
