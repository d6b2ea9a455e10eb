"""Quick replies: placeholders, who sees and changes which reply, the admin
screens, and the reply box of the ticket page (with and without JavaScript)."""

import datetime
import json
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.desk import ANNA, BRUNO
from wagtail_helpdesk import services
from wagtail_helpdesk.demo.replies import default_office_replies
from wagtail_helpdesk.models import EventKind, QuickReply, Ticket, TicketEvent
from wagtail_helpdesk.quickreplies.placeholders import (
    PLACEHOLDERS,
    append_text,
    fill_placeholders,
    render_reply,
    unknown_placeholders,
)
from wagtail_helpdesk.quickreplies.policy import can_manage, insertable_replies, visible_replies

TODAY = datetime.date(2025, 3, 5)


@pytest.fixture
def desk(make_desk):
    """Two offices; in URP two operators and a supervisor, in Lavori pubblici an
    operator and a supervisor; an administrator; a request to URP; replies of
    every kind."""
    desk = make_desk(office={"name": "URP"}, me=ANNA, colleague=BRUNO,
                     other_office={"name": "Lavori pubblici"}, outsider=True,
                     supervisor={"first_name": "Carla", "last_name": "Neri"},
                     citizen={"given_name": "Giovanna", "family_name": "Esposito"},
                     service={"name": "Carta d'identità"}, ticket=True)
    urp, works, me, colleague, boss = (desk.office, desk.other_office, desk.me,
                                       desk.colleague, desk.supervisor)

    def reply(title, shortcut, *, owner=None, office=None, **kwargs):
        kwargs.setdefault("body", f"Testo di {title} per {{cittadino}}.")
        return QuickReply.objects.create(title=title, shortcut=shortcut, owner=owner,
                                         office=office, **kwargs)

    desk.urp, desk.works, desk.boss = urp, works, boss
    desk.other_boss = desk.factories.supervisor(works)
    desk.admin = desk.factories.administrator()
    desk.ticket = Ticket.objects.get(pk=desk.ticket.pk)
    desk.replies = SimpleNamespace(
        mine=reply("Saluti", "saluti", owner=me, category="Cortesia",
                   body="Buongiorno {cittadino}, sono {operatore}."),
        colleagues=reply("Segreta del collega", "segreta", owner=colleague),
        urp=reply("Orari di apertura", "orari", office=urp, category="Informazioni",
                  body="L'ufficio {ufficio} è aperto il lunedì."),
        works=reply("Cantieri", "cantieri", office=works),
        bosses=reply("Del responsabile", "capo", owner=boss),
    )
    desk.reply = reply
    return desk


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def url(name, *args):
    return reverse(f"helpdesk_quick_replies:{name}", args=args)


def messages_of(response):
    return [(m.level_tag, str(m.message).strip()) for m in get_messages(response.wsgi_request)]


def listed_titles(response):
    page = soup(response)
    return sorted(cell.get_text(" ", strip=True).split("  ")[0].strip()
                  for cell in page.select("table.listing tbody td.title .title-wrapper"))


def form_data(**overrides):
    data = {"scope": "personal", "title": "Documenti mancanti", "shortcut": "documenti",
            "category": "Integrazioni", "body": "Gentile {cittadino}, manca un documento.",
            "active": "on"}
    data.update(overrides)
    return data


# --- Placeholders -------------------------------------------------------------------------


def test_every_placeholder_is_filled_for_the_ticket_and_the_operator(desk):
    ticket = desk.ticket
    body = "{cittadino}|{codice}|{servizio}|{ufficio}|{operatore}|{data}"
    reply = QuickReply(title="t", shortcut="t", body=body, owner=desk.me)
    assert set(PLACEHOLDERS) == {"cittadino", "codice", "tipo", "servizio", "ufficio",
                                 "operatore", "data"}
    assert render_reply(reply, ticket, desk.me, today=TODAY) == (
        f"Giovanna Esposito|{ticket.reference}|Carta d'identità|URP|Anna Bianchi|05/03/2025")
    assert ticket.reference and ticket.reference.startswith(("#", ticket.short_code or "#"))


