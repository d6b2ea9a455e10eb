"""Labels on tickets through the services layer: who may, which labels, new
names only where the vocabulary is open, one event per change, idempotency,
bulk, the vocabulary's own rules."""

import pytest
from django.core.exceptions import PermissionDenied

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed, StaleTicket
from wagtail_helpdesk.models import EventKind, Label, TicketLabel, Visibility
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.tickets.timeline import build_timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "URP"}, other_office={"name": "Tributi"}, outsider=True,
                     supervisor=True, ticket=True)
    desk.urgent = Label.objects.create(name="Urgente", colour="red")  # global
    desk.callback = Label.objects.create(name="Da richiamare", office=desk.office, colour="blue")
    desk.theirs = Label.objects.create(name="Rateizzazione", office=desk.other_office)
    return desk


def names(ticket):
    return sorted(ticket.labels.values_list("name", flat=True))


def label_events(ticket):
    return list(ticket.events.filter(kind=EventKind.LABELS_CHANGED).order_by("pk"))


def test_adding_labels_records_one_internal_event_and_touches_only_updated_at(desk):
    desk.ticket.refresh_from_db()
    before = desk.ticket
    t = services.add_labels(desk.ticket, desk.me, [desk.urgent, "da RICHIAMARE  "])
    assert names(t) == ["Da richiamare", "Urgente"]
    assert t.label_change.added == ("Urgente", "Da richiamare")
    t.refresh_from_db()
    # Bookkeeping, not work on the case: no version bump (colleagues' replies
    # still go through), no last activity (the list's order stays).
    assert t.version == before.version
    assert t.last_activity_at == before.last_activity_at
    assert t.updated_at > before.updated_at
    (event,) = label_events(t)
    assert event.visibility == Visibility.INTERNAL and event.actor == desk.me
    assert event.data == {"added": ["Urgente", "Da richiamare"], "removed": []}
    link = TicketLabel.objects.get(ticket=t, label=desk.urgent)
    assert link.added_by == desk.me


def test_adding_what_is_there_and_removing_what_is_not_changes_nothing(desk):
    t = services.add_labels(desk.ticket, desk.me, ["urgente"])
    version = t.version
    again = services.add_labels(t, desk.me, ["URGENTE", desk.urgent])
    assert not again.label_change and again.version == version
    gone = services.remove_labels(again, desk.me, [desk.callback, "Nessuna"])
    assert not gone.label_change and gone.version == version
    assert len(label_events(t)) == 1


def test_adding_and_removing_in_one_change(desk):
    t = services.add_labels(desk.ticket, desk.me, [desk.urgent])
    t = services.change_labels(t, desk.me, add=[desk.callback], remove=[desk.urgent.pk])
    assert names(t) == ["Da richiamare"]
    assert label_events(t)[-1].data == {"added": ["Da richiamare"], "removed": ["Urgente"]}
    entry = next(e for e in build_timeline(t, []) if e.kind == EventKind.LABELS_CHANGED
                 and e.event.data["removed"])
    assert entry.details == ["Labels: added “Da richiamare”, removed “Urgente”"]
    assert entry.internal and entry.icon == "tag"


def test_another_offices_label_is_refused(desk):
    with pytest.raises(GuardFailed) as refused:
        services.add_labels(desk.ticket, desk.me, [desk.theirs])
    assert "label" in refused.value.field_errors
    assert names(desk.ticket) == [] and not label_events(desk.ticket)


def test_a_new_name_is_refused_where_the_vocabulary_is_closed(desk):
    with pytest.raises(GuardFailed) as refused:
        services.add_labels(desk.ticket, desk.me, ["Stampa"])
    assert "Stampa" in str(refused.value.message)
    assert not Label.objects.filter(name="Stampa").exists()


def test_a_new_name_becomes_an_office_label_where_the_vocabulary_is_open(desk):
    desk.office.open_labels = True
    desk.office.save()
    t = services.add_labels(desk.ticket, desk.me, ["  Stampa   e social "])
    created = Label.objects.get(name="Stampa e social")
    assert created.office == desk.office and created.created_by == desk.me
    assert names(t) == ["Stampa e social"]
    # Typed again with another case: the same label, not a twin.
    other = desk.factories.request_ticket(service_=desk.service)
    services.add_labels(other, desk.me, ["stampa E SOCIAL"])
    assert Label.objects.filter(name__iexact="stampa e social").count() == 1


