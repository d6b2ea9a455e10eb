"""Load django-helpdesk's tables to the same shapes as bench/scale/dataset.py.

Runs INSIDE var/bench/djh-venv (started by run.py), against its own
PostgreSQL database ``djh_<size>`` (e.g. ``djh_10k``):

    DJH_DATABASE=djh_10k DJANGO_SETTINGS_MODULE=bench.djhelpdesk.settings \
        var/bench/djh-venv/bin/python -m bench.djhelpdesk.dataset --size 10000

Shapes (mirroring bench/scale/fill.py): 20 offices -> 20 queues (70% of
tickets through services skewed towards the first offices, 30% uniform),
200 operators -> 200 staff users granted queues through one group per queue
(the per-queue staff permission mode): one queue each, three for every
fourth; 30% of N submitter addresses (88% of tickets uniform over them, 10%
over the busiest 2%, 2% anonymous); N tickets over 4 years, open with
probability 0.61 in the last 180 days and 0.085 before (so ~85% resolved;
"waiting" ones on hold; resolved and in-progress ones assigned, 20% of new
ones); 3 follow-ups per ticket (opened, operator reply, resolution or the
citizen's further message; a status TicketChange on each resolution); one
open ticket with 200 follow-ups. Italian-ish words in titles and
descriptions.

Queues and users go through the ORM (so django-helpdesk's own signals create
the queue permissions and user settings); tickets and follow-ups are bulk
SQL with ``generate_series``. A marker table records the size and the shape
version: an existing database with the same marker is reused unless
``--rebuild``.
"""

import argparse
import os
import sys
import time

from bench.djhelpdesk.run import parse_size, size_label

SHAPE_VERSION = 3
OFFICES = 20
OPERATORS = 200
# Like bench/scale: operator i (1-based) works in one queue, every fourth in
# three; the measured one (5) works in three.
MEASURED_USERNAME = "operatore5"
PASSWORD = "bench-password"  # noqa: S105  (benchmark users; force_login)

WORDS = (
    "richiesta certificato anagrafe residenza rifiuti raccolta strada buca "
    "illuminazione parcheggio multa tributi tari imu scuola mensa trasporto "
    "biblioteca verde parco albero potatura fognatura acqua perdita rumore "
    "condominio permesso edilizia cantiere segnalazione rimborso pagamento "
    "bollettino scadenza anziani assistenza disabili contributo affitto casa "
    "sportello appuntamento documento identita carta elettorale tessera "
    "cimitero loculo mercato commercio licenza marciapiede semaforo autobus "
    "fermata pista ciclabile graffiti degrado sicurezza vigili animali randagi"
).split()
FIRST_NAMES = (
    "marco giulia luca francesca alessandro chiara andrea sara matteo elena "
    "giuseppe anna paolo laura stefano valentina roberto martina davide silvia"
).split()


STARTED = time.monotonic()


def log(msg):
    print(f"[djh dataset {time.monotonic() - STARTED:7.1f}s] {msg}", flush=True)


def admin_connection():
    """A connection to the maintenance database, to create or drop ours."""
    import psycopg

    return psycopg.connect(
        host=os.environ.get("DJH_PGHOST", "127.0.0.1"),
        port=os.environ.get("DJH_PGPORT", "5432"),
        user=os.environ.get("DJH_PGUSER", "postgres"),
        dbname="postgres",
        autocommit=True,
    )


def ensure_database(name, rebuild):
    """Create (or with rebuild, recreate) the database; return True if new."""
    with admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            log(f"dropping database {name}")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def drop_database(name):
    if not name.startswith("djh_"):
        raise ValueError(f"refusing to drop {name}: not a djh_ database")
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    log(f"dropped database {name}")


def read_marker():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('djh_bench_marker')")
        if cur.fetchone()[0] is None:
            return None
        cur.execute(
            "SELECT size, shape_version, ticket_id, ticket_200_id, username FROM djh_bench_marker"
        )
        row = cur.fetchone()
    if not row:
        return None
    keys = ("size", "shape_version", "ticket_id", "ticket_200_id", "username")
    return dict(zip(keys, row, strict=True))


