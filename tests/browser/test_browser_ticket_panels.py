"""The ticket page's seldom-used panels in a real Chromium: the citizen's other
tickets and the consults arrive after the page, and work once there."""

import pytest

from tests.support.browser import log_in
from wagtail_helpdesk.models import TicketConsult
from wagtail_helpdesk.services import CitizenActor

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]


def test_the_deferred_panels_fill_in_and_a_consult_is_shared(page, live_server, factories):
    office = factories.office(name="Ufficio Relazioni con il Pubblico")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    carla = factories.operator(factories.office(name="Tributi"), username="carla",
                               first_name="Carla", last_name="Bianchi")
    person = factories.citizen(given_name="Paolo", family_name="Conti")
    service = factories.service(office)
    ticket, earlier = (factories.request_ticket(CitizenActor(person), citizen_=person,
                                                service_=service) for _ in range(2))

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{ticket.pk}/")
    others = page.locator("#ticket-other-tickets .helpdesk-citizen-tickets a")
    others.first.wait_for()
    assert others.all_inner_texts() == [earlier.short_code]
    choice = page.locator("#ticket-consults-body #id_consult_consultant")
    choice.wait_for()
    choice.select_option(str(carla.pk))
    page.locator("#action-consult button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/helpdesk/tickets/{ticket.pk}/")
    page.locator("#ticket-consults-body .helpdesk-consults li").first.wait_for()
    assert "Carla Bianchi" in page.inner_text("#ticket-consults-body")
    assert TicketConsult.objects.filter(ticket=ticket, consultant=carla).exists()
