"""The operator's ticket page: access, what it shows, its actions, the
attachment download and its query count."""

from datetime import timedelta
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.desk import ANNA, BRUNO, GIOVANNA
from tests.support.images import PDF_BYTES, png_bytes
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets.actions import ACTIONS
from wagtail_helpdesk.admin.tickets.forms import ACTION_FORMS
from wagtail_helpdesk.models import (
    Attachment,
    Channel,
    EventKind,
    Kind,
    Priority,
    Ticket,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.services import CitizenActor

ALL_ACTIONS = ["take_charge", "assign", "transfer", "set_priority", "mark_waiting", "resolve",
               "reopen", "reply", "note"]


@pytest.fixture
def desk(make_desk):
    """An office with two operators, another office with its own operator, and a
    request a citizen sent to the first office."""
    return make_desk(office={"name": "URP"}, me=ANNA, colleague=BRUNO,
                     other_office={"name": "Lavori pubblici"}, outsider=True,
                     citizen={**GIOVANNA, "phone": "+39 011 1234567"},
                     service={"name": "Carta d'identità"},
                     ticket={"description": "Devo rinnovare la carta d'identità."})


@pytest.fixture
def operator_client(client, desk):
    client.force_login(desk.me)
    return client


def page_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def action_url(ticket, action):
    return reverse("helpdesk_tickets:action", args=[ticket.pk, action])


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def post(client, ticket, action, data=None, **kwargs):
    data = {"version": fresh(ticket).version, **(data or {})}
    return client.post(action_url(ticket, action), data, **kwargs)


def messages_of(response):
    return [(m.level_tag, str(m.message).strip()) for m in get_messages(response.wsgi_request)]


def cache_directives(response):
    return {d.strip() for d in response["Cache-Control"].split(",")}


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def event_kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def field_errors(page, form_action, field):
    """The error text shown next to a field of an action's form."""
    wrapper = page.select_one(f"#id_{form_action}_{field}").find_parent(
        class_="w-field__wrapper")
    return wrapper.select_one(".w-field__errors").get_text(" ", strip=True)


def assert_succeeded(response, ticket, text):
    assert response.status_code == 302
    assert response["Location"] == page_url(ticket)
    assert [level for level, _ in messages_of(response)] == ["success"]
    assert text in messages_of(response)[0][1]


# --- Access ---------------------------------------------------------------------------


def test_the_page_shows_the_ticket_to_an_operator_of_its_office(operator_client, desk):
    response = operator_client.get(page_url(desk.ticket))
    assert response.status_code == 200
    html = response.content.decode()
    ticket = fresh(desk.ticket)
    for text in (ticket.short_code, "Carta d&#x27;identità", "URP", "Pending", "Website",
                 "Giovanna Esposito", "RSSMRA85T10A562S", desk.citizen.email, "+39 011 1234567",
                 "Devo rinnovare la carta d&#x27;identità."):
        assert text in html, text
    page = soup(response)
    # The whole timeline, oldest first.
    titles = [li.select_one(".helpdesk-event__title").get_text(strip=True)
              for li in page.select(".helpdesk-event")]
    assert titles == ["Created", "Submitted"]


def test_other_offices_and_citizen_drafts_are_not_found(client, desk):
    client.force_login(desk.outsider)
    assert client.get(page_url(desk.ticket)).status_code == 404
    draft = services.create_ticket(CitizenActor(desk.citizen), kind=Kind.REQUEST,
                                   channel=Channel.WEB, service=desk.service,
                                   citizen=desk.citizen, draft=True)
    client.force_login(desk.me)
    assert client.get(page_url(draft)).status_code == 404
    assert client.get(page_url(desk.ticket)).status_code == 200


def test_anonymous_users_are_sent_to_the_login(client, desk):
    response = client.get(page_url(desk.ticket))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_opening_the_page_marks_the_citizens_messages_read(operator_client, desk):
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), "Ci siete?")
    assert fresh(desk.ticket).unread_count == 1
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), "Pronto?")
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), "Ancora io")
    assert fresh(desk.ticket).unread_count == 3
    services.reply(desk.ticket, desk.me, "Eccoci")  # replying does not read them
    response = operator_client.get(page_url(desk.ticket))
    assert fresh(desk.ticket).unread_count == 0
    # The page says what was new when it was opened, and marks those messages.
    page = soup(response)
    assert "3 unread messages" in page.select_one(".helpdesk-ticket__tags").get_text()
    new = [li.select_one(".helpdesk-event__body").get_text(strip=True)
           for li in page.select(".helpdesk-event") if li.select_one(".helpdesk-tag--unread")]
    assert new == ["Ci siete?", "Pronto?", "Ancora io"]
    page = soup(operator_client.get(page_url(desk.ticket)))
    assert not page.select(".helpdesk-tag--unread")