def build_people():
    """Queues (offices), one group per queue, 200 operators in 3 groups each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from helpdesk.models import Queue

    User = get_user_model()
    queues = []
    for i in range(OFFICES):
        queue = Queue.objects.create(
            title=f"Ufficio {WORDS[i].capitalize()} {i + 1}",
            slug=f"ufficio-{i + 1}",
            allow_public_submission=False,
        )
        queues.append(queue)
    groups = []
    for queue in queues:
        group = Group.objects.create(name=f"Operatori {queue.slug}")
        codename = queue.permission_name.split(".", 1)[1]
        group.permissions.add(Permission.objects.get(codename=codename))
        groups.append(group)
    log(f"{len(queues)} queues with their permissions and groups")
    for i in range(1, OPERATORS + 1):
        user = User(
            username=f"operatore{i}",
            email=f"operatore{i}@comune.example.it",
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)].capitalize(),
            last_name=f"Operatore{i}",
            is_staff=True,
            is_active=True,
        )
        user.set_password(PASSWORD)
        user.save()  # django-helpdesk's post_save creates its UserSettings
        for k in operator_queue_indexes(i):
            user.groups.add(groups[k])
    log(f"{OPERATORS} staff operators (one in four in three queues)")


def operator_queue_indexes(i):
    """Queue indexes of operator i (1-based): its home queue, or three."""
    home = (i - 1) % OFFICES
    if i % 4 == 1:
        return [home, (home + 1) % OFFICES, (home + 2) % OFFICES]
    return [home]


SQL_OPERATORS = """
CREATE TEMP TABLE djh_queue_ops AS
SELECT q.id AS queue_id,
       (row_number() OVER (PARTITION BY q.id ORDER BY u.id)) - 1 AS idx,
       u.id AS user_id
FROM helpdesk_queue q
JOIN auth_permission p ON 'helpdesk.' || p.codename = q.permission_name
JOIN auth_group_permissions gp ON gp.permission_id = p.id
JOIN auth_user_groups ug ON ug.group_id = gp.group_id
JOIN auth_user u ON u.id = ug.user_id;
CREATE INDEX ON djh_queue_ops (queue_id, idx);
CREATE TEMP TABLE djh_queue_nops AS
SELECT queue_id, count(*) AS n FROM djh_queue_ops GROUP BY queue_id;
CREATE TEMP TABLE djh_queues AS
SELECT (row_number() OVER (ORDER BY id)) - 1 AS idx, id FROM helpdesk_queue;
"""

# One row per ticket with every random draw, so that the ticket and its
# follow-ups agree (dates, operator, status).
SQL_DRAWS = """
SELECT setseed(0.42);
CREATE UNLOGGED TABLE djh_draws AS
SELECT g AS id,
       -- created spread over ~4 years, increasing with id, with jitter
       (now() - interval '4 years'
          + (g::float8 / %(n)s) * interval '4 years'
          - random() * interval '6 hours') AS created,
       random() AS r_status,
       random() AS r_open,
       random() AS r_kind,
       random() AS r_svc,
       random() AS r_op,
       random() AS r_cit,
       random() AS r_cit2,
       (ARRAY[1,2,3,3,3,3,4,4,5])[1 + floor(random() * 9)::int] AS priority,
       floor(random() * %(nwords)s)::int AS w1,
       floor(random() * %(nwords)s)::int AS w2,
       floor(random() * %(nwords)s)::int AS w3,
       floor(random() * %(nfirst)s)::int AS fn,
       (interval '1 hour' * (1 + random() * 40)) AS first_reply,
       (interval '1 day' * (1 + random() * 20)) AS resolve_after
FROM generate_series(1, %(n)s) AS g;
CREATE UNLOGGED TABLE djh_drawn AS
SELECT *,
       CASE WHEN r_status < CASE WHEN now() - created < interval '180 days'
                                 THEN 0.61 ELSE 0.085 END
            THEN 1 ELSE 3 END AS status,
       r_status < CASE WHEN now() - created < interval '180 days'
                       THEN 0.61 ELSE 0.085 END AND r_open >= 0.8 AS waiting,
       -- new (not yet taken) open tickets are assigned one time in five
       NOT (r_status < CASE WHEN now() - created < interval '180 days'
                            THEN 0.61 ELSE 0.085 END
            AND r_open < 0.35 AND r_op >= 0.2) AS assigned,
       CASE WHEN r_kind < 0.7
            THEN floor(%(offices)s * power(r_svc, 1.2))::int
            ELSE floor(%(offices)s * r_svc)::int END AS queue_idx,
       CASE WHEN r_cit < 0.02 THEN NULL
            WHEN r_cit < 0.9 THEN 1 + floor(r_cit2 * %(citizens)s)::int
            ELSE 1 + floor(power(r_cit2, 1.5) * greatest(1, %(citizens)s / 50))::int
       END AS citizen
