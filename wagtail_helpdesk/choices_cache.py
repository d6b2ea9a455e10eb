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
    return catalogue_rows([(model, pk)]).get((model, pk))


def catalogue_rows(wanted):
    """``{(model, pk): row}`` for the ``(model, pk)`` pairs ``wanted``, kept
    without their :data:`SECRET_FIELDS`: one cache read for all of them (a
    page of tickets names a few dozen rows: one round trip to Redis, not two
    per row), one query per model for the rows not in the cache. Rows that do
    not exist are left out."""
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


def attach_catalogue(tickets, fields=TICKET_CATALOGUE):
    """Give each of ``tickets`` its catalogue rows from the cache, all of them
    in one cache read, instead of joining them in (each join costs
    PostgreSQL's planner more than it saves: a ticket read by primary key
    with seven joins plans in ~3 ms, with three in under 0.5; the REST API's
    list with six joins planned in 10 ms for 5 ms of execution). Rows already
    joined in are kept. For showing only."""
    wanted = []
    for ticket in tickets:
        for name in fields:
            field = ticket._meta.get_field(name)
            pk = getattr(ticket, field.attname)
            if pk is not None and not field.is_cached(ticket):
                wanted.append((ticket, field, (field.related_model, pk)))
    rows = catalogue_rows(pair for _ticket, _field, pair in wanted)
    for ticket, field, pair in wanted:
        if pair in rows:
            field.set_cached_value(ticket, rows[pair])


def _connect():
    from wagtail.models import Site

    from .models import AssistSettings, QuickReply, ResolutionType

    for model in (ResolutionType, QuickReply, AssistSettings, Site):
        uid = f"wagtail_helpdesk_choices_cache_{model._meta.label_lower}"
        post_save.connect(filter_choices.invalidate, sender=model, dispatch_uid=f"{uid}_save")
        post_delete.connect(filter_choices.invalidate, sender=model,
                            dispatch_uid=f"{uid}_delete")


_connect()
