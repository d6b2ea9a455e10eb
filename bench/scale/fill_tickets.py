# ruff: noqa: S608  -- table names are module constants; values are always parameters
"""The tickets and their timelines, in bulk SQL (see :mod:`bench.scale.fill`).

Each ticket's columns follow from a few random draws, level by level: its
time, kind, channel and citizen; its status (tickets of the last six months
are often still open, older ones rarely); its submission, first response and
resolution times (in that order, never in the future); then what the
services layer derives from them (last activity, unread messages, version).
The events are then written from the tickets' own columns, so the two agree.

SQL notes: every level is fenced with ``OFFSET 0`` (otherwise PostgreSQL
pulls the levels up and recomputes each derived column wherever it is used);
lookup lists are inlined constants (never carried as columns
through a sort); the short-code numbering sorts narrow rows only; ``mod()``
rather than ``%`` (the driver's placeholder).
"""

from . import words

YEARS = 4
T = "wagtail_helpdesk_"

TICKETS = f"""
INSERT INTO {T}ticket (id, kind, short_code, status, priority, channel, service_id,
    report_category_id, office_id, subject, description, latitude, longitude, address,
    citizen_id, declared_contact_id, assignee_id, created_by_id, opened_by_citizen,
    idempotency_key, created_at, updated_at, submitted_at, last_activity_at,
    last_citizen_activity_at, first_response_at, resolved_at, due_at,
    resolution_type_id, resolution_text, unread_count, follow_up_of_id,
    duplicate_of_id, version)
SELECT id, kind,
  CASE WHEN NOT draft THEN CASE kind WHEN 'request' THEN 'AST' ELSE 'SEG' END
       || '-' || year || '-' || lpad(seq::text, 6, '0') END,
  status, priority, channel,
  CASE WHEN kind = 'request' THEN (%(svc_ids)s::bigint[])[s] END,
  CASE WHEN kind = 'report' THEN (%(cat_ids)s::bigint[])[c] END,
  office_id, subject, description,
  CASE WHEN kind = 'report' THEN round((41.85 + r_w1 / 10)::numeric, 6) END,
  CASE WHEN kind = 'report' THEN round((12.45 + r_w2 / 10)::numeric, 6) END,
  CASE WHEN kind = 'report' THEN 'Via ' || (%(streets)s::text[])[1 + mod(id, %(nstreets)s)::int]
       || ' ' || (1 + mod(id, 180)) ELSE '' END,
  citizen_id, NULL, assignee_id, created_by_id, opened_by_citizen, NULL,
  created_at, last_activity_at, submitted_at, last_activity_at,
  CASE WHEN unread THEN message_at WHEN opened_by_citizen THEN submitted_at END,
  first_response_at, resolved_at,
  CASE WHEN sla > 0 AND NOT draft THEN submitted_at + sla * interval '1 day' * 7 / 5 END,
  CASE WHEN status = 'resolved' THEN
    CASE WHEN r_res < 0.8 THEN %(solved)s
         ELSE (%(others)s::bigint[])[1 + mod(id, %(nothers)s)::int] END END,
  CASE WHEN status = 'resolved' THEN 'Pratica evasa: ' || lower(subject) || '.' ELSE '' END,
  unread::int, NULL, NULL,
  1 + (NOT draft)::int + replied::int + unread::int + (status = 'resolved')::int
FROM (
 SELECT *,
   CASE WHEN resolved_at IS NOT NULL THEN resolved_at
        WHEN unread THEN message_at
        ELSE coalesce(first_response_at, submitted_at, created_at) END AS last_activity_at
 FROM (
  SELECT *,
    first_response_at IS NOT NULL
      AND (resolved_at IS NULL OR first_response_at < resolved_at) AS replied,
    status = 'in_progress' AND mod(id, 5) = 0 AS unread,
    first_response_at + (now() - first_response_at) / 2 AS message_at
  FROM (
   SELECT *,
     CASE WHEN status = 'resolved' THEN
            CASE WHEN r_fr < 0.5 THEN resolved_at
                 ELSE least(submitted_at + (10 + power(r_fr, 3) * 7200) * interval '1 minute',
                            resolved_at - interval '1 minute') END
          WHEN status IN ('in_progress', 'waiting') THEN
            least(submitted_at + (10 + power(r_fr, 3) * 7200) * interval '1 minute',
                  now() - interval '10 minutes')
     END AS first_response_at,
     CASE WHEN status IN ('in_progress', 'waiting', 'resolved') OR (status = 'new' AND r_op < 0.2)
          THEN (%(members)s::int[])[1 + office_n * %(width)s + mod(id, %(width)s)::int] END
       AS assignee_id,
     CASE WHEN channel IN ('phone', 'desk') OR (draft AND channel <> 'web')
          THEN (%(members)s::int[])[1 + office_n * %(width)s + mod(id / 7, %(width)s)::int] END
       AS created_by_id
   FROM (
    SELECT *,
      CASE WHEN status = 'resolved' THEN least(
             submitted_at + (30 + power(r_res, 2) * 28800) * interval '1 minute',
             now() - interval '1 minute') END AS resolved_at
    FROM (
     SELECT *,
       CASE WHEN draft THEN 'draft'
            WHEN r_status < CASE WHEN now() - created_at < interval '180 days'
                                 THEN 0.61 ELSE 0.085 END THEN
              CASE WHEN r_open < 0.35 THEN 'new' WHEN r_open < 0.8 THEN 'in_progress'
                   ELSE 'waiting' END
            ELSE 'resolved' END AS status,
       CASE WHEN kind = 'request' THEN (%(svc_offices)s::bigint[])[s]
            ELSE (%(cat_offices)s::bigint[])[c] END AS office_id,
       CASE WHEN kind = 'request' THEN (%(svc_office_ns)s::int[])[s]
            ELSE (%(cat_office_ns)s::int[])[c] END AS office_n,
       CASE WHEN kind = 'request' THEN (%(svc_slas)s::int[])[s]
            ELSE (%(cat_slas)s::int[])[c] END AS sla,
       initcap(w1.word) || ' ' || w2.word || ' ' || w3.word AS subject,
       s1.body || ' ' || s2.body AS description
     FROM (
      SELECT *, row_number() OVER (PARTITION BY kind = 'request', year, draft ORDER BY id) AS seq
      FROM (
       SELECT *,
         CASE WHEN draft THEN NULL ELSE created_at + r_op * interval '10 minutes' END
           AS submitted_at,
         extract(year FROM (created_at + r_op * interval '10 minutes')
                 AT TIME ZONE 'Europe/Rome')::int AS year,
         channel = 'web' AS opened_by_citizen
       FROM (
        SELECT g AS id,
          -- (never in the future: at 1M the last tickets' jitter reached 48 minutes past
          -- the build, and their submissions ten more)
          LEAST(now() - %(span)s * interval '1 second'
                  + (g - 1) * (%(span)s::float / %(size)s) * interval '1 second'
                  + r_jitter * interval '50 minutes',
                now() - interval '20 minutes') AS created_at,
          CASE WHEN r_kind < 0.7 THEN 'request' ELSE 'report' END AS kind,
          r_status < 0.01 AS draft,
          r_status, r_open, r_fr, r_res, r_op, r_w1, r_w2, r_w3,
          CASE WHEN r_chan < .45 THEN 'web' WHEN r_chan < .65 THEN 'phone'
               WHEN r_chan < .75 THEN 'desk' WHEN r_chan < .90 THEN 'email'
               WHEN r_chan < .93 THEN 'api' WHEN r_chan < .96 THEN 'open311'
               ELSE 'chat' END AS channel,
          CASE WHEN r_prio < .15 THEN 1 WHEN r_prio < .85 THEN 2
               WHEN r_prio < .97 THEN 3 ELSE 4 END AS priority,
          CASE WHEN r_cit < 0.02 THEN NULL
               WHEN r_cit < 0.9 THEN 1 + floor(r_cit2 * %(citizens)s)::int
               ELSE 1 + floor(power(r_cit2, 1.5) * greatest(1, %(citizens)s / 50))::int
          END AS citizen_id,
          1 + floor(%(nsvc)s * power(r_svc, 1.2))::int AS s,
          1 + floor(%(ncat)s * r_svc)::int AS c
        FROM (
         SELECT g, random() AS r_jitter, random() AS r_kind, random() AS r_status,
           random() AS r_open, random() AS r_fr, random() AS r_res, random() AS r_op,
           random() AS r_w1, random() AS r_w2, random() AS r_w3, random() AS r_chan,
           random() AS r_prio, random() AS r_cit, random() AS r_cit2, random() AS r_svc
         FROM generate_series(1, %(size)s) AS g
        OFFSET 0) AS seed
       OFFSET 0) AS drawn
      OFFSET 0) AS dated
      ORDER BY id
     ) AS numbered
     JOIN pg_temp.bench_word w1 ON w1.n = floor(%(nv)s * power(r_w1, 1.5))::int
     JOIN pg_temp.bench_word w2 ON w2.n = floor(%(nv)s * power(r_w2, 1.5))::int
     JOIN pg_temp.bench_word w3 ON w3.n = floor(%(nv)s * r_w3)::int
     JOIN pg_temp.bench_sentence s1 ON s1.n = floor(%(nsent)s * r_w2)::int
     JOIN pg_temp.bench_sentence s2 ON s2.n = floor(%(nsent)s * r_w3)::int
    OFFSET 0) AS statused
   OFFSET 0) AS resolved
  OFFSET 0) AS responded
 OFFSET 0) AS flagged
) AS final
"""


