# ruff: noqa: S608  -- table names are module constants; values are always parameters
"""Fill a migrated database with the benchmark's shapes, in bulk SQL.

20 offices, 5 services and 2 report categories each, 200 operators (20 of
them supervisors; one in four works in three offices) in the real groups,
citizens as 30% of the tickets (some with many tickets), the tickets (both
kinds, every channel, ~85% resolved, four years of dates, sequential short
codes, Italian-ish words), their timeline (~3 events each, one ticket with
200), labels. Every column the services layer keeps is consistent with the
events: submitted/first response/resolved times, last activity, unread
count, version, short-code counters.

Works on any migrated PostgreSQL database through a Django connection (the
tests fill their own test database with it). Reproducible: fixed seeds.
"""

import threading
import time

from . import fill_tickets, words

#: Bump when the generated data changes shape: stored datasets are rebuilt.
DATASET_VERSION = 4

OFFICES = ["Anagrafe", "Tributi", "Polizia Locale", "Lavori Pubblici", "Ambiente",
           "Servizi Sociali", "Istruzione", "Mobilità", "Urbanistica", "Cultura",
           "Commercio", "Relazioni con il Pubblico", "Verde Pubblico", "Edilizia Privata",
           "Sport", "Protocollo", "Stato Civile", "Elettorale", "Patrimonio", "Personale"]
SERVICES_PER_OFFICE = 5
CATEGORIES_PER_OFFICE = 2
OPERATORS = 200
SUPERVISORS = 20
CITIZEN_USERS = 50
YEARS = 4
#: The operator the pages are measured as: three offices (see the docstring).
MEASURED_OPERATOR = 5
MEASURED_SUPERVISOR = 1

T = "wagtail_helpdesk_"


def _open_office():
    """A label row's copy of its ticket's office while the ticket is open
    (TicketLabel.open_office, wagtail_helpdesk/tickets/open_labels.py), in SQL."""
    from wagtail_helpdesk.workflow import OPEN_STATUSES

    statuses = ", ".join(f"'{status}'" for status in sorted(OPEN_STATUSES))
    return f"CASE WHEN t.status IN ({statuses}) THEN t.office_id END"


def operator_offices(i):
    """Office indexes (0-based) of operator ``i`` (1-based): one, or three for
    every fourth operator."""
    home = (i - 1) % len(OFFICES)
    if i % 4 == 1:
        return [home, (home + 1) % len(OFFICES), (home + 2) % len(OFFICES)]
    return [home]