def test_users_who_may_only_view_do_not_mark_read_nor_see_actions(client, desk):
    viewer = desk.factories.user(offices=[desk.office], group=None)
    viewer.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_ticket"),
    )
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), "Ci siete?")
    client.force_login(viewer)
    response = client.get(page_url(desk.ticket))
    assert response.status_code == 200
    assert not soup(response).select("form.helpdesk-action")
    assert fresh(desk.ticket).unread_count == 1
    # …and may not act: the policy says no, and the view answers 403 (the page,
    # with the reason and what was typed).
    response = post(client, desk.ticket, "note", {"body": "Nota mai salvata"})
    assert response.status_code == 403
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert soup(response).select_one("textarea.helpdesk-unsaved").get_text() == (
        "Nota mai salvata")
    assert EventKind.NOTE not in event_kinds(desk.ticket)


# --- What the page shows ----------------------------------------------------------------


def test_internal_events_look_different_from_what_the_citizen_sees(operator_client, desk):
    services.add_note(desk.ticket, desk.me, "Verificare in anagrafe")
    services.reply(desk.ticket, desk.me, "Buongiorno, serve la vecchia carta.")
    page = soup(operator_client.get(page_url(desk.ticket)))

    def entry(text):
        return next(li for li in page.select(".helpdesk-event") if text in li.get_text())

    note, reply = entry("Verificare in anagrafe"), entry("serve la vecchia carta")
    assert "helpdesk-event--internal" in note["class"]
    assert "helpdesk-event--internal" not in reply["class"]
    assert "helpdesk-event--public" in reply["class"]
    assert "Operators only" in note.get_text() and "Operators only" not in reply.get_text()
    assert "Anna Bianchi" in note.get_text() and "Operator" in note.get_text()
    submitted = entry("Submitted")
    assert "Giovanna Esposito" in submitted.get_text() and "Citizen" in submitted.get_text()


def test_texts_are_escaped_and_keep_their_line_breaks(operator_client, desk):
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen),
                                 "<script>alert(1)</script>\nseconda riga")
    response = operator_client.get(page_url(desk.ticket))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>seconda riga" in html


def test_timeline_names_what_changed(operator_client, desk):
    t = services.assign(desk.ticket, desk.me, desk.colleague)
    t = services.set_priority(t, desk.me, Priority.URGENT)
    services.transfer(t, desk.me, desk.other_office, note="Competenza loro")
    operator_client.force_login(desk.outsider)
    text = soup(operator_client.get(page_url(desk.ticket))).select_one(
        ".helpdesk-timeline").get_text(" ", strip=True)
    assert "Assigned to Bruno Verdi" in text
    assert "From Normal to Urgent" in text
    assert "From URP to Lavori pubblici" in text and "Competenza loro" in text


def test_system_events_say_so(operator_client, desk):
    ticket = desk.factories.request_ticket(service_=desk.service)  # e.g. from the API
    page = soup(operator_client.get(page_url(ticket)))
    roles = {li.select_one(".helpdesk-event__role").get_text(strip=True)
             for li in page.select(".helpdesk-event")}
    assert roles == {"System"}


def test_overdue_is_highlighted_while_the_ticket_is_open(operator_client, desk):
    service = desk.factories.service(desk.office, sla_days=2)
    long_ago = timezone.now() - timedelta(days=30)
    with mock.patch("wagtail_helpdesk.services.core.now", return_value=long_ago):
        late = desk.factories.request_ticket(service_=service)
    assert late.due_at < timezone.now()
    page = soup(operator_client.get(page_url(late)))
    assert page.select_one(".helpdesk-tag--overdue").get_text(strip=True) == "Overdue"
    assert "overdue" in page.select_one(".helpdesk-facts__overdue").get_text()
    on_time = soup(operator_client.get(page_url(desk.ticket)))
    assert not on_time.select(".helpdesk-tag--overdue")
    services.resolve(services.take_charge(late, desk.me), desk.me,
                     desk.factories.resolution_type(), "Fatto")
    assert not soup(operator_client.get(page_url(late))).select(".helpdesk-tag--overdue")


