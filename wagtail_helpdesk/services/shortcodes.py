"""Short codes ("codice breve"): the code citizens and operators use for a ticket.

Three modes, chosen per site in the Helpdesk settings:

* off: no code, the ticket is known by its number;
* sequential: ``<prefix>-<year>-<nnnnnn>`` per kind (each has its prefix) and
  year (``AST-2026-000042``); the year is the local (Rome) year of submission;
* random: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L).

Sequential numbers come from one atomic ``INSERT … ON CONFLICT … DO UPDATE …
RETURNING`` statement, so concurrent submissions never get the same number and
never fail; the ``short_code`` column is unique as a last line of defence.
"""

import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import ShortCodeMode, ShortCodeSequence, Ticket

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RANDOM_LENGTH = 8
_RANDOM_ATTEMPTS = 10


def next_sequence_value(prefix, year):
    """Increment and return the counter of (prefix, year), creating it at 1."""
    if connection.vendor in ("postgresql", "sqlite"):
        table = connection.ops.quote_name(ShortCodeSequence._meta.db_table)
        sql = (
            f"INSERT INTO {table} (prefix, year, last_value) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (prefix, year) DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [prefix, year])
            return cursor.fetchone()[0]
    # Other databases: lock the row (created first if missing).
    with transaction.atomic():
        ShortCodeSequence.objects.get_or_create(prefix=prefix, year=year)
        seq = ShortCodeSequence.objects.select_for_update().get(prefix=prefix, year=year)
        seq.last_value += 1
        seq.save(update_fields=["last_value"])
        return seq.last_value


def format_sequential(prefix, year, value):
    return f"{prefix}-{year}-{value:06d}"


def random_code():
    return "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def sequential_code(ticket, helpdesk_settings):
    """The next sequential code for ``ticket`` (its kind's prefix, the local
    year of its submission), taken from the counter: the caller saves it."""
    year = timezone.localtime(ticket.submitted_at or timezone.now()).year
    prefix = (
        helpdesk_settings.request_prefix
        if ticket.kind == "request"
        else helpdesk_settings.report_prefix
    )
    return format_sequential(prefix, year, next_sequence_value(prefix, year))


def assign_short_code(ticket, helpdesk_settings):
    """Give a saved ticket its short code according to the site's mode.

    Call inside the transaction that submits the ticket. Returns the code, or
    None when codes are off (or the ticket already has one).
    """
    if ticket.short_code:
        return ticket.short_code
    mode = helpdesk_settings.short_code_mode
    if mode == ShortCodeMode.OFF:
        return None
    if mode == ShortCodeMode.SEQUENTIAL:
        code = sequential_code(ticket, helpdesk_settings)
        Ticket.objects.filter(pk=ticket.pk).update(short_code=code)
        ticket.short_code = code
        return code
    for _attempt in range(_RANDOM_ATTEMPTS):
        code = random_code()
        try:
            with transaction.atomic():
                Ticket.objects.filter(pk=ticket.pk).update(short_code=code)
        except IntegrityError:
            continue
        ticket.short_code = code
        return code
    raise RuntimeError("Could not find a free random short code.")  # pragma: no cover
