"""Colleagues in a conversation: consults with private messages, adding a
colleague to the chat, supervisors monitoring (recorded, told) and joining."""

import pytest
from django.core.exceptions import PermissionDenied

from tests.support import factories
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    ConversationParticipant,
    EventKind,
    TicketConsult,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.services import conversations
from wagtail_helpdesk.services.chatteam import MAX_CONSULTANTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(desk):
    c = desk.start()
    return conversations.accept(c, desk.operator)


def visible_to_citizen(c):
    return [(m.author_kind, m.event or m.body)
            for m in conversations.messages_after(c, 0)]


def test_a_consulted_colleague_of_another_office_talks_privately_with_the_operator(desk, active):
    c = conversations.invite(active, desk.operator, desk.stranger, "Mi aiuti sulla TARI?")
    # The ticket was shared with them for the consult (they could not see it).
    assert TicketConsult.objects.filter(ticket=c.ticket, consultant=desk.stranger).exists()
    assert conversations.can_read(desk.stranger, c)
    event = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.CHAT_INVITED)
    assert event.visibility == Visibility.INTERNAL and event.data["colleague"] == desk.stranger.pk

    private = conversations.send(c, desk.stranger, "Serve il codice utenza.", "s-1", private=True)
    answer = conversations.send(c, desk.operator, "Grazie!", "o-9", private=True)
    assert private.visibility == answer.visibility == Visibility.INTERNAL
    # The consultant cannot write to the citizen before being added.
    with pytest.raises(PermissionDenied):
        conversations.send(c, desk.stranger, "Buongiorno signora", "s-2")

    citizen_rows = visible_to_citizen(c)
    assert ("operator", "Serve il codice utenza.") not in citizen_rows
    assert all(m.visibility == Visibility.PUBLIC for m in conversations.messages_after(c, 0))
    operator_rows = [m.body for m in conversations.messages_after(c, 0, internal=True)]
    assert "Serve il codice utenza." in operator_rows and "Grazie!" in operator_rows
    # On the timeline the private talk is internal.
    internal = TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MESSAGE,
                                          visibility=Visibility.INTERNAL)
    assert internal.count() == 2


def test_the_citizen_cannot_write_privately(desk, active):
    with pytest.raises(PermissionDenied):
        conversations.send(active, conversations.citizen_actor(active), "x", "c-2", private=True)


def test_adding_the_colleague_tells_the_citizen_and_lets_them_write(desk, active):
    conversations.invite(active, desk.operator, desk.colleague)
    c = conversations.add_to_chat(active, desk.operator, desk.colleague)
    message = conversations.send(c, desk.colleague, "Buongiorno, sono Anna.", "a-1")
    assert message.visibility == Visibility.PUBLIC
    assert ("system", "colleague_joined") in visible_to_citizen(c)
    assert ("operator", "Buongiorno, sono Anna.") in visible_to_citizen(c)
    # The consult notice itself stays among operators.
    assert ("system", "consult") not in visible_to_citizen(c)


def test_only_the_holder_invites_and_not_twice_and_at_most_five(desk, active):
    with pytest.raises(PermissionDenied):
        conversations.invite(active, desk.colleague, desk.stranger)
    with pytest.raises(GuardFailed):
        conversations.invite(active, desk.operator, desk.operator)
    conversations.invite(active, desk.operator, desk.colleague)
    with pytest.raises(GuardFailed) as refused:
        conversations.invite(active, desk.operator, desk.colleague)
    assert "colleague" in refused.value.field_errors
    others = [factories.operator(desk.office) for _ in range(MAX_CONSULTANTS)]
    for other in others[:MAX_CONSULTANTS - 1]:
        conversations.invite(active, desk.operator, other)
    with pytest.raises(GuardFailed):
        conversations.invite(active, desk.operator, others[-1])
    assert conversations.participants(active).count() == MAX_CONSULTANTS


def test_a_colleague_who_leaves_loses_the_consult_and_cannot_write(desk, active):
    conversations.invite(active, desk.operator, desk.stranger)
    conversations.leave(active, desk.stranger)
    assert not TicketConsult.objects.filter(ticket=active.ticket,
                                            consultant=desk.stranger).exists()
    assert not conversations.can_read(desk.stranger, active)
    with pytest.raises(PermissionDenied):
        conversations.send(active, desk.stranger, "ancora?", "s-9", private=True)
    with pytest.raises(GuardFailed):
        conversations.leave(active, desk.stranger)


def test_closing_ends_every_participation(desk, active):
    conversations.invite(active, desk.operator, desk.colleague)
    conversations.close(active, desk.operator, desk.resolution, "Risolto in chat.")
    assert not conversations.participants(active).exists()
    assert ConversationParticipant.objects.get(user=desk.colleague).ended_at is not None


def test_consult_candidates_leave_out_the_operator_and_participants(desk, active):
    names = [u.pk for u, _status in conversations.consult_candidates(active)]
    assert desk.colleague.pk in names and desk.stranger.pk in names
    assert desk.operator.pk not in names
    conversations.invite(active, desk.operator, desk.colleague)
    names = [u.pk for u, _status in conversations.consult_candidates(active)]
    assert desk.colleague.pk not in names


