"""The live chat's queue figures (conversations/metrics.py) against a
hand-built day: every figure per queue and in total, exact values; and the
board's grouping by state. Conversations go through the services; only their
times are then moved (the services stamp the real time)."""

from datetime import UTC, datetime, timedelta

import pytest

from wagtail_helpdesk.conversations import metrics
from wagtail_helpdesk.models import (
    Conversation,
    ConversationMessage,
    OfficeMembership,
    OperatorPresence,
    Presence,
)
from wagtail_helpdesk.services import conversations

pytestmark = pytest.mark.django_db

#: 11:00 in Rome (CET): "today" began at 23:00 UTC the day before.
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
PERSON = {"given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"}


def ago(minutes):
    return NOW - timedelta(minutes=minutes)


def start(service, body="Buongiorno"):
    return conversations.start(service=service, body=body, person=dict(PERSON))


def place(c, **times):
    """Move a conversation in time (tests only)."""
    Conversation.objects.filter(pk=c.pk).update(**times)


def stamp(c, **by_seq):
    """Move messages in time: ``stamp(c, s1=ago(5))`` (tests only)."""
    for key, moment in by_seq.items():
        ConversationMessage.objects.filter(conversation=c, seq=int(key[1:])).update(
            created_at=moment)


def seen(user, minutes, chosen=""):
    OperatorPresence.objects.update_or_create(
        user=user, defaults={"chosen": chosen, "last_seen_at": ago(minutes)})


@pytest.fixture
def day(factories):
    """Two queues. Anagrafe: two waiting (7 and 3 min), three active (one
    citizen waiting 10 min for an answer — an internal note is no answer —,
    one waiting since its acceptance 4 min ago, one answered), one in
    wrap-up, two closed today (15 and 25 min handling), one closed yesterday,
    one turned into a request today. Tributi: one waiting 12 min."""
    anagrafe, tributi = factories.office("Anagrafe"), factories.office("Tributi")
    s_a, s_t = factories.service(anagrafe), factories.service(tributi)
    resolution = factories.resolution_type()
    a1 = factories.operator(anagrafe, tributi, first_name="Alba")  # available, 1 held
    a2 = factories.operator(anagrafe, first_name="Bruno")  # busy
    a3 = factories.operator(anagrafe, first_name="Carla")  # offline (gone 2 h)
    a4 = factories.operator(anagrafe, first_name="Dario")  # available, full (3 held)
    b1 = factories.operator(tributi, first_name="Elsa")  # available
    factories.supervisor(anagrafe, tributi)  # never seen: offline
    seen(a1, 1)
    seen(a2, 2, Presence.BUSY)
    seen(a3, 120)
    seen(a4, 10, Presence.AVAILABLE)
    seen(b1, 3)

    w1, w2 = start(s_a), start(s_a)
    place(w1, created_at=ago(7), queued_at=ago(7))
    place(w2, created_at=ago(3), queued_at=ago(3))

    act1 = start(s_a)  # s1 citizen
    conversations.accept(act1, a1)  # s2 notice
    conversations.send(act1, a1, "Mi dica", "o-1")  # s3
    citizen = conversations.citizen_actor(act1)
    conversations.send(act1, citizen, "Ecco la domanda", "c-2")  # s4
    conversations.send(act1, citizen, "Ci siete?", "c-3")  # s5
    conversations.send(act1, a1, "Nota per i colleghi", "o-2", private=True)  # s6
    place(act1, created_at=ago(25), queued_at=ago(25), accepted_at=ago(20))
    stamp(act1, s1=ago(25), s2=ago(20), s3=ago(18), s4=ago(10), s5=ago(5), s6=ago(8))

    act2 = start(s_a)
    conversations.accept(act2, a4)
    place(act2, created_at=ago(6), queued_at=ago(6), accepted_at=ago(4))
    stamp(act2, s1=ago(6), s2=ago(4))

    act3 = start(s_a)
    conversations.accept(act3, a4)
    conversations.send(act3, conversations.citizen_actor(act3), "Grazie", "c-2")  # s3
    conversations.send(act3, a4, "Prego", "o-1")  # s4
    place(act3, created_at=ago(35), queued_at=ago(35), accepted_at=ago(30))
    stamp(act3, s1=ago(35), s2=ago(30), s3=ago(3), s4=ago(2))

    wrap = start(s_a)
    conversations.accept(wrap, a4)
    conversations.end(wrap, a4)
    place(wrap, created_at=ago(45), queued_at=ago(45), accepted_at=ago(40))

    closed = []
    for accepted, ended in ((60, 45), (90, 65), (24 * 60 + 30, 24 * 60)):
        c = start(s_a)
        conversations.accept(c, a1)
        conversations.end(c, a1)
        conversations.close(c, a1, resolution, "Risolto in chat")
        place(c, created_at=ago(accepted + 2), queued_at=ago(accepted + 2),
              accepted_at=ago(accepted), closed_at=ago(ended))
        closed.append(c)

    request = start(s_a)
    conversations.to_ticket(request)
    place(request, created_at=ago(50), queued_at=ago(50), closed_at=ago(48))

    t1 = start(s_t)
    place(t1, created_at=ago(12), queued_at=ago(12))
    return {"anagrafe": anagrafe, "tributi": tributi, "offices": [anagrafe, tributi],
            "waiting": [w1, w2], "active": [act1, act2, act3], "wrap": wrap,
            "closed": closed, "request": request, "t1": t1}