FROM djh_draws;
DROP TABLE djh_draws;
ALTER TABLE djh_drawn RENAME TO djh_draws;
CREATE UNIQUE INDEX ON djh_draws (id);
"""

SQL_TICKETS = """
INSERT INTO helpdesk_ticket (
    id, title, created, modified, submitter_email, status, on_hold,
    description, resolution, priority, due_date, last_escalation,
    assigned_to_id, queue_id, secret_key, kbitem_id, merged_to_id)
SELECT d.id,
       initcap(w.words[1 + d.w1]) || ' ' || w.words[1 + d.w2] || ' '
         || w.words[1 + d.w3] || ' n. ' || d.id,
       d.created,
       CASE WHEN d.status IN (3, 4)
            THEN LEAST(d.created + d.resolve_after, now())
            ELSE LEAST(d.created + d.first_reply, now()) END,
       'cittadino' || d.citizen || '@example.it',
       d.status,
       d.waiting,
       'Buongiorno, sono ' || initcap(w.first[1 + d.fn]) || ' e scrivo per '
         || w.words[1 + d.w1] || ' ' || w.words[1 + d.w2] || ': '
         || w.words[1 + d.w3] || ' ' || w.words[1 + (d.w1 + d.w3) %% %(nwords)s]
         || ' da verificare presso ' || w.words[1 + (d.w2 + 7) %% %(nwords)s]
         || '. Grazie per l''attenzione.',
       CASE WHEN d.status IN (3, 4)
            THEN 'Risolto: ' || w.words[1 + d.w2] || ' sistemato.' END,
       d.priority,
       NULL, NULL,
       CASE WHEN d.assigned THEN o.user_id END,
       q.id,
       md5(d.id::text || 'djh')::uuid::text,
       NULL, NULL
FROM djh_draws d
JOIN djh_queues q ON q.idx = d.queue_idx
JOIN djh_queue_nops n ON n.queue_id = q.id
JOIN djh_queue_ops o ON o.queue_id = q.id AND o.idx = floor(d.r_op * n.n)::int
CROSS JOIN (SELECT %(words)s::text[] AS words, %(first)s::text[] AS first) w;
"""

# 3 follow-ups per ticket: the opening message, an operator's reply, then the
# resolution (status change) or, for open tickets, the citizen's reply.
SQL_FOLLOWUPS = """
INSERT INTO helpdesk_followup (
    date, title, comment, public, new_status, ticket_id, user_id,
    message_id, time_spent, email_recipients)
SELECT t.created, 'Ticket Opened', t.description, true, NULL::int, t.id,
       NULL::int, NULL::varchar, NULL::interval, NULL::jsonb
FROM helpdesk_ticket t
UNION ALL
SELECT LEAST(t.created + d.first_reply, now()), 'Comment',
       'Gentile cittadino, abbiamo preso in carico la richiesta relativa a '
         || lower(t.title) || '.',
       true, NULL, t.id, COALESCE(t.assigned_to_id, o.user_id),
       NULL, interval '10 minutes', NULL
FROM helpdesk_ticket t
JOIN djh_draws d ON d.id = t.id
JOIN djh_queue_ops o ON o.queue_id = t.queue_id AND o.idx = 0
UNION ALL
SELECT t.modified,
       CASE WHEN t.status = 4 THEN 'Closed' WHEN t.status = 3 THEN 'Resolved'
            ELSE 'Comment' END,
       COALESCE(t.resolution, 'Vi ringrazio, resto in attesa di notizie.'),
       true,
       CASE WHEN t.status IN (3, 4) THEN t.status END,
       t.id,
       CASE WHEN t.status IN (3, 4) THEN t.assigned_to_id END,
       NULL, NULL, NULL
