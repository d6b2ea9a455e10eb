"""Where a citizen request's time goes: the journeys of the load harness run
in this process (Django's test client, the layout's settings and database),
profiled. For each step: server time median, queries, and the share of time
spent in page rendering (templates, blocks), session reads/writes, the rate
limits (cache), the submission (``services.submit_web_ticket``), SQL
(psycopg) and Redis; then pyinstrument's call tree of the slowest kinds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hf REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.load.profile --journeys 20

Run it against a layout database (``python -m deploy.layout`` migrated it and
``bench.load.seed`` fills the catalogue, done here too).
"""

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Functions whose cumulative time is a category (module path fragment, name).
CATEGORIES = {
    "template rendering (pages, blocks, forms)": [("django/template/base.py", "render")],
    "session load": [("django/contrib/sessions/backends/base.py", "_get_session")],
    "session save": [("django/contrib/sessions/middleware.py", "process_response")],
    "rate limits (throttle.allow)": [("wagtail_helpdesk/throttle.py", "allow")],
    "submission (services.submit_web_ticket)": [("services", "submit_web_ticket")],
    "step forms (flow.handle)": [("wagtail_helpdesk/citizen/flows.py", "handle")],
    "SQL (psycopg execute)": [("psycopg/cursor.py", "execute")],
    "Redis commands": [("redis/client.py", "execute_command")],
    "CSRF token / check": [("django/middleware/csrf.py", "process_view")],
}


def setup():
    layout = ROOT / "var" / "layout" / "layout.json"
    if layout.exists():  # the running layout's database, Redis and queue (its workers)
        described = json.loads(layout.read_text())
        os.environ.setdefault("DATABASE_URL", described["database_url"])
        os.environ.setdefault("REDIS_URL", described["redis_url"])
        os.environ.setdefault("HELPDESK_REDIS_PREFIX", described["prefix"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings_scale")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "profile-only-" + "x" * 40)
    os.environ.setdefault("HELPDESK_STATIC_STORAGE",
                          "django.contrib.staticfiles.storage.StaticFilesStorage")
    os.environ.setdefault("HELPDESK_TRUSTED_PROXY_HEADER", "HTTP_X_FORWARDED_FOR")
    os.environ.setdefault("HELPDESK_GEOCODER_URL", "")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class Step:
    def __init__(self, name):
        self.name, self.seconds, self.queries = name, [], []


def run_journeys(count, seed, profiler=None, steps=None):
    """``count`` journeys (requests and reports alternately) through the test
    client; per step: server time and queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from .journeys import DONE, REPORT_PAGE, REQUEST_PAGE, SUBMIT_URL, fiscal_code, text

    steps = {} if steps is None else steps
    rng = random.Random(seed)  # noqa: S311 (a reproducible load, not a secret)

    def timed(name, call):
        step = steps.setdefault(name, Step(name))
        with CaptureQueriesContext(connection) as queries:
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            response = call()
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.disable()
        step.seconds.append(elapsed)
        step.queries.append(len(queries))
        if response.status_code >= 400:
            raise RuntimeError(f"{name}: HTTP {response.status_code}")
        return response

    def option(html, name):
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
        return re.findall(r'<option value="(\d+)"', select.group(1))[0]

    for n in range(count):
        client = Client(HTTP_X_FORWARDED_FOR=f"10.200.{n // 250}.{n % 250 + 1}",
                        HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1",
                        enforce_csrf_checks=True)
        given, family, code = fiscal_code(rng)
        person = {"given_name": given, "family_name": family, "fiscal_code": code,
                  "email": f"p{rng.randrange(10**9)}@example.org", "phone": ""}
        kind = "request" if n % 2 == 0 else "report"
        page = REQUEST_PAGE if kind == "request" else REPORT_PAGE
        html = timed(f"{kind}:page", lambda p=page, c=client: c.get(p)).content.decode()
        action = SUBMIT_URL.search(html).group(1)
        referer = {"HTTP_REFERER": f"https://127.0.0.1{page}"}

        def post(step, data, client=client, action=action, page=page, kind=kind,
                 referer=referer):
            data = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "website": "",
                    **data}
            timed(f"{kind}:{step}", lambda: client.post(action, data, **referer))
            return timed(f"{kind}:{step}:page", lambda: client.get(page)).content.decode()

        if kind == "request":
            html = post("details", {"action": "next", "category": option(html, "category"),
                                    "service": option(html, "service"),
                                    "details": text(rng)})
            html = post("person", {"action": "next", **person})
            html = post("submit", {"action": "submit", "privacy": "on"})
        else:
            html = post("privacy", {"action": "next", "privacy": "on"})
            html = post("details", {
                "action": "next", "address": "Via del Corso 12", "latitude": "41.902800",
                "longitude": "12.496400", "category": option(html, "category"),
                "title": "Buca", "details": text(rng),
                **{f"author-{k}": v for k, v in person.items()}})
            html = post("submit", {"action": "submit"})
        if not DONE.search(html):
            raise RuntimeError(f"{kind} journey {n}: no confirmation")
    return steps


def categories(profile):
    stats = pstats.Stats(profile)
    found = {}
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for label, patterns in CATEGORIES.items():
            if any(fragment in filename and name == fname for fragment, fname in patterns):
                # Several code objects of one name (Template.render, Node.render):
                # the outermost, the largest, holds the others.
                found[label] = max(found.get(label, 0.0), cumulative)
    return found, stats.total_tt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tree", default="request:submit,request:page",
                        help="steps whose pyinstrument tree is printed")
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "load-profile.json"))
    args = parser.parse_args(argv)
    setup()
    from .seed import seed

    seed()
    run_journeys(args.warmup, args.seed + 1)  # warm caches, connections, templates
    steps = run_journeys(args.journeys, args.seed)
    print(f"\n{args.journeys} journeys in-process (test client, settings_scale): per request")
    print(f"  {'step':<24}{'n':>5}{'median ms':>11}{'queries':>9}")
    table = {}
    for name, step in sorted(steps.items()):
        median = statistics.median(step.seconds) * 1000
        table[name] = {"median_ms": round(median, 1), "queries": max(step.queries)}
        print(f"  {name:<24}{len(step.seconds):>5}{median:>11.1f}{max(step.queries):>9}")

    profiler = cProfile.Profile()
    run_journeys(args.journeys, args.seed + 2, profiler=profiler)
    found, total = categories(profiler)
    print(f"\nWhere the time goes (cProfile, {args.journeys} journeys, {total:.2f} s "
          "of profiled server time; categories overlap: rendering includes its SQL):")
    shares = {}
    for label, seconds in sorted(found.items(), key=lambda kv: -kv[1]):
        shares[label] = round(100 * seconds / total, 1)
        print(f"  {shares[label]:>5.1f} %  {label}")

    trees = {}
    try:
        from pyinstrument import Profiler
    except ImportError:  # the [scale] extra brings it
        Profiler = None
    for name in filter(None, args.tree.split(",")):
        if Profiler is None:
            break
        kind, step = name.split(":", 1)
        tree_profiler = Profiler(interval=0.0005)
        tree_steps = {}
        tree_profiler.start()
        run_journeys(6, args.seed + 3, steps=tree_steps)
        tree_profiler.stop()
        text_tree = tree_profiler.output_text(unicode=False, color=False, show_all=False)
        trees[name] = text_tree
        print(f"\n--- pyinstrument: 6 journeys (look for {name}) ---")
        print("\n".join(text_tree.splitlines()[:70]))
        break  # one tree covers every step of both journeys
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": table, "shares_percent": shares,
                               "profiled_seconds": round(total, 2), "trees": trees}, indent=2))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
