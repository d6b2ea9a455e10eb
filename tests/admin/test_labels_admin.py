"""Labels in the admin: the vocabulary per role, the ticket page's labels (with
and without JavaScript), the list's column, filter and search with pinned
query counts, the bulk actions, the chat's side panel and the dashboard."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.desk import ANNA, BRUNO
from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Label, Ticket

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/tickets/"
VOCABULARY = "/admin/helpdesk/labels/"


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "URP"}, me=ANNA, colleague=BRUNO, supervisor=True,
                     other_office={"name": "Tributi"}, outsider=True, service=True,
                     ticket={"description": "Scadenza documento"})
    desk.urgent = Label.objects.create(name="Urgente", colour="red")
    desk.callback = Label.objects.create(name="Da richiamare", office=desk.office, colour="blue")
    desk.theirs = Label.objects.create(name="Rateizzazione", office=desk.other_office)
    return desk


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def messages_of(response):
    return [str(m).strip() for m in get_messages(response.wsgi_request)]


def page_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def labels_url(ticket):
    return reverse("wagtail_helpdesk_ticket_labels", args=[ticket.pk])


def names(ticket):
    return sorted(Ticket.objects.get(pk=ticket.pk).labels.values_list("name", flat=True))


# --- The vocabulary ------------------------------------------------------------------


def listed_names(client):
    response = client.get(VOCABULARY)
    assert response.status_code == 200
    return {a.get_text(strip=True) for a in soup(response).select("table.listing td.title a, "
                                                                  "table.listing td.title")}


def test_a_supervisor_manages_their_offices_labels_only(client, desk):
    client.force_login(desk.supervisor)
    page = soup(client.get(VOCABULARY))
    text = page.select_one("table.listing").get_text(" ", strip=True)
    assert "Urgente" in text and "Da richiamare" in text and "Rateizzazione" not in text
    edit_links = {a["href"] for a in page.select("table.listing a[href*='/edit/']")}
    assert edit_links == {reverse("helpdesk_labels:edit", args=[desk.callback.pk])}
    # The office is required and chosen among theirs.
    form = soup(client.get(reverse("helpdesk_labels:add")))
    offices = {o["value"] for o in form.select("select[name=office] option") if o["value"]}
    assert offices == {str(desk.office.pk)}
    # The palette, each colour with its swatch.
    assert len(form.select("input[name=colour]")) == 10
    assert form.select(".helpdesk-label-swatch--red")
    response = client.post(reverse("helpdesk_labels:add"),
                           {"name": "Globale", "colour": "red", "office": ""})
    assert response.status_code == 200 and not Label.objects.filter(name="Globale").exists()
    response = client.post(reverse("helpdesk_labels:add"), {
        "name": "Rateizzazione", "colour": "red", "office": desk.other_office.pk})
    assert response.status_code == 200
    assert Label.objects.filter(name="Rateizzazione").count() == 1
    response = client.post(reverse("helpdesk_labels:add"), {
        "name": " Cantiere ", "colour": "green", "office": desk.office.pk, "description": ""})
    assert response.status_code == 302
    made = Label.objects.get(name="Cantiere")
    assert (made.office, made.colour, made.created_by) == (desk.office, "green", desk.supervisor)


def test_a_supervisor_cannot_change_global_or_other_offices_labels(client, desk):
    client.force_login(desk.supervisor)
    response = client.get(reverse("helpdesk_labels:edit", args=[desk.theirs.pk]))
    assert response.status_code == 404
    response = client.post(reverse("helpdesk_labels:edit", args=[desk.urgent.pk]),
                           {"name": "Mia", "colour": "red", "office": desk.office.pk})
    assert response.status_code in (302, 403)
    assert Label.objects.get(pk=desk.urgent.pk).name == "Urgente"
    response = client.post(reverse("helpdesk_labels:delete", args=[desk.urgent.pk]))
    assert Label.objects.filter(pk=desk.urgent.pk).exists()


def test_duplicate_names_are_refused_with_a_clear_error(client, desk):
    client.force_login(desk.supervisor)
    response = client.post(reverse("helpdesk_labels:add"), {
        "name": "DA RICHIAMARE", "colour": "red", "office": desk.office.pk})
    assert response.status_code == 200
    assert "A label with this name already exists here." in response.content.decode()
    response = client.post(reverse("helpdesk_labels:add"), {
        "name": "x" * 41, "colour": "red", "office": desk.office.pk})
    assert response.status_code == 200 and Label.objects.count() == 3


def test_administrators_manage_global_labels(client, desk):
    admin = desk.factories.administrator()
    client.force_login(admin)
    text = soup(client.get(VOCABULARY)).select_one("table.listing").get_text(" ", strip=True)
    assert {"Urgente", "Da richiamare", "Rateizzazione"} <= set(text.split(" ")) | {
        "Da richiamare"}
    response = client.post(reverse("helpdesk_labels:add"),
                           {"name": "Stampa", "colour": "purple", "office": ""})
    assert response.status_code == 302
    assert Label.objects.get(name="Stampa").office is None
    response = client.post(reverse("helpdesk_labels:edit", args=[desk.urgent.pk]),
                           {"name": "Urgentissimo", "colour": "orange", "office": ""})
    assert response.status_code == 302
    assert Label.objects.get(pk=desk.urgent.pk).name == "Urgentissimo"


def test_operators_see_the_vocabulary_read_only(client, desk):
    client.force_login(desk.me)
    page = soup(client.get(VOCABULARY))
    text = page.select_one("table.listing").get_text(" ", strip=True)
    assert "Urgente" in text and "Rateizzazione" not in text
    assert not page.select("table.listing a[href*='/edit/']")
    response = client.post(reverse("helpdesk_labels:add"),
                           {"name": "Mia", "colour": "red", "office": desk.office.pk})
    assert response.status_code in (302, 403) and not Label.objects.filter(name="Mia").exists()


def test_deleting_says_how_many_tickets_carry_the_label(client, desk):
    services.add_labels(desk.ticket, desk.me, [desk.callback])
    other = desk.factories.request_ticket(service_=desk.service)
    services.add_labels(other, desk.me, [desk.callback])
    client.force_login(desk.supervisor)
    url = reverse("helpdesk_labels:delete", args=[desk.callback.pk])
    confirm = client.get(url).content.decode()
    assert "is on 2 tickets" in confirm
    assert client.post(url).status_code == 302
    assert names(desk.ticket) == [] and not Label.objects.filter(pk=desk.callback.pk).exists()


# --- The ticket page -----------------------------------------------------------------


def test_the_ticket_page_shows_and_changes_labels_without_javascript(client, desk):
    services.add_labels(desk.ticket, desk.me, [desk.urgent])
    client.force_login(desk.me)
    page = soup(client.get(page_url(desk.ticket)))
    panel = page.select_one("#ticket-labels-section")
    chip = panel.select_one(".helpdesk-label--red")
    assert chip.get_text(strip=True) == "Urgente"
    # A closed vocabulary: a choice among the offered labels it lacks.
    options = [o["value"] for o in panel.select("select[name=label] option") if o["value"]]
    assert options == [str(desk.callback.pk)]  # ids: names may be shared
    assert "Rateizzazione" not in panel.get_text()
    response = client.post(labels_url(desk.ticket), {"label": desk.callback.pk})
    assert response.status_code == 302 and response["Location"].startswith(page_url(desk.ticket))
    assert names(desk.ticket) == ["Da richiamare", "Urgente"]
    assert "Label “Da richiamare” added to" in messages_of(response)[0]
    response = client.post(labels_url(desk.ticket), {"remove": desk.urgent.pk})
    assert response.status_code == 302 and names(desk.ticket) == ["Da richiamare"]
    timeline = soup(client.get(page_url(desk.ticket))).select_one(".helpdesk-timeline")
    details = [li.get_text(strip=True) for li in timeline.select(
        ".helpdesk-event--labels_changed .helpdesk-event__details li")]
    assert details == ["Labels: added “Urgente”", "Labels: added “Da richiamare”",
                       "Labels: removed “Urgente”"]


def test_a_refused_label_shows_the_page_again_with_what_was_typed(client, desk):
    desk.office.open_labels = True
    desk.office.save()
    client.force_login(desk.me)
    page = soup(client.get(page_url(desk.ticket)))
    field = page.select_one("#ticket-labels-section input[name=label]")
    assert field is not None and field["list"]
    suggestions = {o["value"] for o in page.select(f"datalist#{field['list']} option")}
    assert suggestions == {"Urgente", "Da richiamare"}
    response = client.post(labels_url(desk.ticket), {"label": "Un nome davvero troppo lungo "
                                                              "per un'etichetta del Comune"})
    assert response.status_code == 200
    again = soup(response).select_one("#ticket-labels-section input[name=label]")
    assert again["value"].startswith("Un nome davvero troppo lungo")
    assert "at most 40 characters" in response.content.decode()
    assert names(desk.ticket) == []
    # Typing a new name where the vocabulary is open creates the office's label.
    response = client.post(labels_url(desk.ticket), {"label": "Stampa"})
    assert response.status_code == 302 and names(desk.ticket) == ["Stampa"]
    assert Label.objects.get(name="Stampa").office == desk.office


def test_a_new_name_in_a_closed_vocabulary_is_refused_and_kept(client, desk):
    client.force_login(desk.me)
    response = client.post(labels_url(desk.ticket), {"label": "Inventata"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not a label of this office" in html and not Label.objects.filter(
        name="Inventata").exists()


def test_a_global_label_is_chosen_by_id_beside_an_office_label_of_its_name(client, desk):
    """A closed vocabulary with "Urgente" global and "Urgente" of the office:
    both are offered, told apart, and the one chosen is the one added."""
    mine = Label.objects.create(name="URGENTE", office=desk.office, colour="green")
    client.force_login(desk.me)
    panel = soup(client.get(page_url(desk.ticket))).select_one("#ticket-labels-section")
    options = {o["value"]: o.get_text(strip=True)
               for o in panel.select("select[name=label] option") if o["value"]}
    assert options == {str(desk.callback.pk): "Da richiamare",
                       str(desk.urgent.pk): "Urgente (all offices)",
                       str(mine.pk): "URGENTE (this office)"}
    response = client.post(labels_url(desk.ticket), {"label": desk.urgent.pk})
    assert response.status_code == 302
    assert list(Ticket.objects.get(pk=desk.ticket.pk).labels.all()) == [desk.urgent]
    # An id the ticket is not offered (another office's) is refused, nothing added.
    response = client.post(labels_url(desk.ticket), {"label": desk.theirs.pk})
    assert response.status_code == 200 and names(desk.ticket) == ["Urgente"]
    assert soup(response).select_one("#ticket-labels-section .error-message, "
                                     "#ticket-labels-section [class*=error]") is not None


def test_an_all_digit_name_is_typed_as_a_name_where_the_vocabulary_is_open(client, desk):
    desk.office.open_labels = True
    desk.office.save()
    client.force_login(desk.me)
    response = client.post(labels_url(desk.ticket), {"label": str(desk.urgent.pk)})
    assert response.status_code == 302
    assert names(desk.ticket) == [str(desk.urgent.pk)]  # a new label, not "Urgente"


def test_someone_of_another_office_cannot_label(client, desk):
    client.force_login(desk.outsider)
    response = client.post(labels_url(desk.ticket), {"label": "Urgente"})
    assert response.status_code == 404 and names(desk.ticket) == []


def test_the_ticket_page_cost_does_not_grow_with_labels(client, desk):
    client.force_login(desk.me)
    url = page_url(desk.ticket)
    client.get(url)

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    services.add_labels(desk.ticket, desk.me, [desk.urgent])
    one = count()
    for n in range(6):
        Label.objects.create(name=f"Etichetta {n}", office=desk.office)
    services.add_labels(desk.ticket, desk.me, [f"Etichetta {n}" for n in range(6)])
    assert count() == one


# --- The list ------------------------------------------------------------------------


@pytest.fixture
def labelled(desk):
    f = desk.factories
    desk.a = services.add_labels(f.request_ticket(service_=desk.service), desk.me, [desk.urgent])
    desk.b = services.add_labels(f.request_ticket(service_=desk.service), desk.me,
                                 [desk.callback])
    desk.c = services.add_labels(f.request_ticket(service_=desk.service), desk.me,
                                 [desk.urgent, desk.callback])
    desk.plain = f.request_ticket(service_=desk.service)
    return desk


def listed(client, **params):
    response = client.get(LIST, {"queue": "all", **params})
    assert response.status_code == 200
    return response


def shown(response, *tickets):
    html = response.content.decode()
    return {t.pk for t in tickets if reverse("helpdesk_tickets:detail", args=[t.pk]) in html}


def test_the_list_shows_labels_and_filters_by_any_of_them(client, labelled):
    d = labelled
    client.force_login(d.me)
    response = listed(client)
    row = soup(response).select_one(f"tr:has(a[href='{page_url(d.c)}'])")
    assert [c.get_text(strip=True) for c in row.select(".helpdesk-label")] == [
        "Da richiamare", "Urgente"]
    everyone = (d.a, d.b, d.c, d.plain)
    assert shown(listed(client, label=d.urgent.pk), *everyone) == {d.a.pk, d.c.pk}
    assert shown(listed(client, label=[d.urgent.pk, d.callback.pk]), *everyone) == {
        d.a.pk, d.b.pk, d.c.pk}
    # Each ticket once, even with both labels (no join duplicating rows).
    html = listed(client, label=[d.urgent.pk, d.callback.pk]).content.decode()
    assert html.count(f'href="{page_url(d.c)}"') == 1
    # The filter offers the labels the operator sees, not other offices'.
    choices = {o["value"] for o in soup(listed(client)).select("input[name=label]")}
    assert choices == {str(d.urgent.pk), str(d.callback.pk)}


def test_the_label_filter_is_a_subquery_not_a_join(client, labelled):
    client.force_login(labelled.me)
    listed(client)
    with CaptureQueriesContext(connection) as ctx:
        listed(client, label=labelled.urgent.pk)
    sql = [q["sql"] for q in ctx.captured_queries if "helpdesk_ticketlabel" in q["sql"].lower()
           or "ticketlabel" in q["sql"].lower()]
    assert sql and not any("DISTINCT" in s.upper() for s in sql)


def test_search_by_label(client, labelled):
    d = labelled
    client.force_login(d.me)
    everyone = (d.a, d.b, d.c, d.plain)
    assert shown(listed(client, q="label:urgente"), *everyone) == {d.a.pk, d.c.pk}
    assert shown(listed(client, q='label:"da richiamare"'), *everyone) == {d.b.pk, d.c.pk}
    assert shown(listed(client, q="etichetta:URGENTE label:\"Da richiamare\""),
                 *everyone) == {d.c.pk}
    # A plain word that is a label's whole name.
    assert shown(listed(client, q="Urgente"), *everyone) == {d.a.pk, d.c.pk}
    assert shown(listed(client, q="label:nessuna"), *everyone) == set()


def count_queries(client, **params):
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        listed(client, **params)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "label:urgente"}, {"label": "URGENT"}])
def test_the_list_queries_do_not_grow_with_rows_or_labels(client, desk, params):
    client.force_login(desk.me)
    if params.get("label") == "URGENT":
        params = {"label": [desk.urgent.pk, desk.callback.pk]}
    more = [Label.objects.create(name=f"Extra {n}", office=desk.office) for n in range(5)]

    def batch(n, labels):
        for _ in range(n):
            t = desk.factories.request_ticket(service_=desk.service)
            services.add_labels(t, desk.me, labels)

    batch(1, [desk.urgent])
    listed(client, **params)
    small = count_queries(client, **params)
    batch(20, [desk.urgent, desk.callback, *more])
    large = count_queries(client, **params)
    assert large == small
    # Pinned: the labels cost one query for the page (the prefetch), and the
    # filter's choices one.
    client.get(LIST, {"columns": ["reference", "subject"]})
    without = count_queries(client, **params)
    client.get(LIST, {"columns": "default"})
    assert small == without + 1


def test_bulk_add_and_remove_a_label(client, labelled):
    d = labelled
    client.force_login(d.me)
    url = (f"/admin/bulk/wagtail_helpdesk/ticket/add_label/?id={d.a.pk}&id={d.plain.pk}"
           f"&id={d.b.pk}&next={LIST}")
    page = soup(client.get(url))
    offered = {o.get_text(strip=True) for o in page.select("select[name=label] option")
               if o["value"]}
    assert offered == {"Urgente", "Da richiamare (URP)"}
    response = client.post(url, {"label": d.urgent.pk})
    assert response.status_code == 302
    assert names(d.plain) == ["Urgente"] and names(d.b) == ["Da richiamare", "Urgente"]
    messages = messages_of(response)
    assert "Label “Urgente” added to 2 tickets." in messages
    assert any(d.a.reference in m and "already has this label" in m for m in messages)
    # Another office's label is not a valid choice.
    response = client.post(url, {"label": d.theirs.pk})
    assert response.status_code == 200
    remove = (f"/admin/bulk/wagtail_helpdesk/ticket/remove_label/?id={d.a.pk}&id={d.c.pk}"
              f"&next={LIST}")
    page = soup(client.get(remove))
    assert {o.get_text(strip=True) for o in page.select("select[name=label] option")
            if o["value"]} == {"Urgente", "Da richiamare (URP)"}
    response = client.post(remove, {"label": d.urgent.pk})
    assert response.status_code == 302
    assert names(d.a) == [] and names(d.c) == ["Da richiamare"]
    assert Ticket.objects.get(pk=d.a.pk).events.filter(
        kind=EventKind.LABELS_CHANGED).count() == 2


def test_the_list_offers_the_label_bulk_actions(client, labelled):
    client.force_login(labelled.me)
    buttons = {a.get_text(strip=True)
               for a in soup(listed(client)).select("[data-bulk-action-button]")}
    assert {"Add label", "Remove label"} <= buttons


# --- The dashboard -------------------------------------------------------------------


def test_the_dashboard_counts_labels_on_open_tickets(client, labelled):
    d = labelled
    resolved = services.resolve(services.take_charge(d.a, d.me), d.me,
                                d.factories.resolution_type(), "Fatto")
    assert names(resolved) == ["Urgente"]
    elsewhere = d.factories.request_ticket(service_=d.factories.service(d.other_office))
    services.add_labels(elsewhere, d.factories.administrator(), [d.urgent])
    client.force_login(d.supervisor)
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("wagtail_helpdesk_dashboard"))
    label_queries = [q for q in ctx.captured_queries if "ticketlabel" in q["sql"].lower()]
    assert len(label_queries) == 1
    counts = {row["name"]: row["count"] for row in response.context["figures"]["labels"]}
    assert counts == {"Urgente": 1, "Da richiamare": 2}
    link = soup(response).select_one(f"[data-label='{d.callback.pk}'] a")
    assert f"label={d.callback.pk}" in link["href"] and link.get_text(strip=True).startswith(
        "Da richiamare")


# --- The chat workspace --------------------------------------------------------------


def test_the_chat_side_panel_shows_and_edits_the_tickets_labels(client, desk):
    from wagtail_helpdesk.services import conversations

    def start(n):
        c = conversations.start(service=desk.service, body=f"Domanda {n}", person={
            "given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"})
        return conversations.accept(c, desk.me)

    first = start(0)
    services.add_labels(first.ticket, desk.me, [desk.urgent])
    client.force_login(desk.me)
    workspace = reverse("wagtail_helpdesk_chat:workspace")
    card = soup(client.get(workspace, {"c": first.pk})).select_one(
        f"#helpdesk-chat-labels-{first.pk}")
    assert card.select_one(".helpdesk-label--red").get_text(strip=True) == "Urgente"
    assert [o["value"] for o in card.select("select[name=label] option") if o["value"]] == [
        str(desk.callback.pk)]
    response = client.post(labels_url(first.ticket),
                           {"label": desk.callback.pk, "conversation": first.pk})
    assert response.status_code == 302 and response["Location"] == f"{workspace}?c={first.pk}"
    assert names(first.ticket) == ["Da richiamare", "Urgente"]
    # Refused: the workspace again, the error next to the field.
    response = client.post(labels_url(first.ticket), {"label": "Inventata",
                                                      "conversation": first.pk})
    assert response.status_code == 200
    card = soup(response).select_one(f"#helpdesk-chat-labels-{first.pk}")
    assert "is not a label of this office" in card.get_text()

    # The workspace's queries do not grow with tabs or labels.
    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(workspace).status_code == 200
        return len(ctx.captured_queries)

    client.get(workspace)
    one = count()
    for n in range(1, 3):
        services.add_labels(start(n).ticket, desk.me, [desk.urgent, desk.callback])
    client.get(workspace)
    assert count() == one
