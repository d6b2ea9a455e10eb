"""The citizens' load harness: ``--citizens`` simulated citizens at once,
each completing assistance requests and reports (alternately, a new citizen
every journey) against the production layout for ``--duration`` seconds.

    python -m deploy.layout --database-url postgres://postgres@127.0.0.1:5432/hf \\
        --env HELPDESK_TRUSTED_PROXY_HEADER=HTTP_X_FORWARDED_FOR &
    python -m bench.load --citizens 100 --duration 60

Reports requests/s, complete submissions/s, p50/p95/p99 of every request
(and per step), errors by kind, and *lost* submissions: confirmed to the
citizen but not in the database afterwards (or still a draft). JSON in
``var/bench/load-<citizens>c.json``. The load generator runs on the same
machine: its own CPU time is reported beside the figures.
"""

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import time
from collections import Counter
from pathlib import Path

from . import cpu
from .journeys import Citizen

ROOT = Path(__file__).resolve().parents[2]


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(seconds):
    return {"count": len(seconds),
            "p50_ms": _ms(percentile(seconds, 50)), "p95_ms": _ms(percentile(seconds, 95)),
            "p99_ms": _ms(percentile(seconds, 99)),
            "mean_ms": _ms(statistics.fmean(seconds)) if seconds else None}


def _ms(value):
    return None if value is None else round(value * 1000, 1)


async def citizen_loop(index, base_url, deadline, results, seed, think=0.0):
    import httpx

    rng = random.Random(seed * 1000 + index)  # noqa: S311 (a reproducible load)
    journey = index % 2  # half start with a request, half with a report
    n = 0
    if think:  # people arrive over time, not all in the same instant
        await asyncio.sleep(rng.uniform(0, think))
    while time.monotonic() < deadline:
        address = f"10.{index // 250}.{index % 250}.{n % 250 + 1}"
        # A connection per request, as the reverse proxy it plays opens them
        # to the application (nginx's default): with keep-alive, a citizen
        # pausing about as long as gunicorn's keep-alive (5 s) now and then
        # sent a request on a connection the server was closing (ReadError:
        # 1 in 3,500 requests at --think 6; a browser would retry it). The
        # same CPU per request either way (measured alternately).
        async with httpx.AsyncClient(base_url=base_url, follow_redirects=False, timeout=60,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as client:
            citizen = Citizen(client, rng, address, think)
            result = await (citizen.assistance_request() if journey == 0 else citizen.report())
        result.finished = time.monotonic()
        results.append(result)
        journey, n = 1 - journey, n + 1


async def run_load(base_url, citizens, duration, seed, think=0.0):
    results = []
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(citizen_loop(i, base_url, deadline, results, seed, think)
                           for i in range(citizens)))
    return results, time.monotonic() - started


def lost_submissions(database_url, ticket_ids):
    """Confirmed ticket ids missing from the database (or still drafts)."""
    import psycopg

    if not ticket_ids:
        return []
    with psycopg.connect(database_url) as conn:
        found = {row[0] for row in conn.execute(
            "SELECT id FROM wagtail_helpdesk_ticket WHERE id = ANY(%s) AND status <> 'draft'",
            [list(ticket_ids)])}
    return sorted(set(ticket_ids) - found)


def report(results, elapsed, database_url, citizens, duration, cpu_parts=None):
    timings = [t for r in results for t in r.timings]
    done = [r for r in results if r.ticket_id and not r.error]
    errors = Counter(r.error.split(":")[0] + ": " + r.error.split(":", 1)[-1].strip()[:80]
                     for r in results if r.error)
    by_step = {}
    for t in timings:
        by_step.setdefault(f"{t.journey}:{t.step}", []).append(t.seconds)
    duplicates = len(done) - len({r.ticket_id for r in done})
    usage = resource.getrusage(resource.RUSAGE_SELF)
    web_cpu = (cpu_parts or {}).get("web")
    return {
        "citizens": citizens, "duration_s": duration, "elapsed_s": round(elapsed, 1),
        "requests": len(timings), "requests_per_s": round(len(timings) / elapsed, 1),
        "journeys_started": len(results), "submissions": len(done),
        "submissions_per_s": round(len(done) / elapsed, 2),
        "by_journey": dict(Counter(r.journey for r in done)),
        "latency": summary([t.seconds for t in timings]),
        "steps": {step: summary(values) for step, values in sorted(by_step.items())},
        "errors": sum(errors.values()), "error_kinds": dict(errors.most_common(10)),
        "http_errors": sum(1 for t in timings if t.status >= 400),
        "lost": len(lost_submissions(database_url, [r.ticket_id for r in done])),
        "duplicate_confirmations": duplicates,
        "load_generator_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        # The web server's CPU per request: what the figures become on cores of
        # its own (2 cores / this = the requests/s it could serve).
        "web_cpu_s": None if web_cpu is None else round(web_cpu, 1),
        "web_cpu_ms_per_request": (None if not web_cpu or not timings
                                   else round(1000 * web_cpu / len(timings), 1)),
        "machine": {"cores": cpu.cores(), "load_average": os.getloadavg()},
        # Every part's CPU per submission and what these cores could sustain
        # at that cost (bench/load/cpu.py).
        "cpu_s": None if cpu_parts is None else {k: round(v, 1) for k, v in cpu_parts.items()},
        "cost": cpu.per_submission(cpu_parts, len(done), cpu.cores()),
    }


