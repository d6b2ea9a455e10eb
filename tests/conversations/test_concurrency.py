"""Claims under real concurrency (PostgreSQL): one winner, capacity kept."""

import pytest
from django.db import connection

from tests.support.concurrency import race
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import Conversation
from wagtail_helpdesk.services import conversations

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True,
                                                         serialized_rollback=True)]


def test_twenty_operators_accepting_the_same_conversation_one_wins(desk, factories):
    assert connection.vendor == "postgresql"
    c = desk.start()
    operators = [factories.operator(desk.office) for _ in range(20)]
    results, errors = race([lambda op=op: conversations.accept(c, op) for op in operators],
                           refusals=GuardFailed)
    assert len(results) == 1 and len(errors) == 19
    assert all("already accepted" in str(e.message) for e in errors)
    winner = results[0].operator
    c.refresh_from_db()
    assert c.state == "active" and c.operator == winner and c.ticket.assignee == winner
    assert c.messages.filter(event="joined").count() == 1


def test_concurrent_accepts_never_exceed_the_capacity(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 3
    chats = [desk.start() for _ in range(10)]
    results, errors = race([lambda c=c: conversations.accept(c, desk.operator) for c in chats],
                           refusals=GuardFailed)
    assert len(results) == 3 and len(errors) == 7
    assert Conversation.objects.filter(operator=desk.operator, state="active").count() == 3
    assert Conversation.objects.filter(state="waiting").count() == 7


def test_concurrent_next_offers_share_the_queue_within_capacity(desk, factories, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 2
    chats = [desk.start() for _ in range(6)]
    operators = [desk.operator, desk.colleague, factories.operator(desk.office)]
    calls = [lambda op=op: conversations.accept_next(op) for op in operators for _ in range(4)]
    results, errors = race(calls, refusals=GuardFailed)
    taken = [c.pk for c in results if c is not None]
    assert sorted(taken) == sorted(c.pk for c in chats)  # each one once, none lost
    for op in operators:
        assert Conversation.objects.filter(operator=op, state="active").count() == 2
    assert len(errors) == 6 and all("maximum" in str(e.message) for e in errors)
