"""Catalogue-like choices of the ticket page's forms (the offices to transfer
to, the resolution types, who can be assigned a ticket of an office, the
quick replies of the reply box), the catalogue rows a ticket shows (its
office, service, problem type, resolution type) and the AI assist's
switches, read once and kept in the cache.

The same invalidation as the ticket list's menus
(:mod:`wagtail_helpdesk.tickets.filter_choices`), and the same version: every
change to offices, services, problem types, memberships, users, groups and
permissions already bumps it once committed; this module adds resolution
types, quick replies, the AI assist settings and sites (which one is the
default). At most ``TTL`` seconds old with a per-process cache; at once with
a shared one (Redis).

What is cached only *shows* choices: the forms validate a submitted value
against the live queryset, so a stale menu never lets anybody do what they
may not.
"""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from .tickets import filter_choices

TTL = filter_choices.TTL
_PREFIX = "wagtail_helpdesk:choices"


def cached(name, build):
    """What ``build()`` returns (something picklable), kept under ``name``
    until the next change bumps the version (or ``TTL`` seconds)."""
    key = f"{_PREFIX}:{name}:{filter_choices._version()}"
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, TTL)
    return found


#: The catalogue a ticket refers to (offices, services, problem types,
#: resolution types: dozens of rows each), by foreign key.
TICKET_CATALOGUE = ("office", "service", "report_category", "resolution_type")


#: Fields never copied into the cache (a shared Redis): a service's App IO
#: key is written once and never shown again.
SECRET_FIELDS = frozenset({"io_api_key"})


def _secrets(model):
    return [f.name for f in model._meta.concrete_fields if f.name in SECRET_FIELDS]


def _row_name(model, pk):
    return f"row:{model._meta.label_lower}:{pk}"


def catalogue_row(model, pk):
    """The row ``pk`` of the catalogue ``model`` (cached, without its
    :data:`SECRET_FIELDS`; None if there is none)."""
    return cached(_row_name(model, pk),
                  lambda: model._default_manager.filter(pk=pk).defer(*_secrets(model)).first())


def catalogue_rows(wanted):
    """``{(model, pk): row}`` for the ``(model, pk)`` pairs ``wanted``, as
    :func:`catalogue_row` keeps them: one cache read for all of them (a page
    of tickets names a few dozen rows: one round trip to Redis, not two per
    row), one query per model for the rows not in the cache. Rows that do not
    exist are left out."""
    wanted = set(wanted)
    if not wanted:
        return {}
    version = filter_choices._version()
    keys = {pair: f"{_PREFIX}:{_row_name(*pair)}:{version}" for pair in wanted}
    found = cache.get_many(list(keys.values()))
    rows = {pair: found[key] for pair, key in keys.items() if found.get(key) is not None}
    missing = {}
    for model, pk in wanted - rows.keys():
        missing.setdefault(model, []).append(pk)
    for model, pks in missing.items():
        fetched = {(model, row.pk): row for row in
                   model._default_manager.filter(pk__in=pks).defer(*_secrets(model))}
        cache.set_many({keys[pair]: row for pair, row in fetched.items()}, TTL)
        rows.update(fetched)
    return rows


def attach_catalogue(ticket, fields=TICKET_CATALOGUE):
    """Give ``ticket`` its catalogue rows from the cache instead of joining
    them in (each join costs PostgreSQL's planner more than it saves: a
    ticket read by primary key with seven joins plans in ~3 ms, with three in
    under 0.5). For showing only."""
    for name in fields:
        field = ticket._meta.get_field(name)
        pk = getattr(ticket, field.attname)
        if pk is None or field.is_cached(ticket):
            continue
        row = catalogue_row(field.related_model, pk)
        if row is not None:
            field.set_cached_value(ticket, row)


def _connect():
    from wagtail.models import Site

    from .models import AssistSettings, QuickReply, ResolutionType

    for model in (ResolutionType, QuickReply, AssistSettings, Site):
        uid = f"wagtail_helpdesk_choices_cache_{model._meta.label_lower}"
        post_save.connect(filter_choices.invalidate, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(filter_choices.invalidate, sender=model,
                            dispatch_uid=f"{uid}_delete")


_connect()