def fill(connection, size, log=print, vacuum=True):
    """Fill the database behind ``connection`` with ``size`` tickets; return
    the measurement targets (users, tickets, search terms)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '128MB'")
        cursor.execute("SET TIME ZONE 'UTC'")
        step = _Step(cursor, log)
        with step("catalogue"):
            catalogue = _catalogue(cursor)
        with step("operators"):
            ops = _operators(cursor)
        # Foreign keys are checked by construction (and by the tests), not row by row.
        cursor.execute("SET session_replication_role = replica")
        saved = _drop_indexes(cursor, ["ticket", "ticketevent", "citizen", "ticketlabel"])
        citizens = max(1, int(size * 0.3))
        with step(f"citizens ({citizens:,})"):
            _citizens(cursor, citizens)
        with step(f"tickets ({size:,})"):
            sentences = fill_tickets.tickets(cursor, size, citizens, catalogue, ops)
        with step("events"):
            fill_tickets.events(cursor, log)
        with step("the 200-event ticket"):
            long_ticket = fill_tickets.long_ticket(
                cursor, sentences, ops["offices"][operator_offices(MEASURED_OPERATOR)[0]])
        with step("labels"):
            _labels(cursor, ops)
        with step("counters and sequences"):
            _counters(cursor)
        cursor.execute("SET session_replication_role = DEFAULT")
        with step(f"indexes ({len(saved)})"):
            _create_indexes(connection, cursor, saved, log)
        with step("citizen accounts"):
            _citizen_users(cursor)
        targets = _targets(cursor, ops, long_ticket)
    step = _Step(connection.cursor(), log)
    if vacuum:
        with step("VACUUM ANALYZE"):
            _vacuum(connection)
    else:
        with step("ANALYZE"):
            step.cursor.execute("ANALYZE")
    log(f"filled in {time.perf_counter() - started:.1f} s")
    return targets


class _Step:
    def __init__(self, cursor, log):
        self.cursor, self.log = cursor, log

    def __call__(self, name):
        self.name = name
        return self

    def __enter__(self):
        self.started = time.perf_counter()
        self.cursor.execute("SELECT setseed(0.42)")

    def __exit__(self, *exc):
        if exc[0] is None:
            self.log(f"  {self.name}: {time.perf_counter() - self.started:.1f} s")


def _catalogue(cursor):
    offices, services, categories = [], [], []
    cursor.execute(f"SELECT id FROM {T}servicecategory ORDER BY sort_order, id")
    service_categories = [r[0] for r in cursor.fetchall()]
    for n, name in enumerate(OFFICES):
        slug = f"bench-{n + 1:02d}"
        cursor.execute(
            f"INSERT INTO {T}office (name, slug, email, phone, auto_assign, chat_routing, "
            "open_labels, active) VALUES (%s, %s, %s, %s, false, 'offer', false, true) "
            "RETURNING id", [name, slug, f"{slug}@comune.example.it", f"06 555 {n:04d}"])
        office = cursor.fetchone()[0]
        offices.append(office)
        for k in range(SERVICES_PER_OFFICE):
            topic = words.SUBJECT_WORDS[(n * SERVICES_PER_OFFICE + k) * 3 % len(words.SUBJECT_WORDS)]
            sla = [None, 10, 20, 30, 60][k]
            cursor.execute(
                f"INSERT INTO {T}service (category_id, name, slug, description, office_id, "
                "sla_days, io_api_key, active) VALUES (%s, %s, %s, '', %s, %s, '', true) "
                "RETURNING id",
                [service_categories[(n + k) % len(service_categories)],
                 f"{topic.capitalize()} — {name}", f"{slug}-servizio-{k + 1}", office, sla])
            services.append((cursor.fetchone()[0], office, sla or 0))
        for k in range(CATEGORIES_PER_OFFICE):
            cursor.execute(
                f"INSERT INTO {T}reportcategory (name, slug, description, office_id, sla_days, "
                "active, sort_order, open_data) VALUES (%s, %s, '', %s, %s, true, %s, false) "
                "RETURNING id", [f"Disservizio {k + 1} — {name}", f"{slug}-disservizio-{k + 1}",
                                 office, 15, n * 10 + k])
            categories.append((cursor.fetchone()[0], office, 15))
    cursor.execute(f"SELECT id, slug FROM {T}resolutiontype ORDER BY sort_order, id")
    resolutions = cursor.fetchall()
    return {"offices": offices, "services": services, "categories": categories,
            "resolutions": resolutions}


def _user(cursor, username, first, last, superuser=False):
    cursor.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, "
        "is_staff, is_active, date_joined) VALUES ('!bench', %s, %s, %s, %s, %s, false, true, "
        "now() - interval '5 years') RETURNING id",
        [superuser, username, first, last, f"{username}@comune.example.it"])
    return cursor.fetchone()[0]


def _operators(cursor):
    from django.contrib.auth.models import Group

    from wagtail_helpdesk import groups

    cursor.execute(f"SELECT id FROM {T}office ORDER BY id")
    offices = [r[0] for r in cursor.fetchall()]
    operator_group = Group.objects.get(name=groups.OPERATORS).pk
    supervisor_group = Group.objects.get(name=groups.SUPERVISORS).pk
    ids, by_office = {}, {n: [] for n in range(len(offices))}
    for i in range(1, OPERATORS + 1):
        first = (words.MALE_NAMES + words.FEMALE_NAMES)[i % 80]
        last = words.display_family(words.FAMILY_NAMES[(i * 7) % len(words.FAMILY_NAMES)])
        user = _user(cursor, f"operatore{i:03d}", first, last)
        ids[i] = user
        group = supervisor_group if i <= SUPERVISORS else operator_group
        cursor.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)",
                       [user, group])
        for office in operator_offices(i):
            cursor.execute(f"INSERT INTO {T}officemembership (office_id, user_id, created_at) "
                           "VALUES (%s, %s, now() - interval '4 years')", [offices[office], user])
            if office == (i - 1) % len(offices):
                by_office[office].append(user)
    return {"ids": ids, "by_office": by_office, "offices": offices}


def _drop_indexes(cursor, tables):
    """Drop the plain indexes of ``tables`` (constraints stay); return the
    statements that recreate them, whatever migrations defined."""
    saved = []
    for table in tables:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [T + table])
        for name, definition in cursor.fetchall():
            saved.append(definition)
            cursor.execute(f'DROP INDEX "{name}"')
    return saved


def _create_indexes(connection, cursor, statements, log, workers=2):
    """Recreate the dropped indexes, the biggest first, on ``workers``
    connections at once (a GIN index builds on one core only)."""
    import psycopg

    settings = connection.settings_dict
    # The test database runs inside a transaction: build there, one by one.
    in_transaction = connection.in_atomic_block
    slow_first = sorted(statements, key=lambda sql: ("gin" not in sql.lower(), sql))

    def build(conn_cursor, sql):
        began = time.perf_counter()
        conn_cursor.execute(sql)
        if time.perf_counter() - began > 5:
            log(f"    {sql.split(' ON ')[0]}: {time.perf_counter() - began:.0f} s")

    if in_transaction or workers < 2:
        for sql in slow_first:
            build(cursor, sql)
        return
    queue = list(slow_first)
    lock = threading.Lock()
    errors = []

    def worker():
        try:
            with psycopg.connect(dbname=settings["NAME"], user=settings["USER"],
                                 host=settings["HOST"], port=settings["PORT"] or 5432,
                                 password=settings["PASSWORD"] or None,
                                 autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not queue:
                            return
                        sql = queue.pop(0)
                    build(conn, sql)
        except Exception as exc:  # reported below, in this thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


CF_CHECK = """
CREATE OR REPLACE FUNCTION pg_temp.bench_cf_check(body text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT chr(65 + (sum(CASE WHEN i % 2 = 1
      THEN (ARRAY[1,0,5,7,9,13,15,17,19,21,2,4,18,20,11,3,6,8,12,14,16,10,22,25,24,23])[v + 1]
      ELSE v END) % 26)::int)
  FROM (SELECT i, CASE WHEN substr(body, i, 1) BETWEEN '0' AND '9'
               THEN ascii(substr(body, i, 1)) - 48 ELSE ascii(substr(body, i, 1)) - 65 END AS v
        FROM generate_series(1, 15) AS i) AS chars
$$
"""


def _citizens(cursor, count):
    """Citizens 1..count. Fiscal codes: valid (a real birthplace, a real date,
    the check letter), unique by construction: place, day, month and year
    encode the citizen's number (unique up to 200 × 60 × 28 × 12 citizens)."""
    cursor.execute(CF_CHECK)
    families = [words.display_family(n) for n in words.FAMILY_NAMES]
    fam_codes = [words.family_code(n) for n in words.FAMILY_NAMES]
    given = words.MALE_NAMES + words.FEMALE_NAMES
    given_codes = [words.given_code(n) for n in given]
    males = len(words.MALE_NAMES)
    cursor.execute(f"""
        INSERT INTO {T}citizen (id, given_name, family_name, fiscal_code, declared_fiscal_code,
            declared, email, phone, user_id, language, notify_email, notify_app_io,
            created_at, updated_at, erased_at)
        SELECT id, given_name, family_name,
               CASE WHEN declared THEN NULL ELSE fc END,
               CASE WHEN declared THEN fc ELSE '' END,
               declared,
               CASE WHEN r_mail < 0.7 THEN lower(translate(given_name || '.' || family_name,
                    ' ''', '')) || mod(id, 97) || '@example.it' ELSE '' END,
               CASE WHEN r_phone < 0.6 THEN '3' || lpad(mod(id::bigint * 7919, 1000000000)::text, 9, '0')
                    ELSE '' END,
               NULL, '', true, r_mail < 0.5, created_at, created_at, NULL
        FROM (
          SELECT *, body || pg_temp.bench_cf_check(body) AS fc FROM (
            SELECT id, families[f + 1] AS family_name, given[g + 1] AS given_name,
                   r_mail, r_phone, declared, created_at,
                   fam_codes[f + 1] || given_codes[g + 1]
                   || lpad((40 + mod(k / %(nplaces)s, 60))::text, 2, '0')
                   || substr('ABCDEHLMPRST', mod(k / (%(nplaces)s * 60 * 28), 12)::int + 1, 1)
                   || lpad((mod(k / (%(nplaces)s * 60), 28) + 1
                            + CASE WHEN g >= %(males)s THEN 40 ELSE 0 END)::text, 2, '0')
                   || (%(places)s::text[])[mod(k, %(nplaces)s)::int + 1] AS body
            FROM (
              SELECT id, id - 1 AS k, random() AS r_mail, random() AS r_phone,
                     floor(%(nf)s * power(random(), 2))::int AS f,
                     floor(%(ng)s * random())::int AS g,
                     (id > 50 AND random() < 0.15) AS declared,
                     now() - interval '{YEARS} years' + random() * interval '{YEARS} years' AS created_at,
                     %(families)s::text[] AS families, %(fam_codes)s::text[] AS fam_codes,
                     %(given)s::text[] AS given, %(given_codes)s::text[] AS given_codes
              FROM generate_series(1, %(count)s) AS id
            ) AS r
          ) AS b
        ) AS c
        """, {"count": count, "places": words.PLACES, "nplaces": len(words.PLACES),
              "nf": len(families), "ng": len(given), "males": males,
              "families": families, "fam_codes": fam_codes, "given": given,
              "given_codes": given_codes})


LABELS = ["Urgente", "Da richiamare", "Sopralluogo", "Reclamo", "Stampa", "Consiglio comunale",
          "Privacy", "Rimborso", "Ripetuta", "In attesa di terzi"]


def _labels(cursor, ops):
    """Ten global labels and two per office; one ticket in ten has a label,
    one in fifty a second one (of its office)."""
    colours = ["grey", "blue", "teal", "green", "olive", "orange", "red", "pink", "purple",
               "brown"]
    for n, name in enumerate(LABELS):
        cursor.execute(f"INSERT INTO {T}label (name, colour, office_id, description, "
                       "created_by_id, created_at) VALUES (%s, %s, NULL, '', NULL, "
                       "now() - interval '4 years')", [name, colours[n]])
    for n, office in enumerate(ops["offices"]):
        for k in range(2):
            cursor.execute(f"INSERT INTO {T}label (name, colour, office_id, description, "
                           "created_by_id, created_at) VALUES (%s, %s, %s, '', NULL, "
                           "now() - interval '4 years')",
                           [f"Pratica {k + 1} {n + 1:02d}", colours[(n + k) % 10], office])
    cursor.execute(f"""
        INSERT INTO {T}ticketlabel (ticket_id, label_id, added_by_id, added_at, open_office_id)
        SELECT t.id, g.ids[1 + mod(t.id / 10, 10)::int], t.assignee_id,
               coalesce(t.submitted_at, t.created_at), {_open_office()}
        FROM {T}ticket t,
             (SELECT array_agg(id ORDER BY id) AS ids FROM {T}label WHERE office_id IS NULL) g
        WHERE mod(t.id, 10) = 3""")
    cursor.execute(f"""
        INSERT INTO {T}ticketlabel (ticket_id, label_id, added_by_id, added_at, open_office_id)
        SELECT t.id, l.id, t.assignee_id, coalesce(t.submitted_at, t.created_at), {_open_office()}
        FROM {T}ticket t
        JOIN {T}label l ON l.office_id = t.office_id AND l.name LIKE 'Pratica 1 %%'
        WHERE mod(t.id, 50) = 3""")


def _counters(cursor):
    """Short-code counters at the last number of each prefix and year; the
    id sequences after the explicit ids."""
    cursor.execute(f"""
        INSERT INTO {T}shortcodesequence (prefix, year, last_value)
        SELECT split_part(short_code, '-', 1), split_part(short_code, '-', 2)::int,
               max(split_part(short_code, '-', 3)::int)
        FROM {T}ticket WHERE short_code IS NOT NULL GROUP BY 1, 2""")
    for table in ("ticket", "citizen"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{T}{table}', 'id'), "
                       f"(SELECT coalesce(max(id), 1) FROM {T}{table}))")


def _citizen_users(cursor):
    """Accounts for the first citizens (verified, the ones with most tickets),
    so the personal area can be measured."""
    cursor.execute(f"SELECT id, given_name, family_name FROM {T}citizen WHERE id <= %s "
                   "AND NOT declared ORDER BY id", [CITIZEN_USERS])
    for citizen, first, last in cursor.fetchall():
        user = _user(cursor, f"cittadino{citizen:05d}", first, last)
        cursor.execute(f"UPDATE {T}citizen SET user_id = %s WHERE id = %s", [user, citizen])


def _targets(cursor, ops, long_ticket):
    """What the pages are measured on, found in the data just built."""
    operator = ops["ids"][MEASURED_OPERATOR]
    cursor.execute(f"SELECT office_id FROM {T}officemembership WHERE user_id = %s", [operator])
    offices = sorted(r[0] for r in cursor.fetchall())
    # An ordinary ticket: resolved, with a reply, of the operator's offices.
    cursor.execute(f"""
        SELECT id, short_code FROM {T}ticket WHERE office_id = ANY(%s) AND status = 'resolved'
          AND first_response_at < resolved_at AND citizen_id IS NOT NULL
        ORDER BY id DESC LIMIT 1""", [offices])
    ticket, short_code = cursor.fetchone()
    cursor.execute(f"""
        SELECT c.fiscal_code, c.family_name FROM {T}ticket t JOIN {T}citizen c
          ON c.id = t.citizen_id WHERE t.id = %s""", [ticket])
    fiscal_code, family_name = cursor.fetchone()
    if fiscal_code is None:
        cursor.execute(f"""
            SELECT c.fiscal_code FROM {T}ticket t JOIN {T}citizen c ON c.id = t.citizen_id
            WHERE t.office_id = ANY(%s) AND c.fiscal_code IS NOT NULL
            ORDER BY t.id DESC LIMIT 1""", [offices])
        fiscal_code = cursor.fetchone()[0]
    cursor.execute(f"""
        SELECT c.user_id, c.id, count(t.id) FROM {T}citizen c JOIN {T}ticket t
          ON t.citizen_id = c.id WHERE c.user_id IS NOT NULL
        GROUP BY c.user_id, c.id ORDER BY count(t.id) DESC, c.id LIMIT 1""")
    citizen_user, citizen, citizen_tickets = cursor.fetchone()
    cursor.execute(f"""SELECT id FROM {T}ticket WHERE citizen_id = %s AND status <> 'draft'
                       ORDER BY last_activity_at DESC LIMIT 1""", [citizen])
    citizen_ticket = cursor.fetchone()[0]
    return {
        "operator": operator, "operator_offices": offices,
        "supervisor": ops["ids"][MEASURED_SUPERVISOR],
        "ticket": ticket, "ticket_200": long_ticket,
        "short_code": short_code, "fiscal_code": fiscal_code,
        "name_word": family_name.split()[-1],
        "citizen_user": citizen_user, "citizen": citizen, "citizen_tickets": citizen_tickets,
        "citizen_ticket": citizen_ticket,
    }


def _vacuum(connection):
    """VACUUM ANALYZE outside any transaction (visibility map for index-only
    scans, as autovacuum leaves a long-lived database)."""
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.autocommit
    raw.autocommit = True
    try:
        with raw.cursor() as cursor:
            for table in ("ticket", "ticketevent", "citizen", "ticketlabel"):
                cursor.execute(f"VACUUM (ANALYZE) {T}{table}")
            cursor.execute("ANALYZE")
    finally:
        raw.autocommit = previous
