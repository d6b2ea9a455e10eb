"""Indexes for the operators' search at scale (issue 20).

* Every database: the upper-cased short code (``short_code__iexact``, what an
  operator types in any case) — in ``Ticket.Meta.indexes`` too. On
  PostgreSQL it is built ``CONCURRENTLY`` (the state gets a plain
  ``AddIndex``), so upgrading a large desk does not lock the tickets.
* PostgreSQL only: the ``pg_trgm`` extension and GIN trigram indexes on the
  upper-cased ticket subject and description and citizen given and family
  names, the expressions Django's ``icontains`` compares
  (``UPPER(col::text) LIKE UPPER('%word%')``). Not in ``Meta.indexes``:
  SQLite has no trigrams; the same lookups run there unindexed, with the same
  results. When the extension is missing and cannot be created (a managed
  database where the role may not ``CREATE EXTENSION``), the trigram indexes
  are skipped with a message: the search works, unindexed; the system check
  ``wagtail_helpdesk.W060`` says so until they exist.

Safe to re-run: ``IF NOT EXISTS`` everywhere, and an index left invalid by an
interrupted concurrent build is dropped and built again. Not atomic
(``CONCURRENTLY`` cannot run in a transaction).
"""

import sys

from django.db import DatabaseError, migrations, models, transaction
from django.db.models.functions import Upper

TICKET_TABLE = "wagtail_helpdesk_ticket"
CODE_INDEX = "helpdesk_t_code_upper"
#: (index name, table, expression) of the PostgreSQL-only trigram indexes.
TRIGRAM_INDEXES = [
    ("helpdesk_t_subject_trgm", TICKET_TABLE, "subject"),
    ("helpdesk_t_description_trgm", TICKET_TABLE, "description"),
    ("helpdesk_citizen_family_trgm", "wagtail_helpdesk_citizen", "family_name"),
    ("helpdesk_citizen_given_trgm", "wagtail_helpdesk_citizen", "given_name"),
]


def _build_concurrently(schema_editor, name, table, expression):
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS``, first dropping the index
    if an interrupted build left it invalid (IF NOT EXISTS would keep it)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c "
                       "ON c.oid = i.indexrelid WHERE c.relname = %s", [name])
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" {expression}')


def _code_index(apps):
    return apps.get_model("wagtail_helpdesk", "Ticket"), \
        models.Index(Upper("short_code"), name=CODE_INDEX)


def create_code_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _build_concurrently(schema_editor, CODE_INDEX, TICKET_TABLE, '((UPPER("short_code")))')
        return
    model, index = _code_index(apps)
    with schema_editor.connection.cursor() as cursor:
        existing = schema_editor.connection.introspection.get_constraints(cursor, TICKET_TABLE)
    if CODE_INDEX not in existing:
        schema_editor.add_index(model, index)


def drop_code_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{CODE_INDEX}"')
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{CODE_INDEX}"')


def _has_trigrams(schema_editor):
    """Whether ``pg_trgm`` is (or could be made) available."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return True
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        sys.stderr.write(
            "\n  wagtail_helpdesk 0024: the pg_trgm extension could not be created "
            f"({str(error).strip()}).\n  The trigram indexes of the ticket search are "
            "skipped: word search works, without an index (slow on large desks).\n"
            "  Ask the database administrator to run CREATE EXTENSION pg_trgm; the "
            "system check wagtail_helpdesk.W060 gives the rest.\n")
        return False
    return True


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql" or not _has_trigrams(schema_editor):
        return
    for name, table, column in TRIGRAM_INDEXES:
        _build_concurrently(schema_editor, name, table,
                            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    # The extension stays: other objects may use it.


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("wagtail_helpdesk", "0023_labels_overviews_opendata")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(
                model_name="ticket",
                index=models.Index(Upper("short_code"), name=CODE_INDEX),
            )],
            database_operations=[migrations.RunPython(create_code_index, drop_code_index)],
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
