"""The ticket search at scale: what was typed is recognised, each kind looked
up with its index (issue 20). Same results on SQLite and PostgreSQL; on
PostgreSQL the indexes of migration 0024 must be able to serve the lookups."""

import re

import pytest
from codicefiscale import codicefiscale
from django.db import connection

from wagtail_helpdesk.fiscalcode import check_character
from wagtail_helpdesk.models import Label, ShortCodeMode, Ticket
from wagtail_helpdesk.tickets.search import recognise, search, search_q

FISCAL = "RSSMRA85T10A562S"


@pytest.mark.parametrize(("text", "kind"), [
    ("144", "number"), ("#000144", "number"), ("2026-144", "year_number"),
    ("2026/000144", "year_number"), ("AST-2026-000144", "short_code"),
    ("ast-2026-000144", "short_code"), (FISCAL, "fiscal_code"),
    ("tinit-rssmra85t10a562s", "fiscal_code"), ("Esposito", "words"),
    ("K7Q2M9XA", "words"), ("buca in via roma", "words"),
])
def test_what_was_typed_is_recognised(text, kind):
    assert recognise(text)[0] == kind


def _with_check(code15):
    return code15 + check_character(code15)


@pytest.mark.parametrize(("text", "kind"), [
    (_with_check("RSSMRA85T10A56N"), "fiscal_code"),  # omocodia: N stands for 2
    (FISCAL[:15] + "T", "words"),  # wrong check character
    (_with_check("RSSMRA85B30A562"), "words"),  # 30 February
    (_with_check("RSSMRA85T72A562"), "words"),  # day 32 (72 - 40)
])
def test_a_fiscal_code_is_recognised_by_arithmetic_as_the_library_validates_it(text, kind):
    """The search recognises a fiscal code without python-codicefiscale (3 ms
    a call): shape, check character and date agree with the library here."""
    assert recognise(text)[0] == kind
    assert codicefiscale.is_valid(text) == (kind == "fiscal_code")


@pytest.fixture
def tickets(factories):
    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST",
                       report_prefix="SEG")
    office = factories.office()
    service = factories.service(office)
    giovanna = factories.citizen(given_name="Giovanna", family_name="Esposito",
                                 fiscal_code=FISCAL)
    declared = factories.citizen(given_name="Pietro", family_name="Neri", declared=True,
                                 declared_fiscal_code="NRIPTR80A01H501M")
    made = {
        "giovanna": factories.request_ticket(service_=service, citizen_=giovanna,
                                             subject="Carta d'identità"),
        "declared": factories.request_ticket(service_=service, citizen_=declared,
                                             subject="Residenza"),
        "subject": factories.request_ticket(service_=service, subject="Passo carrabile scaduto"),
        "description": factories.request_ticket(service_=service, subject="Altro",
                                                description="Il cassonetto è rotto"),
    }
    return made


def found(text):
    return set(search(Ticket.objects.all(), text).values_list("pk", flat=True))


def names(tickets, pks):
    return {name for name, t in tickets.items() if t.pk in pks}


def test_each_kind_finds_its_tickets(tickets):
    code = tickets["giovanna"].short_code
    assert code and code.startswith("AST-")
    assert names(tickets, found(code.lower())) == {"giovanna"}
    number = code.rsplit("-", 1)[1]
    assert names(tickets, found(number)) == {"giovanna"}
    assert names(tickets, found(f"#{tickets['subject'].pk}")) == {"subject"}
    assert names(tickets, found("tinit-" + FISCAL.lower())) == {"giovanna"}
    assert names(tickets, found("NRIPTR80A01H501M")) == {"declared"}
    assert names(tickets, found("esposito")) == {"giovanna"}
    assert names(tickets, found("Giovanna Bianchi")) == {"giovanna"}
    assert names(tickets, found("CARRABILE")) == {"subject"}
    assert names(tickets, found("cassonetto")) == {"description"}
    assert found("nessunrisultato") == set()


def test_a_label_name_finds_its_tickets(tickets, factories):
    label = Label.objects.create(name="Da richiamare", colour="blue")
    tickets["subject"].labels.add(label)
    assert names(tickets, found("da richiamare")) == {"subject"}
    assert names(tickets, found('label:"Da richiamare" carrabile')) == {"subject"}
    assert found('label:"Da richiamare" cassonetto') == set()


def test_name_words_read_the_citizens_in_the_same_query(tickets, django_assert_num_queries):
    """However many citizens share a name, their ids come from a subquery of
    the search's own query (an array computed once on PostgreSQL): no
    separate query, no list of ids that stops at some size."""
    with django_assert_num_queries(2):  # the label lookup, then the tickets
        hits = set(search(Ticket.objects.all(), "esposito").values_list("pk", flat=True))
    assert names(tickets, hits) == {"giovanna"}
    sql = str(search(Ticket.objects.all(), "esposito").query).upper()
    assert "WAGTAIL_HELPDESK_CITIZEN" in sql


