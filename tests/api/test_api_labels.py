"""Labels in the REST API: on every ticket, the ``label`` filter, the labels
action (through the service), and the list's constant cost."""

import pytest

from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Label, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "URP"}, other_office={"name": "Tributi"}, outsider=True,
                     service=True)
    desk.urgent = Label.objects.create(name="Urgente", colour="red")
    desk.callback = Label.objects.create(name="Da richiamare", office=desk.office,
                                         colour="blue")
    desk.theirs = Label.objects.create(name="Rateizzazione", office=desk.other_office)
    f = desk.factories
    desk.a = services.add_labels(f.request_ticket(service_=desk.service), desk.me, [desk.urgent])
    desk.b = services.add_labels(f.request_ticket(service_=desk.service), desk.me,
                                 [desk.callback, desk.urgent])
    desk.plain = f.request_ticket(service_=desk.service)
    return desk


def ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_tickets_carry_their_labels(caller, desk):
    api = caller(desk.me)
    body = api.get(f"/tickets/{desk.b.pk}/").json()
    assert body["labels"] == [
        {"id": desk.callback.pk, "name": "Da richiamare", "colour": "blue", "hex": "#0055a5",
         "office": desk.office.pk},
        {"id": desk.urgent.pk, "name": "Urgente", "colour": "red", "hex": "#b3261e",
         "office": None}]
    items = {item["id"]: item for item in api.get("/tickets/").json()["items"]}
    assert items[desk.plain.pk]["labels"] == []
    assert [lab["name"] for lab in items[desk.a.pk]["labels"]] == ["Urgente"]


def test_the_label_filter_by_name_or_id_any_of_them(caller, desk):
    api = caller(desk.me)
    assert ids(api.get("/tickets/", {"label": "urgente"})) == {desk.a.pk, desk.b.pk}
    assert ids(api.get("/tickets/", {"label": str(desk.callback.pk)})) == {desk.b.pk}
    assert ids(api.get("/tickets/", {"label": ["Da richiamare", "URGENTE"]})) == {
        desk.a.pk, desk.b.pk}
    assert ids(api.get("/tickets/", {"q": "label:\"da richiamare\""})) == {desk.b.pk}


def test_an_unknown_or_invisible_label_is_a_422(caller, desk):
    api = caller(desk.me)
    for value in ("Nessuna", "Rateizzazione", str(desk.theirs.pk)):
        response = api.get("/tickets/", {"label": value})
        assert response.status_code == 422, value
        assert response.json()["errors"][0]["field"] == "label", value


def test_the_labels_action_goes_through_the_service(caller, desk):
    api = caller(desk.me)
    version = Ticket.objects.get(pk=desk.plain.pk).version
    response = api.post(f"/tickets/{desk.plain.pk}/labels/",
                        {"add": ["urgente", desk.callback.pk], "remove": [],
                         "expected_version": version})
    assert response.status_code == 200, response.content
    assert [lab["name"] for lab in response.json()["labels"]] == ["Da richiamare", "Urgente"]
    assert response.json()["version"] == version  # labels do not make others' changes stale
    event = Ticket.objects.get(pk=desk.plain.pk).events.get(kind=EventKind.LABELS_CHANGED)
    assert event.data == {"added": ["Urgente", "Da richiamare"], "removed": []}
    # The same again: nothing changes, no event.
    again = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": ["Urgente"]})
    assert again.status_code == 200 and again.json()["version"] == version
    assert Ticket.objects.get(pk=desk.plain.pk).events.filter(
        kind=EventKind.LABELS_CHANGED).count() == 1
    removed = api.post(f"/tickets/{desk.plain.pk}/labels/", {"remove": ["URGENTE"]})
    assert [lab["name"] for lab in removed.json()["labels"]] == ["Da richiamare"]
    # A stale version (someone set the priority meanwhile): 409, nothing done.
    services.set_priority(Ticket.objects.get(pk=desk.plain.pk), desk.me, 4)
    stale = api.post(f"/tickets/{desk.plain.pk}/labels/",
                     {"add": ["Urgente"], "expected_version": version})
    assert stale.status_code == 409
    assert [lab.name for lab in Ticket.objects.get(pk=desk.plain.pk).labels.all()] == [
        "Da richiamare"]