FROM helpdesk_ticket t;
"""

SQL_CHANGES = """
INSERT INTO helpdesk_ticketchange (field, old_value, new_value, followup_id)
SELECT 'Status', 'Open', CASE WHEN f.new_status = 4 THEN 'Closed' ELSE 'Resolved' END, f.id
FROM helpdesk_followup f WHERE f.new_status IS NOT NULL;
"""

SQL_LONG_TICKET = """
INSERT INTO helpdesk_followup (
    date, title, comment, public, new_status, ticket_id, user_id,
    message_id, time_spent, email_recipients)
SELECT t.created + (g * interval '37 minutes'), 'Comment',
       'Aggiornamento numero ' || g || ' sulla pratica: ' || lower(t.title) || '.',
       g %% 5 <> 0, NULL, t.id,
       CASE WHEN g %% 2 = 0 THEN t.assigned_to_id END,
       NULL, NULL, NULL
FROM helpdesk_ticket t, generate_series(1, 197) AS g
WHERE t.id = %(ticket)s;
"""


def pick_tickets(user):
    """Like bench/scale: an ordinary ticket (the newest resolved one with an
    operator, in the user's queues) and an open one, at least a month old,
    that gets the 200 follow-ups."""
    from datetime import timedelta

    from django.utils import timezone
    from helpdesk.user import HelpdeskUser

    visible = HelpdeskUser(user).accessible_tickets().order_by("-id")
    ids = visible.values_list("id", flat=True)
    ordinary = ids.filter(status=3, assigned_to__isnull=False).first()
    open_ones = ids.filter(status=1, on_hold=False, assigned_to__isnull=False)
    month_ago = timezone.now() - timedelta(days=30)
    long_one = open_ones.filter(created__lt=month_ago).first() or open_ones.first()
    return ordinary, long_one


def build(size):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    log("migrate")
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        build_people()
    params = {
        "n": size,
        "offices": OFFICES,
        "citizens": max(1, int(size * 0.3)),
        "nwords": len(WORDS),
        "nfirst": len(FIRST_NAMES),
        "words": WORDS,
        "first": FIRST_NAMES,
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(SQL_OPERATORS)
        cur.execute(SQL_DRAWS, params)
        log("random draws")
        cur.execute(SQL_TICKETS, params)
        log(f"{cur.rowcount} tickets")
        cur.execute(SQL_FOLLOWUPS, params)
        log(f"{cur.rowcount} follow-ups")
        cur.execute(SQL_CHANGES)
        log(f"{cur.rowcount} status changes")
        cur.execute("DROP TABLE djh_draws")
        for table in ("helpdesk_ticket", "helpdesk_followup", "helpdesk_ticketchange"):
            # Table names are the constants above, never input.
            sql = "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(max(id), 1) FROM {}))"
            cur.execute(sql.format(table), [table])
    user = get_user_model().objects.get(username=MEASURED_USERNAME)
    ordinary, long_one = pick_tickets(user)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(SQL_LONG_TICKET, {"ticket": long_one})
        cur.execute(
            "CREATE TABLE djh_bench_marker (size integer, shape_version integer, "
            "ticket_id integer, ticket_200_id integer, username text, "
            "built_at timestamptz DEFAULT now())"
        )
        cur.execute(
            "INSERT INTO djh_bench_marker VALUES (%s, %s, %s, %s, %s)",
            [size, SHAPE_VERSION, ordinary, long_one, MEASURED_USERNAME],
        )
    log(f"ticket {long_one} has 200 follow-ups; ordinary ticket {ordinary}")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    log("vacuum analyze done")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", required=True, help="tickets: 10000, 10k, 100k, 1m")
    parser.add_argument("--database", help="default djh_<size label>")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    name = args.database or f"djh_{size_label(size)}"
    os.environ["DJH_DATABASE"] = name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.djhelpdesk.settings")
    fresh = ensure_database(name, args.rebuild)

    import django

    django.setup()
    marker = None if fresh else read_marker()
    if marker and marker["size"] == size and marker["shape_version"] == SHAPE_VERSION:
        log(f"reusing {name}: {marker}")
        return 0
    if not fresh:
        from django.db import connection

        connection.close()
        ensure_database(name, rebuild=True)
    build(size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