def _lookup_table(cursor, name, column, values):
    """A temporary table (n, value) numbered from 0: joined, not subscripted
    (a long text[] is walked from its start at every subscript)."""
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    cursor.execute(f"CREATE TEMPORARY TABLE {name} (n integer PRIMARY KEY, {column} text NOT NULL)")
    cursor.execute(f"INSERT INTO pg_temp.{name} SELECT n - 1, v FROM unnest(%s::text[]) "
                   "WITH ORDINALITY AS u(v, n)", [list(values)])
    cursor.execute(f"ANALYZE pg_temp.{name}")


def tickets(cursor, size, citizens, catalogue, ops):
    services, categories = catalogue["services"], catalogue["categories"]
    resolutions = catalogue["resolutions"]
    office_index = {pk: n for n, pk in enumerate(ops["offices"])}
    members = [ops["by_office"][n] for n in range(len(ops["offices"]))]
    width = min(len(m) for m in members)
    sentences = words.sentences()
    _lookup_table(cursor, "bench_word", "word", words.SUBJECT_WORDS)
    _lookup_table(cursor, "bench_sentence", "body", sentences)
    cursor.execute(TICKETS, {
        "size": size, "span": YEARS * 365 * 86400 - 3600, "citizens": citizens,
        "width": width, "members": [m[k] for m in members for k in range(width)],
        "solved": next(pk for pk, slug in resolutions if slug == "risolta"),
        "others": [pk for pk, slug in resolutions if slug != "risolta"],
        "nothers": len(resolutions) - 1,
        "nv": len(words.SUBJECT_WORDS), "nsent": len(sentences),
        "streets": [s.replace("\u00a0", " ") for s in words.STREETS],
        "nstreets": len(words.STREETS),
        "svc_ids": [s[0] for s in services], "svc_offices": [s[1] for s in services],
        "svc_office_ns": [office_index[s[1]] for s in services],
        "svc_slas": [s[2] for s in services], "nsvc": len(services),
        "cat_ids": [c[0] for c in categories], "cat_offices": [c[1] for c in categories],
        "cat_office_ns": [office_index[c[1]] for c in categories],
        "cat_slas": [c[2] for c in categories], "ncat": len(categories),
    })
    return sentences


