"""Measure django-helpdesk's staff pages and REST API the way bench/scale does.

Runs INSIDE var/bench/djh-venv (started by run.py) against a database built
by bench/djhelpdesk/dataset.py. Django's test Client, logged in as the staff
operator of 3 queues recorded in the dataset marker; one warm-up request,
then ``--runs`` timed ones; server time (the Client runs the view in
process), query count and the time spent in SQL (a connection
execute_wrapper), median and spread (max - min).

Every page is measured in a child process so that one page cannot hang the
run: a request slower than ``--timeout`` seconds kills the child and the page
is recorded as a timeout (``median_ms`` = the cap, ``timeout: true``); a page
whose runs exceed ``--budget`` seconds stops early and records how many runs
it made.

Pages (JSON keys shared with bench/scale/pages.py):
  list_all    the staff ticket list, every status, newest first: the HTML
              page plus the first datatables JSON page that it loads (a
              browser needs both to show the rows); time and queries summed
  ticket      an ordinary open ticket's staff page (3 follow-ups)
  ticket_200  a ticket with 200 follow-ups
  dashboard   the staff dashboard
  api_list    REST API GET /api/tickets/ page 1 (25 per page)
"""

import argparse
import json
import os
import re
import selectors
import statistics
import subprocess
import sys
import time

PAGES = ("list_all", "ticket", "ticket_200", "dashboard", "api_list")
ALL_STATUSES = "status=1&status=2&status=3&status=4&status=5"


class QueryMeter:
    """Counts queries and the time spent executing them."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def page_urls(page, marker, client):
    """The request(s) that make up one page, resolved once before timing."""
    base = "/helpdesk"
    if page == "list_all":
        shell = f"{base}/tickets/?{ALL_STATUSES}&sort=created&sortreverse=on"
        response = client.get(shell)
        if response.status_code != 200:
            raise SystemExit(f"{shell} answered {response.status_code}")
        found = re.search(r"datatables_ticket_list/([A-Za-z0-9+/=]+)", response.content.decode())
        if not found:
            raise SystemExit("the ticket list no longer names its datatables URL")
        data = (
            f"{base}/datatables_ticket_list/{found.group(1)}"
            "?draw=1&start=0&length=25&order[0][column]=5&order[0][dir]=desc"
        )
        return [shell, data]
    if page == "ticket":
        return [f"{base}/tickets/{marker['ticket_id']}/"]
    if page == "ticket_200":
        return [f"{base}/tickets/{marker['ticket_200_id']}/"]
    if page == "dashboard":
        return [f"{base}/dashboard/"]
    if page == "api_list":
        return [f"{base}/api/tickets/"]
    raise ValueError(page)


def child(page, runs, budget):
    """Measure one page; print one JSON line per run (the first is warm-up)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.djhelpdesk.dataset import read_marker

    marker = read_marker()
    user = get_user_model().objects.get(username=marker["username"])
    client = Client()
    client.force_login(user)
    urls = page_urls(page, marker, client)
    print(json.dumps({"ready": True}), flush=True)
    started = time.monotonic()
    for run in range(runs + 1):
        meter = QueryMeter()
        total = 0.0
        with connection.execute_wrapper(meter):
            for url in urls:
                t0 = time.perf_counter()
                response = client.get(url)
                total += time.perf_counter() - t0
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
        line = {
            "warmup": run == 0,
            "ms": total * 1000,
            "queries": meter.count,
            "sql_ms": meter.seconds * 1000,
            "bytes": len(response.content),
        }
        print(json.dumps(line), flush=True)
        if run >= 1 and time.monotonic() - started > budget:
            break


def run_page(page, args):
    """Run the child for one page; return its summary (or a timeout record)."""
    cmd = [
        sys.executable,
        "-m",
        "bench.djhelpdesk.measure",
        "--child",
        page,
        "--runs",
        str(args.runs),
        "--budget",
        str(args.budget),
    ]
    proc = subprocess.Popen(  # noqa: S603  (this very module)
        cmd, stdout=subprocess.PIPE, text=True, env=os.environ
    )
    lines = []
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    timed_out = False
    ready = False
    while True:
        # Django's start-up (and, for list_all, resolving the data URL) is
        # not a measured request: it gets a minute more.
        if not sel.select(timeout=args.timeout + (0 if ready else 60)):
            timed_out = True
            proc.kill()
            break
        line = proc.stdout.readline()
        if not line:
            break
        parsed = json.loads(line)
        if parsed.get("ready"):
            ready = True
        else:
            lines.append(parsed)
    proc.wait()
    runs = [line for line in lines if not line["warmup"]]
    if timed_out and not runs:
        return {
            "median_ms": args.timeout * 1000.0,
            "spread_ms": 0.0,
            "queries": lines[0]["queries"] if lines else None,
            "timeout": True,
            "runs": 0,
            "note": f"a request took more than {args.timeout:g} s: stopped",
        }
    if not timed_out and (proc.returncode != 0 or not runs):
        # Recorded, not fatal: the other pages are still measured.
        return {
            "median_ms": None,
            "spread_ms": None,
            "queries": None,
            "timeout": False,
            "runs": 0,
            "error": f"the measuring process exited with {proc.returncode} (see stderr)",
        }
    times = [r["ms"] for r in runs]
    return {
        "median_ms": round(statistics.median(times), 1),
        "spread_ms": round(max(times) - min(times), 1),
        "queries": runs[-1]["queries"],
        "sql_ms": round(statistics.median(r["sql_ms"] for r in runs), 1),
        "bytes": runs[-1]["bytes"],
        "runs": len(runs),
        "timeout": timed_out,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="Measure django-helpdesk pages.")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds one request may take before the page is recorded as a timeout (default 60)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=240.0,
        help="seconds of timed runs per page before stopping early with fewer runs (default 240)",
    )
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--output", help="write the JSON results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.djhelpdesk.settings")
    if args.child:
        child(args.child, args.runs, args.budget)
        return 0
    results = {}
    for page in args.pages.split(","):
        results[page] = run_page(page, args)
        r = results[page]
        if r.get("error"):
            print(f"  djh {page:<12} ERROR {r['error']}", flush=True)
            continue
        print(
            f"  djh {page:<12} {r['median_ms']:>10.1f} ms  ±{r['spread_ms']:<8.1f}"
            f" {r['queries']!s:>7} q  runs={r['runs']}" + ("  TIMEOUT" if r["timeout"] else ""),
            flush=True,
        )
    from importlib.metadata import version

    report = {
        "pages": results,
        "version": version("django-helpdesk"),
        "django": version("Django"),
        "database": os.environ.get("DJH_DATABASE"),
        "runs": args.runs,
        "timeout_s": args.timeout,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "per_queue_permission": os.environ.get("DJH_PER_QUEUE", "1") == "1",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
    else:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