def test_the_labels_action_numbers_are_ids_and_strings_names(caller, desk):
    """An all-digit string is a name: where the vocabulary is open it becomes
    a label so named, never the label with that id."""
    desk.office.open_labels = True
    desk.office.save()
    api = caller(desk.me)
    digits = str(desk.urgent.pk)
    response = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": [digits]})
    assert response.status_code == 200, response.content
    assert [lab["name"] for lab in response.json()["labels"]] == [digits]
    assert Label.objects.get(name=digits).office == desk.office
    response = api.post(f"/tickets/{desk.plain.pk}/labels/",
                        {"add": [desk.urgent.pk], "remove": [digits]})
    assert [lab["name"] for lab in response.json()["labels"]] == ["Urgente"]
    # Ids of labels the ticket is not offered, and other JSON types, are refused.
    response = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": [desk.theirs.pk]})
    assert response.status_code in (409, 422)
    for wrong in (True, 1.5, None, {"id": desk.urgent.pk}):
        assert api.post(f"/tickets/{desk.plain.pk}/labels/",
                        {"add": [wrong]}).status_code == 422, wrong
    assert [lab.name for lab in Ticket.objects.get(pk=desk.plain.pk).labels.all()] == [
        "Urgente"]


def test_the_label_filter_takes_an_id_else_a_name(caller, desk):
    api = caller(desk.me)
    # A label named as the number of a label nobody here sees: the name.
    invisible = str(desk.theirs.pk)
    named = Label.objects.create(name=invisible, office=desk.office)
    services.add_labels(desk.plain, desk.me, [named])
    assert ids(api.get("/tickets/", {"label": invisible})) == {desk.plain.pk}
    # A label named as the number of a visible label: the id wins.
    Label.objects.filter(pk=named.pk).update(name=str(desk.callback.pk))
    assert ids(api.get("/tickets/", {"label": str(desk.callback.pk)})) == {desk.b.pk}


def test_the_labels_action_refuses_clearly(caller, desk):
    api = caller(desk.me)
    response = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": ["Inventata"]})
    assert response.status_code in (409, 422)
    assert "not a label of this office" in response.json()["detail"]
    response = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": ["Rateizzazione"]})
    assert response.status_code in (409, 422)
    response = api.post(f"/tickets/{desk.plain.pk}/labels/", {"add": ["x" * 41]})
    assert response.status_code in (409, 422)
    assert not Label.objects.filter(name="Inventata").exists()
    outsider = caller(desk.outsider)
    assert outsider.post(f"/tickets/{desk.plain.pk}/labels/",
                         {"add": ["Urgente"]}).status_code == 404
    assert Ticket.objects.get(pk=desk.plain.pk).labels.count() == 0


def test_the_list_costs_the_same_queries_whatever_the_rows_and_labels(
        caller, desk, django_assert_num_queries):
    api = caller(desk.me)
    api.get("/tickets/")
    extra = [Label.objects.create(name=f"Extra {n}", office=desk.office) for n in range(4)]
    for count in (3, 25):
        Ticket.objects.all().delete()
        for _ in range(count):
            t = desk.factories.request_ticket(service_=desk.service)
            services.add_labels(t, desk.me, [desk.urgent, *extra])
        # token, permissions (one query: the helpdesk's auth backend), page, labels, …
        with django_assert_num_queries(5):
            assert len(ids(api.get("/tickets/", {"limit": 50}))) == count
        # … and the labels the names are (one query), checked by the filter (one).
        with django_assert_num_queries(7):
            assert len(ids(api.get("/tickets/", {"limit": 50, "label": "Urgente"}))) == count


def test_open311_service_requests_stay_unchanged(client, desk):
    """Open311's service_request has the standard's fields only: no labels."""
    from tests.support.open311 import INSIDE

    category = desk.factories.report_category(desk.office)
    report = desk.factories.report_ticket(category=category, latitude=INSIDE["lat"],
                                          longitude=INSIDE["long"])
    services.add_labels(report, desk.me, [desk.urgent])
    (published,) = client.get(f"/open311/v2/requests/{report.short_code}.json").json()
    assert "labels" not in published and "Urgente" not in str(published)