EVENT_COLUMNS = (f"INSERT INTO {T}ticketevent (ticket_id, kind, visibility, actor_id, "
                 "by_citizen, body, data, created_at) ")

#: One statement per kind of event, each from the tickets' own columns.
EVENTS = {
    "created": EVENT_COLUMNS + f"""
      SELECT id, 'created', 'internal', created_by_id, opened_by_citizen, '',
             jsonb_build_object('channel', channel, 'draft', status = 'draft'), created_at
      FROM {T}ticket ORDER BY id""",
    "submitted": EVENT_COLUMNS + f"""
      SELECT id, 'submitted', 'public', created_by_id, opened_by_citizen, '',
             jsonb_build_object('channel', channel, 'short_code', short_code), submitted_at
      FROM {T}ticket WHERE submitted_at IS NOT NULL ORDER BY id""",
    "reply": EVENT_COLUMNS + f"""
      SELECT id, 'reply', 'public', assignee_id, false,
             'Gentile cittadino, abbiamo preso in carico la sua richiesta: '
             || subject || '. Le faremo sapere al più presto.', '{{}}'::jsonb, first_response_at
      FROM {T}ticket WHERE first_response_at IS NOT NULL
        AND (resolved_at IS NULL OR first_response_at < resolved_at) ORDER BY id""",
    "citizen_message": EVENT_COLUMNS + f"""
      SELECT id, 'citizen_message', 'public', NULL, true,
             'Grazie, resto in attesa. ' || left(description, 120), '{{}}'::jsonb,
             last_citizen_activity_at
      FROM {T}ticket WHERE unread_count > 0 ORDER BY id""",
    "resolved": EVENT_COLUMNS + f"""
      SELECT t.id, 'resolved', 'public', t.assignee_id, false, t.resolution_text,
             jsonb_build_object('resolution_type', t.resolution_type_id,
                                'resolution_name', r.name), t.resolved_at
      FROM {T}ticket t JOIN {T}resolutiontype r ON r.id = t.resolution_type_id
      WHERE t.status = 'resolved' ORDER BY t.id""",
}


