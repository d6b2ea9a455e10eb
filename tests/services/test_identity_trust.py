"""Identity trust: a declared fiscal code never reaches another person's
record, contacts or tickets.

The two takeover stories of the security report, end to end (submission →
operator's reply → where the e-mail goes, what the signed link opens, what the
personal area lists, what the receipt prints); the operator's deliberate,
audited "Collega al cittadino"; and a property-style run over every intake
path: whatever is declared, no stored field of an existing record changes and
nothing is addressed from it.
"""

import random
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from tests.support.citizen import send_request
from tests.support.open311 import INSIDE, new_client, url
from tests.support.pdf import pdf_text
from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import Channel, Citizen, EventKind, Kind, Notification, Ticket
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db

VICTIM_CODE = "RSSMRA85T10A562S"  # the fiscal code tests/support/citizen.py's form declares
VISITOR_EMAIL = "visitatore@example.net"


def mail_text(message):
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def town(factories, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    office = factories.office(name="Servizi sociali")
    operator = factories.operator(office)
    return type("Town", (), {"office": office, "operator": operator})


def deliver_all():
    pending = list(Notification.objects.filter(status="pending").values_list("pk", flat=True))
    if pending:
        tasks.deliver(pending)


# --- story 1: registered at the desk, no e-mail --------------------------------------


def test_a_declared_fiscal_code_cannot_take_over_a_desk_citizens_ticket(
        client, pages, factories, smtp, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    operator = factories.operator(pages.office)
    # The citizen phones: the operator registers them with no e-mail and opens a
    # ticket about a private matter.
    victim = services.register_citizen(operator, given_name="Giovanna", family_name="Esposito",
                                       fiscal_code=VICTIM_CODE)
    private = services.create_ticket(operator, kind=Kind.REQUEST, channel=Channel.PHONE,
                                      service=pages.service, citizen=victim,
                                      description="Questione riservata di Giovanna.")
    # Later an anonymous visitor declares that fiscal code and their own e-mail.
    send_request(client, pages, email=VISITOR_EMAIL, phone="+39 333 0000000")
    declared = Ticket.objects.exclude(pk=private.pk).get()

    victim.refresh_from_db()
    assert (victim.email, victim.phone) == ("", "")  # nothing completed
    assert declared.citizen != victim and declared.citizen.declared
    assert declared.citizen.email == VISITOR_EMAIL

    # The office answers the private ticket: nothing goes to the visitor.
    services.reply(private, operator, "Ecco l'esito della sua pratica riservata.")
    deliver_all()
    for message in smtp.messages:
        assert "riservata" not in mail_text(message)
        assert private.short_code not in mail_text(message)
    to_visitor = [m for m in smtp.messages if VISITOR_EMAIL in m["To"]]
    assert to_visitor and all(declared.short_code in mail_text(m) for m in to_visitor)
    assert not Notification.objects.filter(ticket=private, address=VISITOR_EMAIL).exists()

    # The signed link the visitor got opens their own ticket, never the victim's.
    link = re.search(r"https://comune\.example\.it(/helpdesk/pratica/[^/\s]+/)",
                     mail_text(to_visitor[0])).group(1)
    page = Client().get(link).content.decode()
    assert declared.short_code in page and private.short_code not in page
    assert "riservata" not in page


# --- story 2: a SPID citizen with an e-mail -----------------------------------------


def test_a_declared_fiscal_code_shows_nothing_of_a_spid_citizen(client, pages, smtp, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    user = get_user_model().objects.create_user(username="spid-giovanna", password=None)
    victim = Citizen.objects.create(given_name="Giovanna", family_name="Bianchi",
                                    fiscal_code=VICTIM_CODE, email="vera@example.it", user=user)
    response = send_request(client, pages, given_name="Finta", family_name="Persona",
                            email=VISITOR_EMAIL, phone="+39 333 0000000")
    assert response.status_code == 302
    ticket = Ticket.objects.get()

    # The confirmation page names only what the visitor typed.
    html = client.get(pages.request.url).content.decode()
    assert VISITOR_EMAIL in html and "vera@example.it" not in html
    # So does the PDF receipt.
    receipt = pdf_text(client.get(f"/helpdesk/receipt/{ticket.pk}/").content)
    assert "Finta Persona" in receipt and VISITOR_EMAIL in receipt and VICTIM_CODE in receipt
    assert "Bianchi" not in receipt and "vera@example.it" not in receipt
    # The victim's record is untouched, their personal area does not list it.
    victim.refresh_from_db()
    assert (victim.phone, victim.email, victim.given_name) == ("", "vera@example.it", "Giovanna")
    area = Client()
    area.force_login(user)
    listed = area.get(reverse("wagtail_helpdesk_my_tickets")).content.decode()
    assert ticket.short_code not in listed
    assert area.get(reverse("wagtail_helpdesk_my_ticket", args=[ticket.pk])).status_code == 404
    # No e-mail or App IO message goes to the victim.
    deliver_all()
    assert smtp.messages and all("vera@example.it" not in m["To"] for m in smtp.messages)
    assert not Notification.objects.filter(recipient_citizen=victim).exists()


# --- the operator links a genuine declared request ------------------------------------


@pytest.fixture
def claimed(pages, factories):
    """A SPID citizen and a web request declaring their fiscal code."""
    user = get_user_model().objects.create_user(username="spid-vera", password=None)
    victim = Citizen.objects.create(given_name="Giovanna", family_name="Esposito",
                                    fiscal_code=VICTIM_CODE, email="vera@example.it", user=user)
    send_request(Client(), pages, email=VISITOR_EMAIL)
    ticket = Ticket.objects.get()
    operator = factories.operator(pages.office)
    return type("Claimed", (), {"victim": victim, "ticket": ticket, "operator": operator,
                                "user": user})


def test_the_ticket_page_says_declared_and_offers_the_link(client, claimed):
    client.force_login(claimed.operator)
    html = client.get(reverse("helpdesk_tickets:detail", args=[claimed.ticket.pk])).content.decode()
    assert "Declared, not verified" in html
    assert "The declared fiscal code is a registered citizen" in html
    assert reverse("helpdesk_tickets:link_citizen", args=[claimed.ticket.pk]) in html
    # What the operator sees of the registered citizen is minimal: no full e-mail.
    assert "vera@example.it" not in html


def test_linking_is_deliberate_audited_and_then_the_citizen_sees_it(client, claimed, smtp):
    ticket, victim = claimed.ticket, claimed.victim
    link_url = reverse("helpdesk_tickets:link_citizen", args=[ticket.pk])
    client.force_login(claimed.operator)
    # Without ticking "I have checked", nothing happens.
    client.post(link_url, {"citizen": victim.pk, "version": ticket.version})
    ticket.refresh_from_db()
    assert ticket.citizen != victim
    # Another citizen's id than the declared fiscal code's: refused.
    other = Citizen.objects.create(given_name="Altro", fiscal_code="BNCGNN80A41H501X")
    client.post(link_url, {"citizen": other.pk, "version": ticket.version, "checked": "1"})
    ticket.refresh_from_db()
    assert ticket.citizen != other

    declared = ticket.citizen
    response = client.post(link_url, {"citizen": victim.pk, "version": ticket.version,
                                      "checked": "1"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.citizen == victim and ticket.declared_contact == declared
    event = ticket.events.get(kind=EventKind.CITIZEN_LINKED)
    assert event.actor == claimed.operator and event.visibility == "internal"
    assert event.data == {"citizen": victim.pk, "declared": declared.pk}
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert "Linked to a citizen" in page
    # What was declared stays in view for the operators.
    assert "Declared when the ticket was sent" in page and VISITOR_EMAIL in page
    # Now in the citizen's personal area, and the office's replies reach them.
    area = Client()
    area.force_login(claimed.user)
    assert ticket.short_code in area.get(reverse("wagtail_helpdesk_my_tickets")).content.decode()
    Notification.objects.all().delete()
    services.reply(ticket, claimed.operator, "Risposta dopo la verifica.")
    assert Notification.objects.filter(ticket=ticket, address="vera@example.it").exists()
    assert not Notification.objects.filter(ticket=ticket, address=VISITOR_EMAIL).exists()
    # Linking twice is refused.
    with pytest.raises(GuardFailed):
        services.link_citizen(ticket, claimed.operator, victim)


def test_only_an_operator_of_the_office_links(client, claimed, factories):
    outsider = factories.operator(factories.office(name="Tributi"))
    client.force_login(outsider)
    response = client.post(reverse("helpdesk_tickets:link_citizen", args=[claimed.ticket.pk]),
                           {"citizen": claimed.victim.pk, "checked": "1"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        services.link_citizen(claimed.ticket, CitizenActor(claimed.victim), claimed.victim)
    claimed.ticket.refresh_from_db()
    assert claimed.ticket.citizen != claimed.victim
    assert not claimed.ticket.events.filter(kind=EventKind.CITIZEN_LINKED).exists()


def test_a_link_to_a_declared_or_erased_record_is_refused(claimed, factories):
    other_declared = services.declared_citizen(given_name="X", family_name="Y",
                                               fiscal_code=VICTIM_CODE)
    with pytest.raises(GuardFailed):
        services.link_citizen(claimed.ticket, claimed.operator, other_declared)
    services.erase_citizen(factories.administrator(), claimed.victim)
    claimed.victim.refresh_from_db()
    with pytest.raises(GuardFailed):
        services.link_citizen(claimed.ticket, claimed.operator, claimed.victim)


def test_erasing_the_linked_citizen_erases_the_declared_identity_too(claimed, factories):
    services.link_citizen(claimed.ticket, claimed.operator, claimed.victim)
    declared = Ticket.objects.get().declared_contact
    services.erase_citizen(factories.administrator(), claimed.victim)
    declared.refresh_from_db()
    assert declared.erased_at is not None
    assert (declared.email, declared.declared_fiscal_code, declared.family_name) == ("", "", "")


def test_the_operator_registering_a_caller_completes_blanks_and_it_is_recorded(factories):
    from wagtail.models import ModelLogEntry

    operator = factories.operator(factories.office())
    person = Citizen.objects.create(given_name="Ugo", family_name="Neri",
                                    fiscal_code=VICTIM_CODE)
    same = services.register_citizen(operator, given_name="Ugo", family_name="Neri",
                                     fiscal_code=VICTIM_CODE.lower(), email="ugo@example.it")
    assert same == person
    person.refresh_from_db()
    assert person.email == "ugo@example.it"
    entry = ModelLogEntry.objects.get(action="wagtail_helpdesk.complete_citizen")
    assert entry.user == operator and entry.data == {"fields": ["email"]}


def test_operators_find_declared_tickets_by_the_fiscal_code(client, claimed):
    client.force_login(claimed.operator)
    html = client.get(reverse("helpdesk_tickets:index"), {"q": VICTIM_CODE}).content.decode()
    assert claimed.ticket.short_code in html


# --- every intake path, random identities --------------------------------------------


FIELDS = ("given_name", "family_name", "fiscal_code", "email", "phone", "user_id",
          "language", "notify_email", "notify_app_io")


def _code(n):
    from codicefiscale import codicefiscale

    return codicefiscale.encode(lastname=f"Persona{n}", firstname="Vera", gender="F",
                                birthdate=f"{1 + n % 28:02d}/03/19{50 + n}", birthplace="Roma")


def _existing(rng, factories, n):
    user = None
    if rng.random() < 0.5:
        user = get_user_model().objects.create_user(username=f"spid-prop-{n}", password=None)
    return Citizen.objects.create(
        given_name="Vera", family_name=f"Persona{n}", fiscal_code=_code(n),
        email=rng.choice(["", f"vera{n}@example.it"]), phone=rng.choice(["", "+39 06 1234567"]),
        user=user)


def _declared(rng, code, n):
    return {"given_name": rng.choice(["Finto", "Vera", ""]) or "Anonimo",
            "family_name": rng.choice(["Impostore", f"Persona{n}"]), "fiscal_code": code,
            "email": rng.choice(["", f"altro{n}@example.net"]),
            "phone": rng.choice(["", "+39 333 9999999"])}


def _through_web(pages, person, n):
    services.submit_web_ticket(person=person, kind=Kind.REQUEST, service=pages.service,
                               description=f"Richiesta {n}", idempotency_key=f"prop-{n}")


def _through_api(caller, operator, pages, person, n):
    response = caller(operator).post("/tickets/", {
        "kind": "request", "service": pages.service.pk, "description": f"Via API {n}",
        "citizen": {k: v for k, v in person.items() if v}})
    assert response.status_code == 201, response.content


def _through_open311(key, category, person, n):
    data = {"api_key": key, "service_code": str(category.pk), "description": f"Buca {n}",
            "first_name": person["given_name"], "last_name": person["family_name"],
            "email": person["email"], "phone": person["phone"], **INSIDE}
    response = Client().post(url("requests", "json"), {k: v for k, v in data.items() if v})
    assert response.status_code == 200, response.content


def test_no_intake_path_changes_or_addresses_an_existing_record(pages, factories, caller):
    rng = random.Random(14)
    operator = factories.operator(pages.office)
    category = pages.category
    _client, key = new_client()
    for n in range(24):
        existing = _existing(rng, factories, n)
        before = {f: getattr(existing, f) for f in FIELDS}
        person = _declared(rng, existing.fiscal_code, n)
        path = n % 3
        if path == 0:
            _through_web(pages, person, n)
        elif path == 1:
            _through_api(caller, operator, pages, person, n)
        else:
            _through_open311(key, category, person, n)
        existing.refresh_from_db()
        assert {f: getattr(existing, f) for f in FIELDS} == before, (n, path, person)
        assert not existing.tickets.exists(), (n, path)
        assert not Notification.objects.filter(recipient_citizen=existing).exists()
        if existing.email:
            assert not Notification.objects.filter(address=existing.email).exists()
    assert Citizen.objects.filter(declared=True).count() == 24
    assert not Citizen.objects.filter(declared=True, fiscal_code__isnull=False).exists()


# --- after the review ----------------------------------------------------------------


def test_after_linking_the_senders_receipt_still_shows_what_they_typed(pages, factories):
    user = get_user_model().objects.create_user(username="spid-rec", password=None)
    victim = Citizen.objects.create(given_name="Giovanna", family_name="Registrata",
                                    fiscal_code=VICTIM_CODE, email="vera@example.it", user=user)
    sender = Client()
    send_request(sender, pages, family_name="Digitata", email=VISITOR_EMAIL)
    ticket = Ticket.objects.get()
    services.link_citizen(ticket, factories.operator(pages.office), victim)
    receipt = pdf_text(sender.get(f"/helpdesk/receipt/{ticket.pk}/").content)
    assert "Digitata" in receipt and VISITOR_EMAIL in receipt
    assert "Registrata" not in receipt and "vera@example.it" not in receipt


def test_a_mail_queued_to_the_declared_address_carries_no_link_once_linked(
        claimed, smtp, settings):
    queued = Notification.objects.get(ticket=claimed.ticket, template="citizen/ticket_received")
    services.link_citizen(claimed.ticket, claimed.operator, claimed.victim)
    tasks.deliver([queued.pk])
    text = mail_text(smtp.messages[0])
    assert "/helpdesk/pratica/" not in text and "/helpdesk/area-personale/" not in text


def test_the_service_links_only_the_citizen_the_declared_code_names(claimed):
    other = Citizen.objects.create(given_name="Altro", fiscal_code="NRELCU80A01H501S")
    with pytest.raises(GuardFailed):
        services.link_citizen(claimed.ticket, claimed.operator, other)
    assert Ticket.objects.get().citizen.declared


def test_a_crafted_version_is_refused_not_a_server_error(client, claimed):
    client.force_login(claimed.operator)
    response = client.post(reverse("helpdesk_tickets:link_citizen", args=[claimed.ticket.pk]),
                           {"citizen": claimed.victim.pk, "version": "abc", "checked": "1"})
    assert response.status_code == 302
    assert Ticket.objects.get().citizen.declared


def test_erasure_redacts_what_the_declared_identity_typed(claimed, factories):
    ticket = services.link_citizen(claimed.ticket, claimed.operator, claimed.victim)
    services.reply(ticket, claimed.operator, f"Scritto a {VISITOR_EMAIL} per conferma.")
    services.erase_citizen(factories.administrator(), claimed.victim)
    reply = ticket.events.get(kind=EventKind.REPLY)
    assert VISITOR_EMAIL not in reply.body


def test_a_replayed_web_submission_makes_no_second_declared_record(pages):
    person = {"given_name": "Ada", "family_name": "Rossi", "fiscal_code": VICTIM_CODE,
              "email": VISITOR_EMAIL}
    first = services.submit_web_ticket(person=person, kind=Kind.REQUEST, service=pages.service,
                                       description="Una", idempotency_key="replay-1")
    again = services.submit_web_ticket(person=person, kind=Kind.REQUEST, service=pages.service,
                                       description="Una", idempotency_key="replay-1")
    assert first == again and Citizen.objects.filter(declared=True).count() == 1


def test_records_only_declarations_made_become_declared(pages, factories):
    """Migration 0016: a pre-0015 record made by a website declaration is no
    longer taken over by a SPID/CIE login; an operator's record is untouched."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("wagtail_helpdesk.migrations.0016_legacy_declared_records")
    typed = Citizen.objects.create(given_name="Vecchia", fiscal_code=VICTIM_CODE,
                                   email="attaccante@example.net")
    services.submit_web_ticket(person={"given_name": "Vecchia", "family_name": "Scheda",
                                       "fiscal_code": "BNCGNN80A41H501X",
                                       "email": "attaccante@example.net"},
                               kind=Kind.REQUEST, service=pages.service, description="x",
                               idempotency_key="legacy")
    Ticket.objects.update(citizen=typed)  # as the old rule linked it
    operator = factories.operator(pages.office)
    registered = Citizen.objects.create(given_name="Ugo", fiscal_code="NRELCU80A01H501S")
    services.create_ticket(operator, kind=Kind.REQUEST, channel=Channel.PHONE,
                           service=pages.service, citizen=registered, description="Al telefono")
    Citizen.objects.filter(declared=True).delete()  # the placeholder the call above made
    migration.mark_declared(apps, None)
    typed.refresh_from_db()
    registered.refresh_from_db()
    assert typed.declared and typed.fiscal_code is None
    assert typed.declared_fiscal_code == VICTIM_CODE
    assert not registered.declared and registered.fiscal_code == "NRELCU80A01H501S"


def test_open311_redacts_the_declared_identity_of_a_linked_report(client, pages, factories,
                                                                   settings):
    import json

    settings.WAGTAIL_HELPDESK_OPEN311_PUBLIC_DETAILS = "all"
    registered = Citizen.objects.create(given_name="Giovanna", family_name="Esposito",
                                        fiscal_code=VICTIM_CODE)
    declared = services.declared_citizen(given_name="Gio", family_name="Dichiarata",
                                         fiscal_code=VICTIM_CODE, email=VISITOR_EMAIL)
    report = factories.report_ticket(CitizenActor(declared), category=pages.category,
                                     citizen=declared)
    operator = factories.operator(pages.office)
    report = services.link_citizen(report, operator, registered)
    report = services.take_charge(report, operator)
    services.resolve(report, operator, factories.resolution_type(),
                     f"Risolto, avvisata la sig.ra Dichiarata ({VISITOR_EMAIL}).")
    listed = json.dumps(client.get(url("requests", "json"), {"status": "closed"}).json())
    assert report.short_code in listed and "Risolto" in listed
    assert VISITOR_EMAIL not in listed and "Dichiarata" not in listed