def print_report(data):
    lat = data["latency"]
    pause = f", {data['think_s']} s on each step" if data.get("think_s") else ""
    print(f"\n{data['citizens']} citizens{pause} for {data['elapsed_s']} s "
          f"(load generator CPU {data['load_generator_cpu_s']} s, same machine)")
    print(f"  requests     {data['requests']:>7}   {data['requests_per_s']:>7} /s")
    print(f"  submissions  {data['submissions']:>7}   {data['submissions_per_s']:>7} /s   "
          f"{data['by_journey']}")
    print(f"  latency      p50 {lat['p50_ms']} ms   p95 {lat['p95_ms']} ms   "
          f"p99 {lat['p99_ms']} ms")
    if data["web_cpu_ms_per_request"]:
        print(f"  web server   {data['web_cpu_s']} CPU s, "
              f"{data['web_cpu_ms_per_request']} CPU ms per request "
              f"(load average {data['machine']['load_average'][0]:.1f} on "
              f"{data['machine']['cores']} cores)")
    if data.get("cost"):
        ms = data["cost"]["cpu_ms_per_submission"]
        parts = ", ".join(f"{part} {value}" for part, value in
                          sorted(ms.items(), key=lambda item: -item[1]) if part != "machine")
        print(f"  CPU per submission  {ms['machine']} ms on the machine: {parts}")
        if data["cost"]["ceiling_submissions_per_s"]:
            print(f"  at that cost {data['machine']['cores']} cores sustain at most "
                  f"{data['cost']['ceiling_submissions_per_s']} submissions/s")
    drained = data.get("workers_drain")
    if drained and drained["idle"]:
        print(f"  task workers busy {drained['busy_s']} s after the run "
              "(counted in the CPU above)")
    elif drained:
        print(f"  WARNING: the task workers were still busy {drained['busy_s']} s after the "
              "run: the CPU above misses what they had left to do")
    print(f"  errors {data['errors']}   lost {data['lost']}   "
          f"(HTTP errors {data['http_errors']})")
    for kind, count in data["error_kinds"].items():
        print(f"    {count:>5}  {kind}")
    print(f"  {'step':<24}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for step, s in data["steps"].items():
        print(f"  {step:<24}{s['count']:>7}{s['p50_ms']:>9}{s['p95_ms']:>9}{s['p99_ms']:>9}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layout", default=str(ROOT / "var" / "layout" / "layout.json"),
                        help="the JSON python -m deploy.layout writes (url, database)")
    parser.add_argument("--url", help="the site's base URL (instead of --layout)")
    parser.add_argument("--database-url", help="its database (instead of --layout)")
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a citizen spends on each step before sending it "
                             "(default 0: back to back)")
    parser.add_argument("--output", help="JSON file (default var/bench/load-<N>c.json)")
    args = parser.parse_args(argv)
    url, database_url, pids = args.url, args.database_url, {}
    if not (url and database_url):
        layout = json.loads(Path(args.layout).read_text())
        url, database_url = url or layout["url"], database_url or layout["database_url"]
        pids = layout.get("pids", {})
    before = cpu.Snapshot(pids)
    results, elapsed = asyncio.run(run_load(url, args.citizens, args.duration, args.seed,
                                            args.think))
    # What the run queued (notifications, embeddings) is part of its cost.
    drained = cpu.drain(pids)
    parts = cpu.used(before, cpu.Snapshot(pids))
    data = report(results, elapsed, database_url, args.citizens, args.duration, parts)
    data["think_s"] = args.think
    data["workers_drain"] = drained
    think = f"-think{args.think:g}" if args.think else ""
    output = Path(args.output or ROOT / "var" / "bench" / f"load-{args.citizens}c{think}.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=2))
    print_report(data)
    print(f"\nJSON: {output}")
    return data


if __name__ == "__main__":
    main()