def test_a_reports_problem_type_is_the_service_and_a_nameless_operator_their_username(desk):
    category = desk.factories.report_category(desk.urp, name="Buche stradali")
    report = desk.factories.report_ticket(category=category)
    nameless = desk.factories.operator(desk.urp, username="op.senzanome")
    reply = QuickReply(body="{servizio} / {operatore} / {cittadino}", owner=nameless)
    # An anonymous report has no citizen: the placeholder stays for the operator to fill in.
    assert render_reply(reply, report, nameless) == "Buche stradali / op.senzanome / {cittadino}"


def test_unknown_placeholders_and_stray_braces_are_left_as_they_are():
    values = {"cittadino": "Maria Rossi", "codice": "{data}"}
    text = ("Gentile {cittadino}, {nome} { cittadino } {CITTADINO} {{cittadino}} } { {} "
            "{codice} {0} {cittadino")
    assert fill_placeholders(text, values) == (
        "Gentile Maria Rossi, {nome} { cittadino } {CITTADINO} {Maria Rossi} } { {} "
        "{data} {0} {cittadino")  # a value is never expanded again
    assert fill_placeholders("", values) == ""
    assert fill_placeholders(None, values) == ""
    assert unknown_placeholders("{nome} {cittadino} {citadino} {0} { x }") == ["citadino",
                                                                                 "nome"]


def test_appending_keeps_what_was_typed():
    assert append_text("", "Saluti") == "Saluti"
    assert append_text("  \n", "Saluti") == "Saluti"
    assert append_text("Buongiorno,", "Saluti") == "Buongiorno,\n\nSaluti"
    assert append_text("Buongiorno,\n", "Saluti") == "Buongiorno,\n\nSaluti"
    assert append_text("Buongiorno,\n\n", "Saluti") == "Buongiorno,\n\nSaluti"
    assert append_text("  rientro  ", "Saluti") == "  rientro  \n\nSaluti"


def test_the_default_office_replies_are_valid(desk):
    replies = default_office_replies()
    office = desk.factories.office(name="Servizi demografici")
    assert len(replies) >= 5
    assert len({r["shortcut"] for r in replies}) == len(replies)
    for data in replies:
        reply = QuickReply(office=office, **data)
        reply.full_clean()  # lengths, shortcut format, the owner/office constraint
        assert not unknown_placeholders(reply.body)
        text = render_reply(reply, desk.ticket, desk.me)
        assert "{" not in text and "Giovanna Esposito" in text


# --- The model's constraints ---------------------------------------------------------------