def test_the_citizens_other_tickets_are_listed_if_visible(operator_client, desk):
    mine = [desk.factories.request_ticket(service_=desk.service, citizen_=desk.citizen)
            for _ in range(6)]
    elsewhere = desk.factories.request_ticket(
        service_=desk.factories.service(desk.other_office), citizen_=desk.citizen)
    stranger = desk.factories.request_ticket(service_=desk.service)  # another citizen
    # Fetched by the page once it has rendered.
    panel = soup(operator_client.get(page_url(desk.ticket), {"panel": "other-tickets"})).select_one(
        ".helpdesk-citizen-tickets")
    links = [a["href"] for a in panel.select("a")]
    assert len(links) == 5
    assert set(links) <= {page_url(t) for t in mine}
    assert page_url(elsewhere) not in links and page_url(stranger) not in links
    assert page_url(desk.ticket) not in links


def test_a_reports_place_is_shown(operator_client, desk):
    report = desk.factories.report_ticket(
        category=desk.factories.report_category(desk.office), address="Via Roma 12")
    text = soup(operator_client.get(page_url(report))).select_one("#ticket-place-section")
    assert "Via Roma 12" in text.get_text() and "45.464200, 9.190000" in text.get_text()
    assert "Anonymous" in soup(operator_client.get(page_url(report))).select_one(
        "#ticket-citizen-section").get_text()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("new", {"take_charge", "assign", "transfer", "set_priority", "reply", "note"}),
        ("in_progress", {"assign", "transfer", "set_priority", "mark_waiting", "resolve",
                         "reply", "note"}),
        ("resolved", {"reopen", "note"}),
    ],
)
def test_only_the_actions_allowed_now_are_offered(operator_client, desk, status, expected):
    t = desk.ticket
    if status != "new":
        t = services.take_charge(t, desk.me)
    if status == "resolved":
        services.resolve(t, desk.me, desk.factories.resolution_type(), "Fatto")
    page = soup(operator_client.get(page_url(desk.ticket)))
    forms = page.select("form.helpdesk-action")
    prefix = f"/admin/helpdesk/tickets/{desk.ticket.pk}/"
    offered = {form["action"].removeprefix(prefix).strip("/") for form in forms}
    assert offered == expected
    version = fresh(desk.ticket).version
    for form in forms:
        assert form["method"] == "post"
        assert form.select_one("input[name=version]")["value"] == str(version)
        assert form.select_one("input[name=csrfmiddlewaretoken]")


def test_take_charge_is_called_assign_to_me_when_a_colleague_has_it(operator_client, desk):
    button = soup(operator_client.get(page_url(desk.ticket))).select_one(
        "#action-take_charge button")
    assert button.get_text(strip=True) == "Take charge"
    services.take_charge(desk.ticket, desk.colleague)
    button = soup(operator_client.get(page_url(desk.ticket))).select_one(
        "#action-take_charge button")
    assert button.get_text(strip=True) == "Assign to me"


def test_resolve_marks_its_fields_required(operator_client, desk):
    services.take_charge(desk.ticket, desk.me)
    form = soup(operator_client.get(page_url(desk.ticket))).select_one("#action-resolve")
    labels = {label["for"]: label for label in form.select("label.w-field__label")}
    for field in ("resolution_type", "resolution_text"):
        assert labels[f"id_resolve_{field}"].select_one(".w-required-mark")


def test_the_assign_and_transfer_choices(operator_client, desk):
    inactive = desk.factories.office(name="Chiuso", active=False)
    page = soup(operator_client.get(page_url(desk.ticket)))
    operators = {o.get_text(strip=True)
                 for o in page.select("#id_assign_assignee option") if o["value"]}
    # Each operator with their availability: the one who just logged in is
    # available, the other has never been seen.
    assert operators == {"Anna Bianchi — Available", "Bruno Verdi — Offline"}
    offices = {o.get_text(strip=True)
               for o in page.select("#id_transfer_office option") if o["value"]}
    assert "Lavori pubblici" in offices
    assert "URP" not in offices and inactive.name not in offices


# --- Actions ------------------------------------------------------------------------------


