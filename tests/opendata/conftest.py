"""Reports for the open-data tests: made through the services layer, then
dated in the past (the dataset publishes reports received ``delay_days``
ago)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.models import OpenDataSettings, Ticket
from wagtail_helpdesk.workflow import Status


@dataclass
class Territory:
    factories: Any
    office: Any
    operator: Any
    category: Any
    options: Any

    def report(self, *, status=Status.NEW, days_ago=3, category=None, latitude="45.464200",
               longitude="9.190000", resolution="risolta", resolution_text="Riparata.",
               **kwargs):
        """A submitted report of ``category`` in ``status``, received
        ``days_ago`` days ago (resolved an hour later when resolved)."""
        ticket = self.factories.report_ticket(
            category=category or self.category, latitude=latitude, longitude=longitude,
            **kwargs)
        if status in (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED):
            ticket = services.take_charge(ticket, self.operator)
        if status == Status.WAITING:
            ticket = services.mark_waiting(ticket, self.operator)
        if status == Status.RESOLVED:
            ticket = services.resolve(ticket, self.operator,
                                      self.factories.resolution_type(resolution),
                                      resolution_text)
        when = timezone.now() - timedelta(days=days_ago)
        moved = {"created_at": when, "submitted_at": when}
        if status == Status.RESOLVED:
            moved["resolved_at"] = when + timedelta(hours=1)
        Ticket.objects.filter(pk=ticket.pk).update(**moved)
        ticket.refresh_from_db()
        assert ticket.status == status
        return ticket

    def configure(self, **values):
        for name, value in values.items():
            setattr(self.options, name, value)
        self.options.save()
        return self.options


@pytest.fixture
def territory(factories):
    """Open data switched on for the default site, an office with an
    operator and one published report category."""
    office = factories.office(name="Lavori pubblici")
    site = factories.default_site()
    options = OpenDataSettings.for_site(site)
    options.enabled = True
    options.publisher_name = "Comune di Prova"
    options.publisher_ipa = "c_x998"
    options.contact_email = "opendata@comune.example.it"
    options.save()
    return Territory(factories=factories, office=office, operator=factories.operator(office),
                     category=factories.report_category(office, name="Buche stradali",
                                                               open_data=True),
                     options=options)
