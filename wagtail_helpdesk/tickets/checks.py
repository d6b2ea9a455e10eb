"""System check of the ticket search's indexes (PostgreSQL): migration 0024
skips the trigram indexes when the ``pg_trgm`` extension cannot be created
(a managed database whose role may not ``CREATE EXTENSION``). The search still
works, unindexed: this check says so, and how to add them."""

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError, connections

#: The trigram indexes of migration 0024: (name, table, column).
TRIGRAM_INDEXES = [
    ("helpdesk_t_subject_trgm", "wagtail_helpdesk_ticket", "subject"),
    ("helpdesk_t_description_trgm", "wagtail_helpdesk_ticket", "description"),
    ("helpdesk_citizen_family_trgm", "wagtail_helpdesk_citizen", "family_name"),
    ("helpdesk_citizen_given_trgm", "wagtail_helpdesk_citizen", "given_name"),
]


def missing_trigram_indexes(connection):
    """The names of the trigram indexes missing (or invalid) on ``connection``,
    or ``[]`` when it is not PostgreSQL or the tables are not there yet."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('wagtail_helpdesk_ticket') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return []  # not migrated yet
        cursor.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE i.indisvalid AND c.relname = ANY(%s)",
                       [[name for name, _t, _c in TRIGRAM_INDEXES]])
        present = {row[0] for row in cursor.fetchall()}
    return [name for name, _t, _c in TRIGRAM_INDEXES if name not in present]


def creation_sql(names):
    """The SQL a database administrator runs to add the indexes ``names``."""
    return ["CREATE EXTENSION IF NOT EXISTS pg_trgm;", *(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" '
        f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops);'
        for name, table, column in TRIGRAM_INDEXES if name in names)]


@register(Tags.database)
def check_trigram_indexes(app_configs, databases=None, **kwargs):
    problems = []
    for alias in databases or []:
        try:
            missing = missing_trigram_indexes(connections[alias])
        except DatabaseError:
            continue  # the database is unreachable: other checks say so
        if missing:
            problems.append(Warning(
                f"The ticket search's trigram indexes are missing on database '{alias}' "
                f"({', '.join(missing)}): searching words in tickets and citizens' names "
                "works, but reads every row (slow on large desks).",
                hint="Migration 0024 skips them when the pg_trgm extension cannot be "
                     "created. As a database administrator, run: " + " ".join(
                         creation_sql(missing)),
                id="wagtail_helpdesk.W060",
            ))
    return problems
