"""The help desk a test works at: an office with its operators, maybe another
office, a supervisor, a citizen, a service and a request the citizen sent.

``make_desk`` builds one with only the parts a module asks for::

    @pytest.fixture
    def desk(make_desk):
        desk = make_desk(office={"name": "URP"}, colleague=True, ticket=True)
        desk.person = desk.citizen  # what this module's tests call it
        return desk

Every optional part is ``False`` (not made), ``True`` (made with the
factory's defaults) or a dict of keyword arguments for its factory. A
module extends the returned :class:`Desk` with what only it needs (more
tickets, its own names for a part) rather than copying the builder.
"""

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

# The people several modules' assertions name.
ANNA = {"first_name": "Anna", "last_name": "Bianchi"}  # an operator
BRUNO = {"first_name": "Bruno", "last_name": "Verdi"}  # her colleague
GIOVANNA = {"given_name": "Giovanna", "family_name": "Esposito",  # a citizen
            "fiscal_code": "RSSMRA85T10A562S"}


@dataclass(eq=False)
class Desk:
    factories: ModuleType  # tests.support.factories, to make more
    office: Any  # the office the test works in
    me: Any  # an operator of ``office``: the one the test acts as
    colleague: Any = None  # another operator of ``office``
    supervisor: Any = None  # a supervisor of ``office``
    other_office: Any = None
    outsider: Any = None  # an operator of ``other_office`` only
    citizen: Any = None
    service: Any = None  # a service of ``office``
    ticket: Any = None  # a request ``citizen`` sent about ``service``


def _kwargs(part):
    return part if isinstance(part, dict) else {}


def build_desk(factories, *, office=None, me=None, colleague=False, supervisor=False,
               other_office=False, outsider=False, citizen=False, service=False,
               ticket=False, ticket_from="citizen"):
    """A :class:`Desk`. ``office`` and ``me`` are always made (``None``: the
    factory's defaults); a ``ticket`` implies its ``citizen`` and ``service``.
    ``ticket_from``: "citizen" (sent from the web form, by a
    :class:`CitizenActor`) or "system"."""
    from wagtail_helpdesk.services import SYSTEM, CitizenActor

    if outsider and not other_office:
        raise ValueError("an outsider works in the other office: ask for other_office too")
    if ticket_from not in ("citizen", "system"):
        raise ValueError(f"ticket_from: 'citizen' or 'system', not {ticket_from!r}")
    if ticket:
        citizen, service = citizen or True, service or True
    desk = Desk(factories=factories, office=factories.office(**_kwargs(office)), me=None)
    if other_office:
        desk.other_office = factories.office(**_kwargs(other_office))
    desk.me = factories.operator(desk.office, **_kwargs(me))
    if colleague:
        desk.colleague = factories.operator(desk.office, **_kwargs(colleague))
    if outsider:
        desk.outsider = factories.operator(desk.other_office, **_kwargs(outsider))
    if supervisor:
        desk.supervisor = factories.supervisor(desk.office, **_kwargs(supervisor))
    if citizen:
        desk.citizen = factories.citizen(**_kwargs(citizen))
    if service:
        desk.service = factories.service(desk.office, **_kwargs(service))
    if ticket:
        actor = CitizenActor(desk.citizen) if ticket_from == "citizen" else SYSTEM
        desk.ticket = factories.request_ticket(actor, service_=desk.service,
                                               citizen_=desk.citizen, **_kwargs(ticket))
    return desk


@pytest.fixture
def make_desk(factories):
    """:func:`build_desk` with this test's factories (and database)."""
    return functools.partial(build_desk, factories)