def test_take_charge(operator_client, desk):
    response = post(operator_client, desk.ticket, "take_charge")
    assert_succeeded(response, desk.ticket, "You took charge")
    t = fresh(desk.ticket)
    assert (t.status, t.assignee) == ("in_progress", desk.me)
    assert EventKind.TAKEN_CHARGE in event_kinds(t)


def test_assign(operator_client, desk):
    response = post(operator_client, desk.ticket, "assign", {"assignee": desk.colleague.pk})
    assert_succeeded(response, desk.ticket, "assigned to Bruno Verdi")
    t = fresh(desk.ticket)
    assert (t.status, t.assignee) == ("in_progress", desk.colleague)
    assert t.events.get(kind=EventKind.ASSIGNED).data["to"] == desk.colleague.pk


def test_assign_refuses_an_operator_of_another_office(operator_client, desk):
    response = post(operator_client, desk.ticket, "assign", {"assignee": desk.outsider.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in field_errors(soup(response), "assign", "assignee")
    assert fresh(desk.ticket).assignee is None


def test_transfer_leaves_the_office_and_goes_back_to_the_list(operator_client, desk):
    response = post(operator_client, desk.ticket, "transfer",
                    {"office": desk.other_office.pk, "note": "Non è nostra"})
    assert response.status_code == 302
    # The operator no longer sees the ticket: back to the list, with the message.
    assert response["Location"] == reverse("helpdesk_tickets:index")
    assert messages_of(response)[0][0] == "success"
    assert "transferred to Lavori pubblici" in messages_of(response)[0][1]
    t = fresh(desk.ticket)
    assert (t.office, t.status, t.assignee) == (desk.other_office, "new", None)
    assert t.events.get(kind=EventKind.TRANSFERRED).body == "Non è nostra"


def test_set_priority(operator_client, desk):
    response = post(operator_client, desk.ticket, "set_priority", {"priority": Priority.HIGH})
    assert_succeeded(response, desk.ticket, "High")
    t = fresh(desk.ticket)
    assert t.priority == Priority.HIGH
    assert t.events.get(kind=EventKind.PRIORITY_CHANGED).data == {
        "from": Priority.NORMAL, "to": Priority.HIGH}


def test_mark_waiting_with_a_question(operator_client, desk):
    services.take_charge(desk.ticket, desk.me)
    response = post(operator_client, desk.ticket, "mark_waiting",
                    {"message": "Ci mandi il numero della carta?"})
    assert_succeeded(response, desk.ticket, "waiting for the citizen")
    t = fresh(desk.ticket)
    assert t.status == "waiting"
    event = t.events.get(kind=EventKind.STATUS_CHANGED)
    assert (event.body, event.visibility) == ("Ci mandi il numero della carta?",
                                              Visibility.PUBLIC)


def test_resolve(operator_client, desk):
    services.take_charge(desk.ticket, desk.me)
    kind = desk.factories.resolution_type()
    response = post(operator_client, desk.ticket, "resolve",
                    {"resolution_type": kind.pk, "resolution_text": "Appuntamento fissato."})
    assert_succeeded(response, desk.ticket, "resolved")
    t = fresh(desk.ticket)
    assert (t.status, t.resolution_type, t.resolution_text) == (
        "resolved", kind, "Appuntamento fissato.")
    assert t.events.get(kind=EventKind.RESOLVED).body == "Appuntamento fissato."


def test_resolve_without_type_or_text_keeps_what_was_typed(operator_client, desk):
    services.take_charge(desk.ticket, desk.me)
    version = fresh(desk.ticket).version
    response = post(operator_client, desk.ticket, "resolve",
                    {"resolution_text": "Testo già scritto con cura"})
    assert response.status_code == 200
    page = soup(response)
    assert "required" in field_errors(page, "resolve", "resolution_type")
    assert page.select_one("#id_resolve_resolution_text").get_text() .strip() == (
        "Testo già scritto con cura")
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert page.select_one(".messages .error")  # shown at the top of the page

    kind = desk.factories.resolution_type()
    response = post(operator_client, desk.ticket, "resolve",
                    {"resolution_type": kind.pk, "resolution_text": "   "})
    page = soup(response)
    assert "required" in field_errors(page, "resolve", "resolution_text")
    selected = page.select_one("#id_resolve_resolution_type option[selected]")
    assert selected["value"] == str(kind.pk)
    t = fresh(desk.ticket)
    assert (t.status, t.version) == ("in_progress", version)
    assert EventKind.RESOLVED not in event_kinds(t)


def test_reopen(operator_client, desk):
    services.resolve(services.take_charge(desk.ticket, desk.me), desk.me,
                     desk.factories.resolution_type(), "Fatto")
    response = post(operator_client, desk.ticket, "reopen", {"reason": "Manca un documento"})
    assert_succeeded(response, desk.ticket, "reactivated")
    t = fresh(desk.ticket)
    assert (t.status, t.resolution_type, t.resolution_text) == ("in_progress", None, "")
    assert t.events.get(kind=EventKind.REOPENED).body == "Manca un documento"


def test_note(operator_client, desk):
    response = post(operator_client, desk.ticket, "note", {"body": "Richiamare domani"})
    assert_succeeded(response, desk.ticket, "Private note added")
    event = fresh(desk.ticket).events.get(kind=EventKind.NOTE)
    assert (event.body, event.visibility, event.actor) == (
        "Richiamare domani", Visibility.INTERNAL, desk.me)


def test_an_empty_note_is_refused(operator_client, desk):
    response = post(operator_client, desk.ticket, "note", {"body": ""})
    assert response.status_code == 200
    assert "required" in field_errors(soup(response), "note", "body")
    assert EventKind.NOTE not in event_kinds(desk.ticket)


def test_reply_with_attachments_stores_them_and_serves_them(operator_client, desk):
    response = post(operator_client, desk.ticket, "reply", {
        "body": "Ecco il modulo e la mappa.",
        "attachments": [SimpleUploadedFile("modulo.pdf", PDF_BYTES, "application/pdf"),
                        SimpleUploadedFile("mappa.png", png_bytes(), "image/png")],
    })
    assert_succeeded(response, desk.ticket, "Reply to the citizen sent")
    t = fresh(desk.ticket)
    assert (t.status, t.assignee) == ("in_progress", desk.me)  # replying takes charge
    event = t.events.get(kind=EventKind.REPLY)
    assert event.body == "Ecco il modulo e la mappa."
    pdf, png = event.attachments.order_by("pk")
    assert (pdf.original_name, png.original_name) == ("modulo.pdf", "mappa.png")

    page = soup(operator_client.get(page_url(t)))
    reply = next(li for li in page.select(".helpdesk-event") if "Ecco il modulo" in li.text)
    pdf_url = reverse("helpdesk_tickets:attachment", args=[t.pk, pdf.pk])
    assert reply.select_one(f'a[href="{pdf_url}"]')
    assert page.select_one(f'#ticket-attachments-section a[href="{pdf_url}"]')

    response = operator_client.get(pdf_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="modulo.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert {"private", "no-store"} <= cache_directives(response)

    response = operator_client.get(reverse("helpdesk_tickets:attachment", args=[t.pk, png.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    release(response)


def test_a_bad_attachment_is_refused_next_to_its_field_and_the_reply_kept(operator_client,
                                                                          desk):
    response = post(operator_client, desk.ticket, "reply", {
        "body": "Testo della risposta",
        "attachments": [SimpleUploadedFile("virus.exe", b"MZ\x90\x00 program", "image/png")],
    })
    assert response.status_code == 200
    page = soup(response)
    assert "virus.exe" in field_errors(page, "reply", "attachments")
    assert page.select_one("#id_reply_body").get_text().strip() == "Testo della risposta"
    assert "attach them again" in page.select_one("#action-reply").get_text()
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert EventKind.REPLY not in event_kinds(desk.ticket)
    assert not Attachment.objects.exists()


def test_a_refusal_without_a_field_is_shown_at_the_top(operator_client, desk):
    response = post(operator_client, desk.ticket, "set_priority",
                    {"priority": Priority.NORMAL})  # already Normal
    assert response.status_code == 200
    assert messages_of(response) == [("error", "The ticket already has this priority.")]
    assert EventKind.PRIORITY_CHANGED not in event_kinds(desk.ticket)


def test_a_stale_version_warns_and_keeps_the_text(operator_client, desk):
    seen = fresh(desk.ticket).version
    services.take_charge(desk.ticket, desk.colleague)  # meanwhile…
    response = operator_client.post(action_url(desk.ticket, "note"),
                                    {"version": seen, "body": "La mia nota lunga"})
    assert response.status_code == 200
    assert [level for level, _ in messages_of(response)] == ["warning"]
    assert "Someone else changed this ticket" in messages_of(response)[0][1]
    page = soup(response)
    assert page.select_one("#id_note_body").get_text().strip() == "La mia nota lunga"
    # The page shows the ticket as it is now, ready to send again once checked.
    current = fresh(desk.ticket).version
    assert page.select_one("#action-note input[name=version]")["value"] == str(current)
    assert "Bruno Verdi" in page.select_one(".helpdesk-facts").get_text()
    assert EventKind.NOTE not in event_kinds(desk.ticket)


def test_a_stale_action_no_longer_possible_still_shows_the_text(operator_client, desk):
    services.take_charge(desk.ticket, desk.me)
    seen = fresh(desk.ticket).version
    services.resolve(desk.ticket, desk.colleague, desk.factories.resolution_type(), "Fatto")
    response = operator_client.post(action_url(desk.ticket, "resolve"), {
        "version": seen, "resolution_type": desk.factories.resolution_type().pk,
        "resolution_text": "La mia risoluzione"})
    assert response.status_code == 200
    page = soup(response)
    assert not page.select("#action-resolve")  # no longer possible…
    assert page.select_one("textarea.helpdesk-unsaved").get_text() == "La mia risoluzione"
    assert fresh(desk.ticket).resolution_text == "Fatto"


def test_an_action_not_allowed_in_the_status_changes_nothing(operator_client, desk):
    before = fresh(desk.ticket)
    response = post(operator_client, desk.ticket, "reopen")
    assert response.status_code == 200
    assert [level for level, _ in messages_of(response)] == ["error"]
    assert "not possible" in messages_of(response)[0][1]
    after = fresh(desk.ticket)
    assert (after.status, after.version) == (before.status, before.version)
    assert EventKind.REOPENED not in event_kinds(desk.ticket)


def test_a_missing_version_is_refused(operator_client, desk):
    response = operator_client.post(action_url(desk.ticket, "note"), {"body": "Senza versione"})
    assert response.status_code == 200
    assert "out of date" in messages_of(response)[0][1]
    assert EventKind.NOTE not in event_kinds(desk.ticket)


ANY_DATA = {"body": "x", "reason": "x", "message": "x", "note": "x", "priority": "3",
            "resolution_text": "x"}


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_operators_of_other_offices_cannot_act(client, desk, action):
    services.take_charge(desk.ticket, desk.me)
    if action == "reopen":
        services.resolve(desk.ticket, desk.me, desk.factories.resolution_type(), "Fatto")
    before = fresh(desk.ticket)
    client.force_login(desk.outsider)
    data = {**ANY_DATA, "assignee": desk.outsider.pk, "office": desk.other_office.pk,
            "resolution_type": desk.factories.resolution_type().pk}
    response = post(client, desk.ticket, action, data)
    assert response.status_code in (403, 404)
    after = fresh(desk.ticket)
    assert (after.version, after.status, after.office, after.assignee) == (
        before.version, before.status, before.office, before.assignee)


def test_unknown_actions_are_not_found(operator_client, desk):
    response = post(operator_client, desk.ticket, "delete", {"body": "x"})
    assert response.status_code == 404
    response = post(operator_client, desk.ticket, "citizen_message", {"body": "x"})
    assert response.status_code == 404


def test_actions_only_take_posts(operator_client, desk):
    response = operator_client.get(action_url(desk.ticket, "take_charge"))
    assert response.status_code == 405
    assert fresh(desk.ticket).assignee is None


def test_actions_need_the_csrf_token(desk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk.me)
    response = post(client, desk.ticket, "take_charge")
    assert response.status_code == 403
    assert fresh(desk.ticket).assignee is None


def test_every_action_has_a_form_and_a_service_call():
    assert set(ACTIONS) == set(ACTION_FORMS) == set(ALL_ACTIONS)


# --- Attachment download ------------------------------------------------------------------


@pytest.fixture
def attachment(desk):
    return services.add_attachment(
        desk.ticket, desk.me, SimpleUploadedFile("verbale.pdf", PDF_BYTES, "application/pdf"),
        visibility=Visibility.INTERNAL)


def release(response):
    """Read and close the streamed file. Not ``response.close()``: that sends
    request_finished, which closes the test's database connection."""
    b"".join(response.streaming_content)
    if response.file_to_stream is not None:
        response.file_to_stream.close()


def test_an_attachment_is_served_only_through_its_own_ticket(operator_client, desk,
                                                             attachment):
    url = reverse("helpdesk_tickets:attachment", args=[desk.ticket.pk, attachment.pk])
    response = operator_client.get(url)
    assert response.status_code == 200
    release(response)
    other = desk.factories.request_ticket(service_=desk.service)
    response = operator_client.get(
        reverse("helpdesk_tickets:attachment", args=[other.pk, attachment.pk]))
    assert response.status_code == 404
    response = operator_client.get(
        reverse("helpdesk_tickets:attachment", args=[desk.ticket.pk, attachment.pk + 99]))
    assert response.status_code == 404


def test_other_offices_cannot_download(client, desk, attachment):
    client.force_login(desk.outsider)
    url = reverse("helpdesk_tickets:attachment", args=[desk.ticket.pk, attachment.pk])
    assert client.get(url).status_code == 404


def test_internal_attachments_are_marked(operator_client, desk, attachment):
    panel = soup(operator_client.get(page_url(desk.ticket))).select_one(
        "#ticket-attachments-section")
    assert "verbale.pdf" in panel.get_text() and "Operators only" in panel.get_text()


# --- Queries ------------------------------------------------------------------------------


def test_the_page_queries_do_not_grow_with_the_timeline(operator_client, desk):
    """Pinned: the same number of queries for a ticket with 1 event and with ~30
    (messages, notes, files, assignments, transfers, priorities, other tickets),
    but for the names of the people and offices its events refer to (loaded
    only when some event names them: one query each)."""
    small = desk.factories.request_ticket(desk.me, service_=desk.service,
                                          citizen_=desk.citizen)
    services.take_charge(small, desk.me)
    big = desk.factories.request_ticket(desk.me, service_=desk.service, citizen_=desk.citizen)
    services.take_charge(big, desk.me)

    def count(ticket):
        url = page_url(ticket)
        assert operator_client.get(url).status_code == 200  # marks read: not measured
        with CaptureQueriesContext(connection) as ctx:
            assert operator_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    assert TicketEvent.objects.filter(ticket=small).count() <= 4
    expected = count(small)

    admin = desk.factories.administrator()
    person = CitizenActor(desk.citizen)
    for i in range(3):
        services.add_citizen_message(big, person, f"Messaggio {i}", attachments=[
            SimpleUploadedFile(f"foto{i}.png", png_bytes(), "image/png")])
        services.reply(big, desk.me, f"Risposta {i}", attachments=[
            SimpleUploadedFile(f"modulo{i}.pdf", PDF_BYTES, "application/pdf")])
        services.add_note(big, desk.me, f"Nota {i}")
        services.assign(big, desk.me, desk.colleague)
        services.set_priority(big, desk.me, Priority.HIGH if i % 2 == 0 else Priority.LOW)
        services.transfer(big, desk.me, desk.other_office, note=f"Trasferimento {i}")
        services.transfer(big, admin, desk.office)
        services.take_charge(big, desk.me)
        services.mark_waiting(big, desk.me, message="Aspettiamo")
        services.resolve(big, desk.me, desk.factories.resolution_type(), "Risolta")
        services.reopen(big, desk.me)
    for _ in range(6):
        desk.factories.request_ticket(service_=desk.service, citizen_=desk.citizen)
    assert TicketEvent.objects.filter(ticket=big).count() >= 30
    big_ticket = fresh(big)
    assert (big_ticket.status, big_ticket.assignee) == ("in_progress", desk.me)
    # The names its assignments and transfers refer to: one query for the
    # people, one for the offices.
    assert count(big) == expected + 2


def test_an_operators_draft_links_to_its_editing(operator_client, desk):
    draft = services.create_ticket(desk.me, kind=Kind.REQUEST, channel=Channel.PHONE,
                                   service=desk.service, citizen=desk.citizen, draft=True)
    page = soup(operator_client.get(page_url(draft)))
    edit_url = reverse("helpdesk_tickets:edit_draft", args=[draft.pk])
    assert page.select_one(f'a[href="{edit_url}"]')
    assert not soup(operator_client.get(page_url(desk.ticket))).select_one(
        'a[href$="/edit/"]')
