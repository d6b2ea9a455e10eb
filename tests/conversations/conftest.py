"""Fixtures of the live chat tests: a queue (office) with its service, two of
its operators, an operator of another office, and a way to start chats."""

from dataclasses import dataclass

import pytest

from wagtail_helpdesk.services import conversations

PERSON = {"given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"}


@dataclass
class Desk:
    office: object
    service: object
    operator: object
    colleague: object
    stranger: object  # an operator of another office
    resolution: object

    def start(self, body="Buongiorno, ho una domanda sulla TARI.", **kwargs):
        kwargs.setdefault("person", None if kwargs.get("user") else dict(PERSON))
        return conversations.start(service=self.service, body=body, **kwargs)


@pytest.fixture
def desk(factories):
    office = factories.office(email="")
    return Desk(
        office=office,
        service=factories.service(office),
        operator=factories.operator(office, first_name="Luca"),
        colleague=factories.operator(office, first_name="Anna"),
        stranger=factories.operator(factories.office()),
        resolution=factories.resolution_type(),
    )


@pytest.fixture
def fresh_layer():
    """A new in-memory channel layer for the test (no groups left over)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
