"""REST API: tickets list and detail, creation, permissions, query counts."""

import re

import pytest
from django.utils import translation

from tests.support.desk import GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Kind, Ticket, Visibility

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_desk):
    """URP (two operators, a service, Giovanna's tickets: one in charge of "me",
    one pending) and Tributi (an operator, a ticket)."""
    desk = make_desk(office={"name": "URP"}, colleague=True, other_office={"name": "Tributi"},
                     outsider=True, service={"name": "Carta d'identità"}, citizen=GIOVANNA)
    desk.urp, desk.tributi, desk.stranger, desk.person = (
        desk.office, desk.other_office, desk.outsider, desk.citizen)
    factories = desk.factories
    desk.mine = services.take_charge(
        factories.request_ticket(service_=desk.service, citizen_=desk.person), desk.me)
    desk.pending = factories.request_ticket(service_=desk.service, citizen_=desk.person)
    desk.elsewhere = factories.request_ticket(service_=factories.service(desk.tributi))
    return desk


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_without_a_token_the_api_answers_401_as_a_problem(client, desk):
    response = client.get("/api/helpdesk/v1/tickets/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401 and "Bearer" in response.json()["detail"]


def test_a_logged_in_admin_session_is_not_enough(client, desk):
    client.force_login(desk.me)
    assert client.get("/api/helpdesk/v1/tickets/").status_code == 401


def test_an_operator_lists_only_their_offices_tickets(caller, desk):
    assert ids(caller(desk.me).get("/tickets/")) == {desk.mine.pk, desk.pending.pk}
    assert ids(caller(desk.stranger).get("/tickets/")) == {desk.elsewhere.pk}


def test_list_filters_are_the_admin_lists(caller, desk):
    api = caller(desk.me)
    assert ids(api.get("/tickets/", {"queue": "mine"})) == {desk.mine.pk}
    assert ids(api.get("/tickets/", {"queue": "pending"})) == {desk.pending.pk}
    assert ids(api.get("/tickets/", {"status": ["new", "in_progress"]})) == {desk.mine.pk,
                                                                           desk.pending.pk}
    assert ids(api.get("/tickets/", {"assignee": desk.me.pk})) == {desk.mine.pk}
    assert ids(api.get("/tickets/", {"q": "RSSMRA85T10A562S"})) == {desk.mine.pk,
                                                                    desk.pending.pk}
    assert ids(api.get("/tickets/", {"q": desk.mine.short_code})) == {desk.mine.pk}
    assert ids(api.get("/tickets/", {"kind": "report"})) == set()


def test_a_filter_on_an_office_not_yours_names_the_field(caller, desk):
    response = caller(desk.me).get("/tickets/", {"office": desk.tributi.pk})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["office"]


def test_bad_parameters_name_the_field(caller, desk):
    api = caller(desk.me)
    for params, field in (({"status": "lost"}, "status"), ({"limit": 0}, "limit"),
                          ({"limit": 100000}, "limit"), ({"ordering": "subject"}, "ordering"),
                          ({"cursor": "garbage"}, "cursor"),
                          ({"created_after": "ieri"}, "created_after")):
        response = api.get("/tickets/", params)
        assert response.status_code == 422, (params, response.content)
        assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_cursor_pagination_walks_every_ticket_once(caller, desk):
    for _ in range(5):
        desk.factories.request_ticket(service_=desk.service)
    api, seen, url, pages = caller(desk.me), [], "/tickets/", 0
    params = {"limit": 3, "ordering": "-created_at"}
    while True:
        body = api.get(url, params).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if not body["next_cursor"]:
            assert body["next"] is None
            break
        assert body["next"].startswith("http://testserver/api/helpdesk/v1/tickets/?")
        params = {**params, "cursor": body["next_cursor"]}
    expected = list(Ticket.objects.filter(office=desk.urp).exclude(status="draft")
                    .order_by("-created_at", "-pk").values_list("pk", flat=True))
    assert seen == expected and pages == 3


def test_the_list_costs_the_same_queries_for_3_or_30_rows(caller, desk,
                                                          django_assert_num_queries):
    api = caller(desk.me)
    api.get("/tickets/")  # warm the permission caches of this process
    for count in (3, 30):
        Ticket.objects.all().delete()
        for _ in range(count):
            desk.factories.request_ticket(service_=desk.service, citizen_=desk.person)
        # token, permissions (one query: the helpdesk's auth backend), offices,
        # page, and the page's labels (one prefetch)
        with django_assert_num_queries(5):
            assert len(ids(api.get("/tickets/", {"limit": 50}))) == count


def test_a_cold_cache_costs_one_query_per_catalogue_for_3_or_30_services(
        caller, desk, django_assert_num_queries):
    from django.core.cache import cache

    api = caller(desk.me)
    api.get("/tickets/")  # the permission caches of this process
    for count in (3, 30):
        Ticket.objects.all().delete()
        for _ in range(count):
            desk.factories.request_ticket(service_=desk.factories.service(desk.urp),
                                          citizen_=desk.person)
        cache.clear()
        # token, permissions, offices, page, labels; then the services and the
        # office the page names (one query each, whatever their number)
        with django_assert_num_queries(7):
            body = api.get("/tickets/", {"limit": 50}).json()
        assert len({item["service"]["id"] for item in body["items"]}) == count


def test_the_catalogue_comes_from_the_cache_and_a_rename_shows_at_once(
        caller, desk, django_capture_on_commit_callbacks):
    """Offices, services, problem types and resolution types are not joined
    into the list's query (each join cost PostgreSQL's planner more than it
    saved at 1M tickets): their names come from the cache, renamed at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    resolved = services.resolve(services.take_charge(desk.pending, desk.me), desk.me,
                                desk.factories.resolution_type(), "Fatto.")
    api = caller(desk.me)
    api.get("/tickets/")  # the catalogue rows into the cache
    with CaptureQueriesContext(connection) as captured:
        items = {item["id"]: item for item in api.get("/tickets/").json()["items"]}
    page = next(q["sql"] for q in captured if 'FROM "wagtail_helpdesk_ticket"' in q["sql"]
                and "LIMIT" in q["sql"])
    for table in ("office", "service", "reportcategory", "resolutiontype"):
        assert f'"wagtail_helpdesk_{table}"' not in page
    assert not [q for q in captured if 'FROM "wagtail_helpdesk_office"' in q["sql"]]
    shown = items[resolved.pk]
    assert shown["office"] == {"id": desk.urp.pk, "name": "URP"}
    assert shown["service"] == {"id": desk.service.pk, "name": "Carta d'identità"}
    assert shown["resolution"]["type"]["id"] == resolved.resolution_type_id
    with django_capture_on_commit_callbacks(execute=True):
        desk.urp.name = "Ufficio Relazioni"
        desk.urp.save()
        desk.service.name = "CIE"
        desk.service.save()
    shown = {item["id"]: item for item in api.get("/tickets/").json()["items"]}[resolved.pk]
    assert shown["office"]["name"] == "Ufficio Relazioni" and shown["service"]["name"] == "CIE"
    detail = api.get(f"/tickets/{resolved.pk}/").json()
    assert detail["office"]["name"] == "Ufficio Relazioni"


@pytest.mark.parametrize("path", ["/tickets/", "/tickets/{pk}/"])
def test_the_shaped_answers_are_sent_as_they_are_and_checked_in_the_tests(
        caller, desk, settings, monkeypatch, path):
    """The list and one ticket are sent as serialise.py wrote them (no second
    validation by their schemas: it cost 4× the writing); the tests' setting
    validates them all the same, and a field the schema lacks, a wrong type or
    order fails the call."""
    from wagtail_helpdesk.api import respond, schemas, serialise

    path = path.format(pk=desk.mine.pk)
    validated = []
    for schema in (schemas.TicketPage, schemas.TicketDetailOut):
        real = schema.model_validate.__func__

        def counted(cls, *args, _real=real, **kwargs):
            validated.append(cls.__name__)
            return _real(cls, *args, **kwargs)

        monkeypatch.setattr(schema, "model_validate", classmethod(counted))
    api = caller(desk.me)
    settings.WAGTAIL_HELPDESK_API_CHECK_RESPONSES = False
    plain = api.get(path)
    assert plain.status_code == 200
    settings.WAGTAIL_HELPDESK_API_CHECK_RESPONSES = True
    checked = api.get(path)
    assert checked.content == plain.content and validated

    ticket = serialise.ticket
    for change, where in (
            (lambda row: {**row, "secret": "x"}, "(keys: secret)"),  # a field the schema lacks
            (lambda row: {**row, "version": str(row["version"])}, ".version (type)"),
            (lambda row: {"version": row["version"], **row}, "(keys in another order)")):
        monkeypatch.setattr(serialise, "ticket",
                            lambda request, t, _change=change: _change(ticket(request, t)))
        with pytest.raises(respond.ShapeError, match=re.escape(where)) as refused:
            api.get(path)
        assert "Giovanna" not in str(refused.value)  # where, never the personal data
    # In production nothing validates them again: what serialise.py writes is sent.
    settings.WAGTAIL_HELPDESK_API_CHECK_RESPONSES = False
    monkeypatch.setattr(serialise, "ticket", lambda request, t: {**ticket(request, t), "x": 1})
    sent = api.get(path).json()
    assert (sent["items"][0] if "items" in sent else sent)["x"] == 1


def test_the_detail_shows_the_timeline_and_hides_nothing_from_operators(caller, desk,
                                                                         jpeg_upload):
    services.add_note(desk.mine, desk.me, "Chiamare l'anagrafe")
    services.add_attachment(desk.mine, desk.me, jpeg_upload("scheda.jpg"),
                            visibility=Visibility.INTERNAL)
    response = caller(desk.colleague).get(f"/tickets/{desk.mine.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["short_code"] == desk.mine.short_code and body["citizen"]["fiscal_code"] == (
        "RSSMRA85T10A562S")
    assert body["admin_url"].endswith(f"/admin/helpdesk/tickets/{desk.mine.pk}/")
    kinds = [event["kind"] for event in body["timeline"]]
    assert "note" in kinds and "attachment_added" in kinds
    note = next(e for e in body["timeline"] if e["kind"] == "note")
    assert note["internal"] and note["body"] == "Chiamare l'anagrafe"
    assert note["actor"] == {"role": "operator", "name": desk.me.get_full_name()
                             or desk.me.get_username()}
    assert [a["name"] for a in body["attachments"]] == ["scheda.jpg"]
    assert {"reply", "resolve", "priority", "waiting"} <= set(body["actions"])
    assert "take-charge" in body["actions"]  # someone else's: the colleague may take it


def test_view_only_users_get_the_public_timeline(caller, desk, jpeg_upload, django_user_model):
    from django.contrib.auth.models import Permission

    auditor = desk.factories.user("revisore", offices=[desk.urp], group=None)
    auditor.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    services.add_note(desk.mine, desk.me, "Riservato")
    secret = services.add_attachment(desk.mine, desk.me, jpeg_upload("interno.jpg"),
                                     visibility=Visibility.INTERNAL)
    api = caller(auditor)
    body = api.get(f"/tickets/{desk.mine.pk}/").json()
    assert all(not event["internal"] for event in body["timeline"])
    assert "Riservato" not in str(body) and body["attachments"] == []
    assert body["actions"] == []
    assert api.get(f"/tickets/{desk.mine.pk}/attachments/{secret.pk}/").status_code == 404


def test_another_offices_ticket_is_404_everywhere(caller, desk):
    api = caller(desk.stranger)
    assert api.get(f"/tickets/{desk.mine.pk}/").status_code == 404
    for action, data in (("take-charge", {}), ("reply", {"body": "x"}), ("note", {"body": "x"}),
                         ("priority", {"priority": 4}), ("reopen", {})):
        response = api.post(f"/tickets/{desk.mine.pk}/{action}/", data)
        assert response.status_code == 404, action
    desk.mine.refresh_from_db()
    assert desk.mine.priority == 2 and desk.mine.events.filter(kind="note").count() == 0


def test_the_detail_costs_a_fixed_number_of_queries(caller, desk, django_assert_num_queries):
    api = caller(desk.me)
    api.get(f"/tickets/{desk.pending.pk}/")
    # 6, and the ticket's labels (the timeline reads the names of people and
    # offices only when an event names some: notes name nobody)
    with django_assert_num_queries(7):
        assert api.get(f"/tickets/{desk.pending.pk}/").status_code == 200
    for n in range(10):
        services.add_note(desk.pending, desk.me, f"nota {n}")
    with django_assert_num_queries(7):
        assert api.get(f"/tickets/{desk.pending.pk}/").status_code == 200


def test_creating_a_ticket_on_a_citizens_behalf(caller, desk):
    response = caller(desk.me).post("/tickets/", {
        "kind": "request", "service": desk.service.pk, "description": "Rinnovo",
        "citizen": {"given_name": "Luca", "family_name": "Neri",
                    "fiscal_code": "NRELCU80A01H501S", "email": "luca@example.org"}})
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.channel == Channel.API and ticket.kind == Kind.REQUEST
    assert ticket.status == "new" and ticket.short_code and body["short_code"] == ticket.short_code
    # Details an integration sends are a declared identity, the ticket's own.
    assert ticket.created_by == desk.me and ticket.citizen.declared
    assert ticket.citizen.declared_fiscal_code == "NRELCU80A01H501S"
    assert ticket.office == desk.urp


def test_a_retried_creation_with_the_same_idempotency_key_makes_one_ticket(caller, desk):
    api = caller(desk.me)
    data = {"kind": "request", "service": desk.service.pk, "citizen_id": desk.person.pk,
            "description": "Rinnovo"}
    first = api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.json()["id"] == again.json()["id"]
    assert Ticket.objects.filter(channel=Channel.API).count() == 1


def test_invalid_creations_name_the_field_and_create_nothing(caller, desk):
    api = caller(desk.me)
    before = Ticket.objects.count()
    for data, field in (({"kind": "request", "service": 99999}, "service"),
                        ({"kind": "request"}, "service"),
                        ({"kind": "parcel"}, "kind"),
                        ({"kind": "request", "service": desk.service.pk,
                          "citizen_id": 424242}, "citizen_id"),
                        ({"kind": "report", "report_category": None, "latitude": 100},
                         "latitude")):
        response = api.post("/tickets/", data)
        assert response.status_code == 422, (data, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json().get("errors", [])], (
            data, response.json())
    assert Ticket.objects.count() == before


def test_a_revoked_token_is_refused(client, desk):
    from wagtail.models import APIToken

    from tests.support.api import Caller

    instance, plaintext = APIToken.create_token(user=desk.me, name="script")
    api = Caller(client, plaintext)
    assert api.get("/tickets/").status_code == 200
    instance.revoke()
    assert api.get("/tickets/").status_code == 401


def test_a_token_of_a_user_outside_the_help_desk_is_refused(caller, desk, django_user_model):
    editor = django_user_model.objects.create_user("redattore", password="x")
    assert caller(editor).get("/tickets/").status_code == 401


def test_calls_are_limited_per_token(caller, desk, settings):
    settings.WAGTAIL_HELPDESK_API_RATE_PER_MINUTE = 3
    api, other = caller(desk.me), caller(desk.me)
    assert [api.get("/me/").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/me/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused["Content-Type"] == "application/problem+json"
    assert other.get("/me/").status_code == 200  # each token its own budget


def test_supervisors_manage_their_own_tokens_in_the_admin(client, desk):
    from wagtail.models import APIToken

    supervisor = desk.factories.supervisor(desk.urp)
    client.force_login(supervisor)
    assert client.get("/admin/api-tokens/").status_code == 200
    response = client.post("/admin/api-tokens/new/", {"name": "Script URP",
                                                      "user": supervisor.pk})
    assert response.status_code in (200, 302)
    assert APIToken.objects.filter(user=supervisor, name="Script URP").exists()
    client.force_login(desk.me)  # operators: not in their menu
    assert client.get("/admin/api-tokens/").status_code in (302, 403)


@pytest.mark.parametrize("ordering", ["-last_activity_at", "created_at", "-id"])
def test_cursor_pages_through_ties_without_repeats_or_gaps(caller, desk, ordering):
    same = desk.mine.last_activity_at
    for _ in range(5):
        desk.factories.request_ticket(service_=desk.service)
    Ticket.objects.filter(office=desk.urp).update(last_activity_at=same, created_at=same)
    api, seen, params = caller(desk.me), [], {"limit": 2, "ordering": ordering}
    while True:
        body = api.get("/tickets/", params).json()
        seen += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            break
        params = {**params, "cursor": body["next_cursor"]}
    visible = Ticket.objects.filter(office=desk.urp).exclude(status="draft")
    assert sorted(seen) == sorted(visible.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 7
    # A cursor made for another ordering is refused, not misread.
    first = api.get("/tickets/", {"limit": 2, "ordering": ordering}).json()["next_cursor"]
    other = "id" if ordering != "id" else "-id"
    assert api.get("/tickets/", {"ordering": other, "cursor": first}).status_code == 422


def test_crafted_cursors_and_nul_characters_are_422_not_500(caller, desk):
    import base64
    import json

    api = caller(desk.me)
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                  "2026-01-01T00:00:00"):
        raw = json.dumps(["-last_activity_at", value, 1]).encode()
        crafted = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response = api.get("/tickets/", {"cursor": crafted})
        assert response.status_code == 422, (value, response.content)
    assert api.get("/tickets/", {"q": "a\x00b"}).status_code == 422
    response = api.post("/tickets/", {"kind": "request", "service": desk.service.pk,
                                      "description": "nul\x00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "description"
    assert api.post(f"/tickets/{desk.mine.pk}/note/", {"body": "\x00"}).status_code == 422


def test_a_refused_or_retried_creation_registers_no_extra_citizen(caller, desk):
    from wagtail_helpdesk.models import Citizen

    api = caller(desk.me)
    before = Citizen.objects.count()
    elsewhere = desk.factories.service(desk.tributi)
    refused = api.post("/tickets/", {"kind": "request", "service": elsewhere.pk,
                                     "description": "x",
                                     "citizen": {"given_name": "Anna", "family_name": "Blu"}})
    assert refused.status_code in (403, 422) and Citizen.objects.count() == before
    data = {"kind": "request", "service": desk.service.pk, "description": "Rinnovo",
            "citizen": {"given_name": "Anna", "family_name": "Blu"}}
    first = api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="k-9")
    again = api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="k-9")
    assert first.json()["id"] == again.json()["id"]
    assert Citizen.objects.count() == before + 1


def test_a_creation_answers_even_when_the_caller_cannot_view_the_ticket(caller, desk):
    from django.contrib.auth.models import Permission

    switchboard = desk.factories.user("centralino", offices=[desk.urp], group=None)
    switchboard.user_permissions.add(*Permission.objects.filter(
        codename__in=["add_ticket", "add_citizen"]))
    api = caller(switchboard)
    data = {"kind": "request", "service": desk.service.pk, "description": "Da telefono",
            "citizen_id": None, "citizen": {"given_name": "Ugo", "family_name": "Neri"}}
    first = api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="tel-1")
    assert first.status_code == 201, first.content
    assert api.post("/tickets/", data, HTTP_IDEMPOTENCY_KEY="tel-1").json()["id"] == (
        first.json()["id"])
    assert Ticket.objects.filter(channel="api").count() == 1


def test_citizens_are_named_by_id_only_among_the_callers_own(caller, desk):
    stranger_citizen = desk.factories.citizen(given_name="Piero", fiscal_code="")
    desk.factories.request_ticket(service_=desk.factories.service(desk.tributi),
                                  citizen_=stranger_citizen)
    response = caller(desk.me).post("/tickets/", {
        "kind": "request", "service": desk.service.pk, "description": "x", "draft": True,
        "citizen_id": stranger_citizen.pk})
    assert response.status_code == 422 and "Piero" not in response.content.decode()
    assert response.json()["errors"][0]["field"] == "citizen_id"
    ok = caller(desk.me).post("/tickets/", {"kind": "request", "service": desk.service.pk,
                                            "description": "x", "citizen_id": desk.person.pk})
    assert ok.status_code == 201


def test_guessing_tokens_is_slowed_down_per_address(client, desk, caller):
    from tests.support.api import Caller

    wrong = Caller(client, "wagtail_not-a-real-token")
    answers = [wrong.get("/me/").status_code for _ in range(31)]
    assert answers[:30] == [401] * 30 and answers[30] == 429
    # While throttled, the right token from that address is refused too (a 200
    # among the 429s would tell which guess was right); elsewhere it works.
    right = caller(desk.me)
    assert right.get("/me/").status_code == 429
    assert right.get("/me/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_wrong_methods_and_unknown_addresses_are_problems_too(caller, desk):
    api = caller(desk.me)
    wrong = api.client.delete(f"/api/helpdesk/v1/tickets/{desk.mine.pk}/",
                              HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert wrong.status_code == 405 and wrong["Allow"] == "GET"
    assert wrong["Content-Type"] == "application/problem+json"
    assert wrong.json()["code"] == "method_not_allowed"
    unknown = api.client.get("/api/helpdesk/v1/tickets/1/nonsense/",
                             HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert "/api/helpdesk/v1/docs" in unknown.json()["detail"]
    # The site's own pages are not swallowed.
    assert api.client.get("/admin/login/").status_code == 200


def test_tickets_opened_from_the_chat_are_listed_and_filtered(caller, desk):
    """Every channel a ticket can have is one the API can name (a chat ticket
    once made the whole page answer 500)."""
    Ticket.objects.filter(pk=desk.pending.pk).update(channel=Channel.CHAT)
    api = caller(desk.me)
    listed = api.get("/tickets/")
    assert listed.status_code == 200, listed.content
    assert {item["id"]: item["channel"] for item in listed.json()["items"]}[desk.pending.pk] \
        == "chat"
    assert ids(api.get("/tickets/", {"channel": "chat"})) == {desk.pending.pk}
    assert api.get(f"/tickets/{desk.pending.pk}/").json()["channel"] == "chat"
    assert api.get("/tickets/", {"channel": list(Channel.values)}).status_code == 200


def test_every_row_of_a_page_has_its_own_addresses_and_translated_status(caller, desk):
    """The addresses and the status labels are made once per request and
    filled in per row: each row still names its own ticket, in the
    caller's language."""
    response = caller(desk.me).get("/tickets/", {"limit": 50}, HTTP_ACCEPT_LANGUAGE="it")
    items = response.json()["items"]
    assert len(items) >= 2
    for item in items:
        assert item["url"].startswith("http")
        assert item["url"].endswith(f"/api/helpdesk/v1/tickets/{item['id']}/")
        assert item["admin_url"].endswith(f"/admin/helpdesk/tickets/{item['id']}/")
        ticket = Ticket.objects.get(pk=item["id"])
        with translation.override("it"):
            assert item["status_label"] == str(ticket.get_status_display())