def events(cursor, log=None):
    for kind, sql in EVENTS.items():
        cursor.execute(sql)
        if log:
            log(f"    {kind}: {cursor.rowcount:,}")


def long_ticket(cursor, sentences, office):
    """Give one open ticket of ``office`` (the measured operator's) a
    200-event timeline (a long back-and-forth); return its id."""
    cursor.execute(f"""
        SELECT t.id FROM {T}ticket t
        WHERE t.office_id = %s AND t.status = 'in_progress' AND t.unread_count = 0
          AND t.submitted_at < now() - interval '30 days' AND t.citizen_id IS NOT NULL
        ORDER BY t.id DESC LIMIT 1""", [office])
    row = cursor.fetchone()
    if row is None:  # tiny datasets: any open ticket of the office
        cursor.execute(f"SELECT id FROM {T}ticket WHERE status = 'in_progress' "
                       "AND office_id = %s ORDER BY id DESC LIMIT 1", [office])
        row = cursor.fetchone()
    ticket = row[0]
    cursor.execute(f"SELECT count(*) FROM {T}ticketevent WHERE ticket_id = %s", [ticket])
    missing = 200 - cursor.fetchone()[0]
    # Between the first response and now: citizen messages, replies and notes in turn.
    cursor.execute(EVENT_COLUMNS + f"""
        SELECT t.id,
               (ARRAY['citizen_message', 'reply', 'note'])[1 + mod(n, 3)],
               CASE WHEN mod(n, 3) = 2 THEN 'internal' ELSE 'public' END,
               CASE WHEN mod(n, 3) = 0 THEN NULL ELSE t.assignee_id END,
               mod(n, 3) = 0,
               (%(sentences)s::text[])[1 + mod(n * 17, %(nsent)s)], '{{}}'::jsonb,
               t.first_response_at + (now() - interval '1 hour' - t.first_response_at)
                 * n / (%(missing)s + 1)
        FROM {T}ticket t, generate_series(1, %(missing)s) AS n WHERE t.id = %(ticket)s
        """, {"ticket": ticket, "missing": missing, "sentences": sentences,
              "nsent": len(sentences)})
    cursor.execute(f"""
        UPDATE {T}ticket t SET
          last_activity_at = e.last_at, updated_at = e.last_at,
          last_citizen_activity_at = e.citizen_at, version = e.n
        FROM (SELECT max(created_at) AS last_at, count(*) AS n,
                     max(created_at) FILTER (WHERE by_citizen) AS citizen_at
              FROM {T}ticketevent WHERE ticket_id = %s) e
        WHERE t.id = %s""", [ticket, ticket])
    return ticket