def test_the_offices_label_wins_over_a_global_one_with_its_name(desk):
    mine = Label.objects.create(name="urgente", office=desk.office)
    t = services.add_labels(desk.ticket, desk.me, ["Urgente"])
    assert list(t.labels.all()) == [mine]


@pytest.mark.parametrize("name", ["", "   ", "x" * 41])
def test_empty_or_too_long_names_are_refused(desk, name):
    desk.office.open_labels = True
    desk.office.save()
    with pytest.raises(GuardFailed) as refused:
        services.add_labels(desk.ticket, desk.me, [name])
    assert "label" in refused.value.field_errors
    assert Label.objects.count() == 3


def test_forty_characters_is_fine(desk):
    desk.office.open_labels = True
    desk.office.save()
    t = services.add_labels(desk.ticket, desk.me, ["x" * 40])
    assert names(t) == ["x" * 40]


def test_who_may_label(desk):
    with pytest.raises(PermissionDenied):
        services.add_labels(desk.ticket, desk.outsider, [desk.urgent])
    with pytest.raises(PermissionDenied):
        services.add_labels(desk.ticket, CitizenActor(desk.citizen), [desk.urgent])
    assert names(desk.ticket) == []
    services.add_labels(desk.ticket, desk.supervisor, [desk.urgent])
    services.remove_labels(desk.ticket, services.SYSTEM, [desk.urgent])
    admin = desk.factories.administrator()
    services.add_labels(desk.ticket, admin, [desk.callback])
    assert names(desk.ticket) == ["Da richiamare"]


def test_a_stale_version_changes_nothing(desk):
    version = desk.ticket.version
    services.set_priority(desk.ticket, desk.me, 4)
    with pytest.raises(StaleTicket):
        services.add_labels(desk.ticket, desk.me, [desk.callback], expected_version=version)
    assert names(desk.ticket) == [] and not label_events(desk.ticket)


def test_a_label_change_does_not_make_a_colleagues_reply_stale(desk, monkeypatch):
    from wagtail_helpdesk.services import core

    heard = []
    hook = core._live_hook
    monkeypatch.setattr(core, "_live_hook", lambda ticket, kind, data: (
        heard.append((ticket.pk, kind)), hook(ticket, kind, data)))
    desk.ticket.refresh_from_db()
    seen = desk.ticket.version  # what the colleague's reply box was opened on
    services.add_labels(desk.ticket, desk.supervisor, [desk.urgent])
    # The live list still hears of it (services.core.record's hook).
    assert heard == [(desk.ticket.pk, EventKind.LABELS_CHANGED)]
    t = services.reply(desk.ticket, desk.me, "Buongiorno, ci pensiamo noi.",
                       expected_version=seen)
    assert t.version == seen + 1
    t = services.remove_labels(t, desk.supervisor, [desk.urgent])
    services.resolve(t, desk.me, desk.factories.resolution_type(), "Fatto.",
                     expected_version=seen + 1)


def test_a_label_change_does_not_reorder_the_list_by_last_interaction(desk):
    from datetime import timedelta

    from wagtail_helpdesk.models import Ticket

    older = desk.ticket
    newer = desk.factories.request_ticket(service_=desk.service)
    Ticket.objects.filter(pk=older.pk).update(
        last_activity_at=newer.last_activity_at - timedelta(hours=1))
    services.add_labels(older, desk.me, [desk.urgent])
    order = list(Ticket.objects.filter(pk__in=[older.pk, newer.pk])
                 .order_by("-last_activity_at").values_list("pk", flat=True))
    assert order == [newer.pk, older.pk]


def test_a_transferred_ticket_keeps_its_labels_and_they_can_be_removed(desk):
    t = services.add_labels(desk.ticket, desk.me, [desk.callback])
    admin = desk.factories.administrator()
    t = services.transfer(t, admin, desk.other_office)
    t = services.remove_labels(t, desk.outsider, ["Da richiamare"])
    assert names(t) == []


def test_bulk_changes_each_ticket_it_may_and_lists_the_others(desk):
    mine = [desk.ticket, desk.factories.request_ticket(service_=desk.service)]
    services.add_labels(mine[1], desk.me, [desk.urgent])
    elsewhere = desk.factories.request_ticket(service_=desk.factories.service(desk.other_office))
    result = services.bulk_change_labels([*mine, elsewhere], desk.me, add=["Urgente"])
    assert [t.pk for t in result.changed] == [desk.ticket.pk]
    assert [t.pk for t in result.unchanged] == [mine[1].pk]
    ((ticket, error),) = result.failed
    assert ticket.pk == elsewhere.pk and isinstance(error, PermissionDenied)
    assert names(elsewhere) == [] and len(label_events(mine[1])) == 1