def test_words_never_join_the_citizens(tickets):
    """The words' OR stays on the ticket's own columns (ids of citizens, not a
    join): no index could serve an OR across a join."""
    sql = str(Ticket.objects.filter(search_q("esposito")).query).upper()
    assert " JOIN " not in sql


# --- PostgreSQL: the indexes can serve each lookup -----------------------------------------


def plan(queryset):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            return queryset.explain()
        finally:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.postgres
@pytest.mark.parametrize(("text", "indexes"), [
    ("ast-2026-000001", ["helpdesk_t_code_upper"]),
    ("carrabile", ["helpdesk_t_subject_trgm", "helpdesk_t_description_trgm"]),
])
def test_postgresql_serves_the_search_with_its_indexes(tickets, text, indexes):
    """With sequential scans discouraged, the plan must use the index made for
    the lookup: proof that the index's expression is the lookup's."""
    shown = plan(Ticket.objects.filter(search_q(text)).order_by())
    for index in indexes:
        assert index in shown, shown


@pytest.mark.postgres
def test_postgresql_serves_the_name_words_with_trigrams(tickets):
    from wagtail_helpdesk.models import Citizen

    shown = plan(Citizen.objects.filter(family_name__icontains="sposi"))
    assert "helpdesk_citizen_family_trgm" in shown, shown
    shown = plan(Citizen.objects.filter(given_name__icontains="iovan"))
    assert "helpdesk_citizen_given_trgm" in shown, shown


@pytest.mark.postgres
def test_postgresql_ors_the_citizens_ids_with_the_ticket_indexes(tickets):
    """The citizens' ids are an index condition (``= ANY(array)``) beside the
    trigram arms, not a subplan checked on every row."""
    shown = plan(Ticket.objects.filter(search_q("esposito")).values("pk"))
    assert "BitmapOr" in shown, shown
    assert "SubPlan" not in shown, shown
    assert "citizen_id = ANY" in shown, shown


# --- numbers and codes are text too ----------------------------------------------------------


@pytest.fixture
def texts(tickets, factories):
    service = tickets["subject"].service
    tickets["phone"] = factories.request_ticket(
        service_=service, subject="Richiamare", description="Il numero è 3331234567, ore pasti")
    tickets["protocol"] = factories.request_ticket(
        service_=service, subject="Rif. protocollo dl-2020-76", description="Vedi sopra")
    return tickets


def test_numbers_and_codes_are_found_inside_the_texts(texts):
    assert names(texts, found("3331234567")) == {"phone"}
    assert names(texts, found("DL-2020-76")) == {"protocol"}
    assert names(texts, found("2020-76")) == {"protocol"}
    # The exact match still works alongside.
    code = texts["giovanna"].short_code
    assert names(texts, found(code)) == {"giovanna"}
    assert names(texts, found(code.rsplit("-", 1)[1])) == {"giovanna"}
    year, number = code.split("-")[1:]
    assert names(texts, found(f"{year}-{number}")) == {"giovanna"}


@pytest.mark.parametrize("text", ["2099-5", "2026-999999", "2026-0", "0", "999999999999"])
def test_a_number_with_no_ticket_finds_nothing(texts, text):
    assert found(text) == set()


@pytest.mark.parametrize("text", ["2099-5", "2026-999999", "2026-0"])
def test_the_list_shows_no_match_rather_than_failing(client, texts, factories, text):
    me = factories.operator(texts["subject"].office)
    client.force_login(me)
    response = client.get("/admin/helpdesk/tickets/", {"queue": "all", "q": text})
    assert response.status_code == 200
    assert not re.search(r'href="/admin/helpdesk/tickets/\d+/"', response.content.decode())


def test_the_api_finds_numbers_inside_the_texts(caller, texts, factories):
    api = caller(factories.operator(texts["subject"].office))
    for text, expected in (("3331234567", "phone"), ("DL-2020-76", "protocol"),
                           ("2099-5", None)):
        response = api.get("/tickets/", {"q": text})
        assert response.status_code == 200, response.content
        ids = {row["id"] for row in response.json()["items"]}
        assert ids == ({texts[expected].pk} if expected else set())


@pytest.mark.postgres
@pytest.mark.parametrize("text", ["3331234567", "2026-144", "DL-2020-76"])
def test_postgresql_serves_numbers_with_an_or_of_indexes(texts, text):
    shown = plan(Ticket.objects.filter(search_q(text)).order_by())
    assert "BitmapOr" in shown and "Seq Scan" not in shown, shown
    for index in ("helpdesk_t_subject_trgm", "helpdesk_t_description_trgm"):
        assert index in shown, shown
