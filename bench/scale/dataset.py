"""Build (or reuse) the scale benchmark's PostgreSQL dataset.

    .venv/bin/python -m bench.scale.dataset --size 100k [--database NAME] [--rebuild]

``--size`` is 10k, 100k, 1m or a number of tickets. The database defaults to
``bench_<size>`` (``bench_10k``, ``bench_100k``, ``bench_1m``) on the server
``BENCH_PG_URL`` names (default ``postgres://postgres@127.0.0.1:5432``). It is
copied from a migrated empty template (``bench_template_<hash>``, made once
per state of the migrations by ``manage.py migrate`` with
``bench.scale.settings``),
then filled with SQL ``generate_series`` (see :mod:`bench.scale.fill`), and
recorded in the table ``bench_dataset``. A later run reuses it when the size,
the generator's version and every migration it was built with are unchanged
(new migrations are applied to it); otherwise — or with ``--rebuild`` — it is
dropped and built again.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.sizes import SIZES, parse_size, size_label  # noqa: F401  (re-exported)

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "wagtail_helpdesk" / "migrations"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
def default_database(size):
    return f"bench_{size_label(size)}"


def server_url():
    return os.environ.get("BENCH_PG_URL", DEFAULT_SERVER).rstrip("/")


def database_url(database):
    return f"{server_url()}/{database}"


def migration_fingerprint():
    """Each of our migration files → a hash of its text."""
    return {path.stem: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in sorted(MIGRATIONS.glob("0*.py"))}


def _connect(database):
    import psycopg

    return psycopg.connect(database_url(database), autocommit=True)


def read_marker(database):
    """The recorded build of ``database``, or None (missing, unfinished, no marker)."""
    import psycopg

    try:
        with _connect(database) as conn:
            row = conn.execute(
                "SELECT size, version, migrations, targets, finished FROM bench_dataset"
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    except psycopg.OperationalError:
        return None  # no such database
    if row is None or not row[4]:
        return None
    return {"size": row[0], "version": row[1], "migrations": row[2], "targets": row[3]}


def stale_reason(marker, size):
    """Why the recorded build can't be reused (None: it can)."""
    from .fill import DATASET_VERSION

    if marker is None:
        return "no finished dataset"
    if marker["size"] != size:
        return f"built for {marker['size']} tickets"
    if marker["version"] != DATASET_VERSION:
        return f"generator version {marker['version']}, now {DATASET_VERSION}"
    current = migration_fingerprint()
    for name, digest in marker["migrations"].items():
        if current.get(name) != digest:
            return f"migration {name} changed since the build"
    return None


def template_name():
    """The migrated, empty database new datasets are copied from: one per
    state of the migrations (a copy takes a second, ``migrate`` a minute)."""
    digest = hashlib.sha256(json.dumps(migration_fingerprint(), sort_keys=True).encode())
    return f"bench_template_{digest.hexdigest()[:10]}"


def ensure_template(log):
    import psycopg

    template = template_name()
    with _connect("postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate",
                              [template]).fetchone()
        if exists:
            return template
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{template}"')
    started = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": database_url(template),
           "DJANGO_SETTINGS_MODULE": "bench.scale.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True)
    with _connect("postgres") as conn:
        conn.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true')
        # Templates of older migration states are of no more use.
        old = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_template_%%' "
                           "AND datname <> %s", [template]).fetchall()
        for (name,) in old:
            try:
                conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                conn.execute(f'DROP DATABASE "{name}"')
            except psycopg.Error:
                pass  # in use by a concurrent build: left for the next one
    log(f"migrate (template {template}): {time.perf_counter() - started:.1f} s")
    return template


def recreate_database(database, log):
    template = ensure_template(log)
    with _connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for attempt in range(30):  # a concurrent copy of the template holds it briefly
            try:
                conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
                break
            except psycopg_errors().ObjectInUse:
                if attempt == 29:
                    raise
                time.sleep(1)


def psycopg_errors():
    import psycopg

    return psycopg.errors


def setup_django(database):
    """Point Django at ``database`` (once per process) and start it."""
    os.environ["DATABASE_URL"] = database_url(database)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.scale.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    if settings.configured and getattr(settings, "_bench_database", None) not in (None, database):
        raise RuntimeError("Django already runs on another database in this process")
    django.setup()
    settings._bench_database = database


def migrate(log):
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"migrate: {time.perf_counter() - started:.1f} s")


def ensure_dataset(size, database=None, rebuild=False, log=print, vacuum=True):
    """The targets of a ready dataset of ``size`` tickets in ``database``
    (built or reused); Django is set up on it on return."""
    from .fill import DATASET_VERSION, fill

    database = database or default_database(size)
    marker = None if rebuild else read_marker(database)
    reason = "--rebuild" if rebuild else stale_reason(marker, size)
    if reason is None:
        log(f"{database}: reusing the dataset of {size:,} tickets")
        setup_django(database)
        migrate(log)  # migrations added since the build
        return marker["targets"]
    log(f"{database}: building {size:,} tickets ({reason})")
    started = time.perf_counter()
    recreate_database(database, log)
    setup_django(database)
    migrate(log)  # nothing to apply: the template is migrated
    from django.db import connection

    targets = fill(connection, size, log=log, vacuum=vacuum)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_dataset (size integer NOT NULL, version integer NOT NULL, "
            "migrations jsonb NOT NULL, targets jsonb NOT NULL, built_at timestamptz NOT NULL, "
            "seconds double precision NOT NULL, finished boolean NOT NULL)")
        cursor.execute(
            "INSERT INTO bench_dataset VALUES (%s, %s, %s, %s, now(), %s, true)",
            [size, DATASET_VERSION, json.dumps(migration_fingerprint()), json.dumps(targets),
             time.perf_counter() - started])
    log(f"{database}: ready in {time.perf_counter() - started:.0f} s")
    return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10k", help="10k, 100k, 1m or a number of tickets")
    parser.add_argument("--database", help="database name (default bench_<size>)")
    parser.add_argument("--rebuild", action="store_true", help="drop and build it again")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="ANALYZE only, skip VACUUM (faster, fewer index-only scans)")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    targets = ensure_dataset(size, args.database, args.rebuild, vacuum=not args.no_vacuum)
    print(json.dumps(targets, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