def test_bulk_with_a_label_one_office_lacks(desk):
    theirs = desk.factories.request_ticket(service_=desk.factories.service(desk.other_office))
    admin = desk.factories.administrator()
    result = services.bulk_change_labels([desk.ticket, theirs], admin, add=["Da richiamare"])
    assert [t.pk for t in result.changed] == [desk.ticket.pk]
    assert isinstance(result.failed[0][1], GuardFailed)


# --- The vocabulary ------------------------------------------------------------------


def test_supervisors_keep_their_offices_vocabulary_only(desk):
    label = services.save_label(desk.supervisor, Label(name=" Cantiere ", office=desk.office))
    assert label.name == "Cantiere" and label.created_by == desk.supervisor
    with pytest.raises(PermissionDenied):
        services.save_label(desk.supervisor, Label(name="Globale"))
    with pytest.raises(PermissionDenied):
        services.save_label(desk.supervisor, desk.theirs, name="Altro")
    with pytest.raises(PermissionDenied):
        services.save_label(desk.me, Label(name="Mia", office=desk.office))
    with pytest.raises(GuardFailed):
        services.save_label(desk.supervisor, Label(name="cantiere", office=desk.office))


def test_a_supervisor_cannot_take_another_offices_label_over(desk):
    """Moving a label of office B (or a global one) to the supervisor's own
    office is changing B's label: refused, the stored row unchanged."""
    for label in (desk.theirs, desk.urgent):
        with pytest.raises(PermissionDenied):
            services.save_label(desk.supervisor, label, office=desk.office, name="Mia ora")
        label.refresh_from_db()
        assert label.name != "Mia ora" and label.office_id != desk.office.pk
    # A stale object saying "my office" does not help either.
    stale = Label.objects.get(pk=desk.theirs.pk)
    stale.office = desk.office
    with pytest.raises(PermissionDenied):
        services.save_label(desk.supervisor, stale)
    assert Label.objects.get(pk=desk.theirs.pk).office == desk.other_office
    # Their own label they may still change, and an administrator may move any.
    mine = services.save_label(desk.supervisor, desk.callback, name="Richiamare")
    assert mine.office == desk.office
    admin = desk.factories.administrator()
    moved = services.save_label(admin, desk.theirs, office=desk.office)
    assert Label.objects.get(pk=moved.pk).office == desk.office


def test_deleting_a_label_takes_it_off_its_tickets(desk):
    services.add_labels(desk.ticket, desk.me, [desk.callback, desk.urgent])
    with pytest.raises(PermissionDenied):
        services.delete_label(desk.supervisor, desk.urgent)
    assert services.delete_label(desk.supervisor, desk.callback) == 1
    assert names(desk.ticket) == ["Urgente"]
    admin = desk.factories.administrator()
    assert services.delete_label(admin, desk.urgent) == 1
    assert names(desk.ticket) == []


def test_the_demo_vocabulary_and_labelled_tickets(factories):
    from types import SimpleNamespace

    from wagtail_helpdesk.demo import labels as demo

    urp, works = factories.office(name="URP"), factories.office(name="Lavori pubblici")
    people = {urp.pk: [factories.operator(urp)], works.pk: [factories.operator(works)]}
    for office in (urp, works):
        for _ in range(6):
            factories.request_ticket(service_=factories.service(office))
    world = SimpleNamespace(offices={"urp": urp, "lavori-pubblici": works}, members=people,
                            admin=factories.administrator())
    made = demo.build(world, None)
    assert Label.objects.filter(office__isnull=True).count() == 2
    assert set(Label.objects.filter(office=works).values_list("name", flat=True)) == {
        "Manutenzione programmata", "Coinvolge la Polizia Locale"}
    urp.refresh_from_db()
    works.refresh_from_db()
    assert urp.open_labels and not works.open_labels
    labelled = TicketLabel.objects.values("ticket_id").distinct().count()
    assert labelled >= 1 and made == Label.objects.count() + labelled
    for link in TicketLabel.objects.select_related("label", "ticket"):
        assert link.label.office_id in (None, link.ticket.office_id)
    events = sum(len(label_events(t)) for t in
                 {link.ticket for link in TicketLabel.objects.select_related("ticket")})
    assert events == labelled
    assert demo.build(world, None) >= 0  # run again: the vocabulary is not duplicated
    assert Label.objects.count() == 6  # 2 global, 2 of works, 2 of the URP