def test_a_reply_is_either_personal_or_of_an_office(desk):
    for owner, office in ((desk.me, desk.urp), (None, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            QuickReply.objects.create(title="x", shortcut="xx", body="x", owner=owner,
                                      office=office)
    assert QuickReply.objects.filter(shortcut="xx").count() == 0


def test_a_shortcut_is_unique_per_owner_and_per_office(desk):
    with pytest.raises(IntegrityError), transaction.atomic():
        desk.reply("Altro", "saluti", owner=desk.me)
    with pytest.raises(IntegrityError), transaction.atomic():
        desk.reply("Altro", "orari", office=desk.urp)
    # The same word elsewhere is fine.
    desk.reply("Saluti di Bruno", "saluti", owner=desk.colleague)
    desk.reply("Orari LLPP", "orari", office=desk.works)
    desk.reply("Orari miei", "orari", owner=desk.me)


# --- Who sees and changes what ------------------------------------------------------------------


def test_visibility_and_management_rules(desk):
    r = desk.replies
    mine, colleagues, urp, works, bosses = r.mine, r.colleagues, r.urp, r.works, r.bosses
    assert set(visible_replies(desk.me)) == {mine, urp}
    assert set(visible_replies(desk.outsider)) == {works}
    assert set(visible_replies(desk.boss)) == {bosses, urp}
    # Administrators: every office's replies, and their own — not others' personal ones.
    assert set(visible_replies(desk.admin)) == {urp, works}

    assert [can_manage(desk.me, x) for x in (mine, colleagues, urp, works)] == [
        True, False, False, False]
    assert [can_manage(desk.boss, x) for x in (bosses, mine, urp, works)] == [
        True, False, True, False]
    assert [can_manage(desk.admin, x) for x in (urp, works, mine)] == [True, True, False]
    desk.me.is_active = False
    assert not can_manage(desk.me, mine)


def test_the_reply_box_offers_own_office_and_the_tickets_office_replies(desk):
    r = desk.replies
    inactive = desk.reply("Vecchia", "vecchia", owner=desk.me, active=False)
    assert set(insertable_replies(desk.me, desk.ticket)) == {r.mine, r.urp}
    assert inactive not in insertable_replies(desk.me, desk.ticket)
    # An administrator working on a URP ticket gets URP's replies, not Lavori pubblici's.
    assert set(insertable_replies(desk.admin, desk.ticket)) == {r.urp}


def test_the_list_shows_own_and_office_replies_only(client, desk):
    client.force_login(desk.me)
    response = client.get(url("index"))
    assert response.status_code == 200
    assert listed_titles(response) == ["Orari di apertura", "Saluti"]
    page = soup(response)
    # Only their own reply links to its editing; the office's one to its page.
    assert page.select_one(f'a[href="{url("edit", desk.replies.mine.pk)}"]')
    assert not page.select_one(f'a[href="{url("edit", desk.replies.urp.pk)}"]')
    assert page.select_one(f'a[href="{url("inspect", desk.replies.urp.pk)}"]')


def test_search_and_filters(client, desk):
    desk.reply("Documenti", "documenti", owner=desk.me, category="Integrazioni",
               body="Serve la carta di identità.")
    client.force_login(desk.me)
    assert listed_titles(client.get(url("index"), {"q": "orari"})) == ["Orari di apertura"]
    assert listed_titles(client.get(url("index"), {"q": "carta di identità"})) == ["Documenti"]
    assert listed_titles(client.get(url("index"), {"q": "segreta"})) == []
    assert listed_titles(client.get(url("index"), {"category": "Informazioni"})) == [
        "Orari di apertura"]
    assert listed_titles(client.get(url("index"), {"scope": "personal"})) == [
        "Documenti", "Saluti"]
    assert listed_titles(client.get(url("index"), {"scope": "office"})) == ["Orari di apertura"]
    # The category filter offers only the categories of replies they see.
    page = soup(client.get(url("index")))
    options = {o["value"] for o in page.select('select[name="category"] option') if o["value"]}
    assert options == {"Cortesia", "Informazioni", "Integrazioni"}


def test_operators_cannot_see_or_change_others_replies(client, desk):
    r = desk.replies
    client.force_login(desk.me)
    for reply in (r.colleagues, r.works, r.bosses):
        for view in ("edit", "delete", "inspect", "history", "history_results", "usage"):
            assert client.get(url(view, reply.pk)).status_code == 404, (reply, view)
        assert client.post(url("edit", reply.pk), form_data()).status_code == 404
        assert client.post(url("delete", reply.pk)).status_code == 404
    # Their office's reply: they may read it, not change or delete it.
    assert client.get(url("inspect", r.urp.pk)).status_code == 200
    assert client.get(url("history", r.urp.pk)).status_code == 200
    assert client.get(url("usage", r.urp.pk)).status_code == 403
    assert client.get(url("history", r.mine.pk)).status_code == 200
    response = client.get(url("edit", r.urp.pk))
    assert response.status_code == 403
    assert "You cannot change" in response.content.decode()
    assert client.post(url("edit", r.urp.pk), form_data(title="Cambiato")).status_code == 403
    assert client.post(url("delete", r.urp.pk)).status_code == 403
    assert set(QuickReply.objects.values_list("title", flat=True)) >= {
        "Orari di apertura", "Segreta del collega", "Cantieri", "Del responsabile"}
    assert not QuickReply.objects.filter(title="Cambiato").exists()


def test_operators_edit_and_delete_their_own(client, desk):
    mine = desk.replies.mine
    client.force_login(desk.me)
    response = client.post(url("edit", mine.pk), form_data(
        title="Saluti cordiali", shortcut="saluti", owner=desk.colleague.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    mine.refresh_from_db()
    assert (mine.title, mine.owner, mine.office) == ("Saluti cordiali", desk.me, None)
    assert client.post(url("delete", mine.pk)).status_code == 302
    assert not QuickReply.objects.filter(pk=mine.pk).exists()


def test_supervisors_change_their_offices_replies_only(client, desk):
    r = desk.replies
    client.force_login(desk.boss)
    assert client.get(url("edit", r.urp.pk)).status_code == 200
    response = client.post(url("edit", r.urp.pk), form_data(
        scope=f"office-{desk.urp.pk}", title="Orari estivi", shortcut="orari"))
    assert response.status_code == 302, response.content.decode()[:3000]
    r.urp.refresh_from_db()
    assert (r.urp.title, r.urp.office, r.urp.owner) == ("Orari estivi", desk.urp, None)
    assert client.get(url("edit", r.works.pk)).status_code == 404
    assert client.post(url("delete", r.works.pk)).status_code == 404
    assert client.get(url("edit", r.mine.pk)).status_code == 404
    client.force_login(desk.other_boss)
    assert client.get(url("edit", r.urp.pk)).status_code == 404
    assert client.get(url("edit", r.works.pk)).status_code == 200


def test_administrators_change_every_offices_replies(client, desk):
    r = desk.replies
    client.force_login(desk.admin)
    for reply in (r.urp, r.works):
        assert client.get(url("edit", reply.pk)).status_code == 200
    response = client.post(url("edit", r.works.pk), form_data(
        scope=f"office-{desk.works.pk}", title="Cantieri aperti", shortcut="cantieri"))
    assert response.status_code == 302
    assert QuickReply.objects.get(pk=r.works.pk).title == "Cantieri aperti"
    assert client.post(url("delete", r.urp.pk)).status_code == 302
    assert not QuickReply.objects.filter(pk=r.urp.pk).exists()
    # Personal replies stay personal.
    assert client.get(url("edit", r.mine.pk)).status_code == 404


# --- The creation form ---------------------------------------------------------------------------


def scope_choices(response):
    return [o["value"] for o in soup(response).select('select[name="scope"] option')]


def test_operators_create_personal_replies_only(client, desk):
    client.force_login(desk.me)
    response = client.get(url("add"))
    assert response.status_code == 200
    assert scope_choices(response) == ["personal"]
    for scope in (f"office-{desk.urp.pk}", f"office-{desk.works.pk}"):
        response = client.post(url("add"), form_data(scope=scope))
        assert response.status_code == 200
        assert "Gentile {cittadino}, manca un documento." in response.content.decode()
    assert not QuickReply.objects.filter(shortcut="documenti").exists()
    # The owner comes from the request, whatever is posted.
    response = client.post(url("add"), form_data(shortcut="/Documenti ", owner=desk.colleague.pk,
                                                 office=desk.urp.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = QuickReply.objects.get(title="Documenti mancanti")
    assert (created.owner, created.office, created.shortcut) == (desk.me, None, "documenti")


def test_supervisors_and_administrators_are_offered_their_offices(client, desk):
    client.force_login(desk.boss)
    assert scope_choices(client.get(url("add"))) == ["personal", f"office-{desk.urp.pk}"]
    response = client.post(url("add"), form_data(scope=f"office-{desk.works.pk}"))
    assert response.status_code == 200 and not QuickReply.objects.filter(
        shortcut="documenti").exists()
    assert client.post(url("add"), form_data(scope=f"office-{desk.urp.pk}")).status_code == 302
    created = QuickReply.objects.get(shortcut="documenti")
    assert (created.owner, created.office) == (None, desk.urp)
    client.force_login(desk.admin)
    assert set(scope_choices(client.get(url("add")))) == {
        "personal", f"office-{desk.urp.pk}", f"office-{desk.works.pk}"}


def test_the_form_refuses_a_used_shortcut_and_unknown_placeholders(client, desk):
    client.force_login(desk.me)
    response = client.post(url("add"), form_data(shortcut="saluti"))
    assert response.status_code == 200
    assert "already uses this shortcut" in response.content.decode()
    response = client.post(url("add"), form_data(body="Gentile {citadino}"))
    assert response.status_code == 200
    assert "Unknown placeholder: {citadino}" in response.content.decode()
    response = client.post(url("add"), form_data(shortcut="due parole"))
    assert response.status_code == 200
    assert not QuickReply.objects.filter(title="Documenti mancanti").exists()
    # The office's shortcut is not theirs: a personal "orari" is fine.
    assert client.post(url("add"), form_data(shortcut="orari")).status_code == 302


# --- The reply box ---------------------------------------------------------------------------------


def ticket_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def test_the_ticket_page_offers_the_operators_replies(client, desk):
    client.force_login(desk.me)
    page = soup(client.get(ticket_url(desk.ticket)))
    form = page.select_one("form#action-reply")
    select = form.select_one('select[name="quick_reply"]')
    values = {o["value"] for o in select.select("option") if o["value"]}
    assert values == {str(desk.replies.mine.pk), str(desk.replies.urp.pk)}
    assert [g["label"] for g in select.select("optgroup")] == ["Personal", "URP"]
    button = form.select_one('button[name="insert_quick_reply"]')
    assert button["formaction"].startswith(url("insert", desk.ticket.pk))
    data = json.loads(page.select_one("#helpdesk-quick-replies-data").string)
    assert {d["shortcut"] for d in data} == {"saluti", "orari"}
    assert page.select_one('script[src*="wagtail_helpdesk/admin/quickreplies.js"]')
    # The picker follows the reply's text area, inside the reply form.
    assert form.select_one("textarea#id_reply_body")


def test_the_ticket_page_has_no_picker_without_a_reply_form(client, desk):
    services.take_charge(desk.ticket, desk.me)
    services.resolve(desk.ticket, desk.me, desk.factories.resolution_type(), "Fatto")
    client.force_login(desk.me)
    page = soup(client.get(ticket_url(desk.ticket)))
    assert not page.select_one("form#action-reply")
    assert not page.select_one('select[name="quick_reply"]')
    assert not page.select_one('script[src*="quickreplies.js"]')


def test_insert_without_javascript_appends_to_what_was_typed(client, desk):
    client.force_login(desk.me)
    typed = "Buongiorno,\nho verificato la pratica."
    response = client.post(url("insert", desk.ticket.pk), {
        "version": desk.ticket.version, "body": typed,
        "quick_reply": desk.replies.mine.pk, "insert_quick_reply": "1",
    })
    assert response.status_code == 200
    page = soup(response)
    body = page.select_one("textarea#id_reply_body").string.lstrip("\n")
    assert body == typed + "\n\nBuongiorno Giovanna Esposito, sono Anna Bianchi."
    assert page.select_one('#action-reply input[name="version"]')["value"] == str(
        desk.ticket.version)
    assert not page.select_one("#action-reply .error-message")
    assert ("info", "“Saluti” was added to your reply: check it and send it.") in messages_of(
        response)
    # Nothing was sent.
    assert not TicketEvent.objects.filter(ticket=desk.ticket, kind=EventKind.REPLY).exists()


def test_insert_without_javascript_refuses_others_replies_keeping_the_text(client, desk):
    client.force_login(desk.me)
    for reply_pk in (desk.replies.colleagues.pk, desk.replies.works.pk, "", "abc"):
        response = client.post(url("insert", desk.ticket.pk), {
            "version": desk.ticket.version, "body": "Testo mio", "quick_reply": reply_pk})
        assert response.status_code == 200
        assert soup(response).select_one("textarea#id_reply_body").string.strip() == "Testo mio"
        assert [level for level, _ in messages_of(response)] == ["error"]
    client.force_login(desk.outsider)
    response = client.post(url("insert", desk.ticket.pk), {
        "version": desk.ticket.version, "body": "x", "quick_reply": desk.replies.works.pk})
    assert response.status_code == 404
    assert client.get(url("insert", desk.ticket.pk)).status_code == 405


def test_a_reply_sent_after_inserting_is_the_rendered_text(client, desk):
    client.force_login(desk.me)
    response = client.post(url("insert", desk.ticket.pk), {
        "version": desk.ticket.version, "body": "", "quick_reply": desk.replies.urp.pk})
    text = soup(response).select_one("textarea#id_reply_body").string.lstrip("\n")
    assert text == "L'ufficio URP è aperto il lunedì."
    response = client.post(reverse("helpdesk_tickets:action", args=[desk.ticket.pk, "reply"]),
                           {"version": desk.ticket.version, "body": text})
    assert response.status_code == 302
    assert TicketEvent.objects.get(ticket=desk.ticket, kind=EventKind.REPLY).body == text


def test_the_json_endpoint_renders_the_users_replies_for_the_ticket(client, desk):
    client.force_login(desk.me)
    response = client.get(url("render", desk.ticket.pk, desk.replies.mine.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response.json() == {"id": desk.replies.mine.pk, "title": "Saluti",
                               "shortcut": "saluti",
                               "text": "Buongiorno Giovanna Esposito, sono Anna Bianchi."}
    office = client.get(url("render", desk.ticket.pk, desk.replies.urp.pk)).json()
    assert office["text"] == "L'ufficio URP è aperto il lunedì."


def test_the_json_endpoint_refuses_others_replies_and_tickets(client, desk):
    inactive = desk.reply("Vecchia", "vecchia", owner=desk.me, active=False)
    client.force_login(desk.me)
    for reply in (desk.replies.colleagues, desk.replies.works, desk.replies.bosses, inactive):
        assert client.get(url("render", desk.ticket.pk, reply.pk)).status_code == 404
    other_ticket = desk.factories.request_ticket(service_=desk.factories.service(desk.works))
    assert client.get(url("render", other_ticket.pk, desk.replies.mine.pk)).status_code == 404
    assert client.post(url("render", desk.ticket.pk, desk.replies.mine.pk)).status_code == 405
    client.force_login(desk.outsider)
    assert client.get(url("render", desk.ticket.pk, desk.replies.works.pk)).status_code == 404
    client.logout()
    response = client.get(url("render", desk.ticket.pk, desk.replies.mine.pk))
    assert response.status_code == 302 and "login" in response["Location"]


# --- Menu and queries ------------------------------------------------------------------------------


def test_the_helpdesk_menu_lists_quick_replies_for_operators(client, desk):
    client.force_login(desk.me)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert url("index") in html


def test_the_list_queries_do_not_grow_with_the_rows(client, desk):
    client.force_login(desk.boss)

    def count():
        cache.clear()  # the Helpdesk menu's attention figure is cached
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("index"))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(soup(response).select("table.listing tbody tr"))

    client.get(url("index"))
    few, rows = count()
    assert rows == 2
    for i in range(12):
        desk.reply(f"Mia {i}", f"mia-{i}", owner=desk.boss, category=f"Cat {i % 4}")
        desk.reply(f"URP {i}", f"urp-{i}", office=desk.urp, category=f"Cat {i % 3}")
    many, rows = count()
    assert rows == 26
    assert many == few
    # pinned: session, user with the Wagtail profile, permissions (one
    # query: the helpdesk's auth backend), menu (the Helpdesk figure: two
    # counts), filters, count, page
    assert few == 13


def test_the_reply_page_shows_where_it_belongs_and_keeps_line_breaks(client, desk):
    desk.replies.urp.body = "Riga uno\n<b>due</b>"
    desk.replies.urp.save()
    client.force_login(desk.me)
    response = client.get(url("inspect", desk.replies.urp.pk))
    html = response.content.decode()
    assert "Riga uno<br>&lt;b&gt;due&lt;/b&gt;" in html
    assert "URP" in html and "/orari" in html
    # Not theirs to change: no edit or delete buttons.
    assert url("edit", desk.replies.urp.pk) not in html
    assert url("delete", desk.replies.urp.pk) not in html
    client.force_login(desk.boss)
    assert url("edit", desk.replies.urp.pk) in client.get(
        url("inspect", desk.replies.urp.pk)).content.decode()