def scope(day):
    return (Conversation.objects.all(),
            OfficeMembership.objects.filter(office__in=day["offices"]), day["offices"])


def test_per_queue_figures_are_exact(day):
    figures = metrics.queue_metrics(*scope(day), NOW)
    anagrafe, tributi = figures["queues"]
    assert anagrafe["office"] == day["anagrafe"] and tributi["office"] == day["tributi"]
    assert {k: anagrafe[k] for k in ("waiting", "active", "wrapup", "closed_today",
                                     "started_today", "logged_in", "available", "free")} == {
        "waiting": 2, "active": 3, "wrapup": 1, "closed_today": 2, "started_today": 9,
        "logged_in": 3, "available": 2, "free": 1}
    assert anagrafe["longest_unassigned"] == timedelta(minutes=7)
    assert anagrafe["longest_unanswered"] == timedelta(minutes=10)
    assert anagrafe["handling"] == timedelta(minutes=20)
    assert {k: tributi[k] for k in ("waiting", "active", "wrapup", "closed_today",
                                    "started_today", "logged_in", "available", "free")} == {
        "waiting": 1, "active": 0, "wrapup": 0, "closed_today": 0, "started_today": 1,
        "logged_in": 2, "available": 2, "free": 2}
    assert tributi["longest_unassigned"] == timedelta(minutes=12)
    assert tributi["longest_unanswered"] is None and tributi["handling"] is None


def test_totals_count_each_operator_once_and_take_the_longest_waits(day):
    total = metrics.queue_metrics(*scope(day), NOW)["total"]
    assert total["waiting"] == 3 and total["active"] == 3 and total["wrapup"] == 1
    assert total["started_today"] == 10 and total["closed_today"] == 2
    # Alba belongs to both queues: counted once.
    assert (total["logged_in"], total["available"], total["free"]) == (4, 3, 2)
    assert total["longest_unassigned"] == timedelta(minutes=12)
    assert total["longest_unanswered"] == timedelta(minutes=10)
    assert total["handling"] == timedelta(minutes=20)


def test_answer_waits_per_conversation(day):
    act1, act2, act3 = day["active"]
    since = metrics.waiting_for_answer_since(Conversation.objects.all())
    # act1: since the citizen's first message after the operator's last public
    # one (the internal note does not answer); act2: since it was accepted
    # (the wait before is the queue's); act3 was answered.
    assert since == {act1.pk: ago(10), act2.pk: ago(4)}


def test_an_answer_ends_the_wait(day):
    act1 = day["active"][0]
    operator = Conversation.objects.get(pk=act1.pk).operator
    reply = conversations.send(act1, operator, "Eccomi", "o-3")
    ConversationMessage.objects.filter(pk=reply.pk).update(created_at=ago(1))
    assert act1.pk not in metrics.waiting_for_answer_since(Conversation.objects.all())


def test_figures_follow_the_scope_given(day):
    only_tributi = Conversation.objects.filter(office=day["tributi"])
    memberships = OfficeMembership.objects.filter(office=day["tributi"])
    figures = metrics.queue_metrics(only_tributi, memberships, [day["tributi"]], NOW)
    assert [q["office"] for q in figures["queues"]] == [day["tributi"]]
    assert figures["total"]["waiting"] == 1 and figures["total"]["started_today"] == 1
    assert figures["total"]["longest_unanswered"] is None
    assert (figures["total"]["logged_in"], figures["total"]["free"]) == (2, 2)


def test_nothing_at_all_gives_zeros_and_no_durations(factories):
    office = factories.office()
    figures = metrics.queue_metrics(Conversation.objects.all(),
                                    OfficeMembership.objects.all(), [office], NOW)
    (row,) = figures["queues"]
    assert row["waiting"] == 0 and row["logged_in"] == 0
    assert row["longest_unassigned"] is None and row["handling"] is None
    total = figures["total"]
    assert (total["waiting"], total["started_today"], total["logged_in"]) == (0, 0, 0)
    assert total["longest_unassigned"] is None and total["longest_unanswered"] is None


def test_the_board_groups_by_state_with_the_answer_wait(day):
    states = metrics.board(Conversation.objects.all(), NOW)
    w1, w2 = day["waiting"]
    assert [c.pk for c in states["waiting"]] == [day["t1"].pk, w1.pk, w2.pk]  # oldest first
    assert {c.pk for c in states["active"]} == {c.pk for c in day["active"]}
    assert [c.pk for c in states["wrapup"]] == [day["wrap"].pk]
    # Closed today only (yesterday's is not on the board), latest first.
    assert [c.pk for c in states["closed"]] == [day["closed"][0].pk, day["closed"][1].pk]
    assert [c.pk for c in states["ticket"]] == [day["request"].pk]
    act1 = next(c for c in states["active"] if c.pk == day["active"][0].pk)
    assert act1.answer_wait_since == ago(10) and act1.present == []