def test_monitoring_is_recorded_and_told_to_the_operator_not_the_citizen(desk, active):
    boss = factories.supervisor(desk.office)
    c = conversations.monitor(active, boss)
    conversations.monitor(c, boss)  # again: nothing new
    events = TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED)
    assert events.count() == 1 and events.get().actor == boss
    notices = [m for m in conversations.messages_after(c, 0, internal=True)
               if m.event == "monitored"]
    assert len(notices) == 1 and notices[0].visibility == Visibility.INTERNAL
    assert ("system", "monitored") not in visible_to_citizen(c)
    # A monitoring supervisor cannot write to the citizen.
    with pytest.raises(PermissionDenied):
        conversations.send(c, boss, "Salve", "b-1")


def test_a_supervisor_who_joins_is_announced_to_both_sides_and_writes(desk, active):
    boss = factories.supervisor(desk.office)
    conversations.monitor(active, boss)
    c = conversations.join(active, boss)
    assert ("system", "supervisor_joined") in visible_to_citizen(c)
    joined = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.CHAT_JOINED,
                                     data__role="supervisor")
    assert joined.visibility == Visibility.PUBLIC
    assert conversations.send(c, boss, "Sono la responsabile.", "b-1").visibility == "public"


def test_an_operator_or_another_offices_supervisor_cannot_monitor(desk, active):
    with pytest.raises(PermissionDenied):
        conversations.monitor(active, desk.colleague)
    with pytest.raises(PermissionDenied):
        conversations.monitor(active, factories.supervisor(factories.office()))
    assert not TicketEvent.objects.filter(kind=EventKind.CHAT_MONITORED).exists()


def test_handing_back_ends_the_colleagues_and_the_share_made_for_the_consult(desk, active):
    conversations.invite(active, desk.operator, desk.stranger)
    conversations.add_to_chat(active, desk.operator, desk.stranger)
    boss = factories.supervisor(desk.office)
    conversations.monitor(active, boss)
    conversations.release(active, desk.operator)
    assert not conversations.participants(active).exists()
    assert not TicketConsult.objects.filter(ticket=active.ticket).exists()
    revoked = TicketEvent.objects.get(ticket=active.ticket, kind=EventKind.CONSULT_REVOKED)
    assert revoked.data["consultant"] == desk.stranger.pk
    c = conversations.accept(active, desk.colleague)
    with pytest.raises(PermissionDenied):  # not in the new operator's chat
        conversations.send(c, desk.stranger, "Sono ancora qui", "s-1")
    assert not conversations.can_read(desk.stranger, c)


def test_a_share_made_before_the_chat_outlives_it(desk, active):
    from wagtail_helpdesk.services import consults

    consults.grant(active.ticket, desk.operator, desk.stranger)
    conversations.invite(active, desk.operator, desk.stranger)  # can see it already
    conversations.close(active, desk.operator, desk.resolution, "Fatto.")
    assert TicketConsult.objects.filter(ticket=active.ticket, consultant=desk.stranger).exists()


def test_closing_ends_the_share_made_for_the_consult(desk, active):
    conversations.invite(active, desk.operator, desk.stranger)
    conversations.close(active, desk.operator, desk.resolution, "Fatto.")
    assert not TicketConsult.objects.filter(ticket=active.ticket).exists()
    assert not conversations.can_read(desk.stranger, active)


def test_a_monitoring_supervisor_writes_nothing_not_even_privately(desk, active):
    boss = factories.supervisor(desk.office)
    conversations.monitor(active, boss)
    with pytest.raises(PermissionDenied):
        conversations.send(active, boss, "Nota", "b-1", private=True)


def test_following_a_live_chat_is_for_its_people_and_supervisors_who_are_recorded(desk, active):
    # A colleague of the office (no supervisor) may read the ticket, not follow the live chat.
    with pytest.raises(PermissionDenied):
        conversations.follow(desk.colleague, active)
    assert conversations.follow(desk.operator, active) == active
    boss = factories.supervisor(desk.office)
    conversations.follow(boss, active)
    assert TicketEvent.objects.filter(ticket=active.ticket, kind=EventKind.CHAT_MONITORED,
                                      actor=boss).count() == 1
    waiting = desk.start()
    assert conversations.follow(desk.colleague, waiting) == waiting  # a preview before accepting


def test_handing_over_to_the_consulted_colleague_makes_it_theirs(desk, active):
    conversations.invite(active, desk.operator, desk.colleague)
    c = conversations.hand_over(active, desk.operator, desk.colleague)
    assert c.operator_id == desk.colleague.pk and c.state == "active"
    assert conversations.participant(c, desk.colleague) is None
    with pytest.raises(PermissionDenied):  # the first operator left it
        conversations.send(c, desk.operator, "Ancora io", "o-9")
    conversations.send(c, desk.colleague, "Eccomi, sono Anna", "a-1")
    with pytest.raises(GuardFailed) as refused:  # another office: cannot work on it
        conversations.hand_over(c, desk.colleague, desk.stranger)
    assert "operator" in refused.value.field_errors
