"""Model invariants: append-only timeline, constraints, indexes, citizens."""

import pytest
from django.db import IntegrityError, connection, transaction

from wagtail_helpdesk.models import (
    AppendOnlyError,
    Citizen,
    ResolutionType,
    ServiceCategory,
    Ticket,
    TicketEvent,
)
from wagtail_helpdesk.models.tickets import attachment_upload_to


def test_events_are_append_only(factories):
    event = factories.request_ticket().events.first()
    event.body = "riscritto"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert TicketEvent.objects.get(pk=event.pk).body == ""


def test_ticket_kind_must_match_its_catalogue(factories):
    ticket = factories.request_ticket()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(report_category=factories.report_category())


def test_resolved_ticket_needs_a_resolution_in_the_database(factories):
    ticket = factories.request_ticket()
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(status="resolved")


def test_citizen_fiscal_code_is_normalised_and_unique(factories):
    person = factories.citizen(fiscal_code="tinit-rssmra85t10a562s")
    assert Citizen.objects.get(pk=person.pk).fiscal_code == "RSSMRA85T10A562S"
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.citizen(fiscal_code="RSSMRA85T10A562S")
    # Citizens without a fiscal code (e.g. phone callers) do not collide.
    assert factories.citizen(fiscal_code="").fiscal_code is None
    assert factories.citizen(fiscal_code=None).fiscal_code is None
    assert str(factories.citizen(given_name="", family_name="", fiscal_code=None)) == "Anonymous citizen"


@pytest.mark.django_db
def test_catalogue_is_preloaded():
    names = list(ServiceCategory.objects.values_list("name", flat=True))
    assert len(names) == 16
    assert names[0] == "Agricoltura e pesca" and names[-1] == "Vita lavorativa"
    assert "Relazioni con il pubblico" in names
    solved = dict(ResolutionType.objects.values_list("name", "counts_as_solved"))
    assert solved == {
        "Risolta": True, "Non di competenza": False, "Duplicata": False, "Respinta": False,
        "Annullata su richiesta del cittadino": False,
    }


@pytest.mark.django_db
def test_indexes_behind_every_list_filter():
    """Each filter the ticket list offers has an index whose first column is that field."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Ticket._meta.db_table)
        citizen = connection.introspection.get_constraints(cursor, Citizen._meta.db_table)
    # (Expression indexes — the search's UPPER() and trigram ones — name no column.)
    leading = {c["columns"][0] for c in constraints.values()
               if (c["index"] or c["unique"]) and c["columns"]}
    for column in ("status", "office_id", "assignee_id", "kind", "channel", "priority",
                   "created_at", "updated_at", "last_activity_at", "short_code", "service_id",
                   "report_category_id", "citizen_id", "created_by_id"):
        assert column in leading, column
    assert any(c["columns"] == ["fiscal_code"] and c["unique"] for c in citizen.values())


def test_stored_file_name_does_not_carry_the_citizens_file_name():
    name = attachment_upload_to(None, "Mario Rossi - carta identità.JPG")
    assert "Rossi" not in name and name.endswith(".jpg") and name.startswith("helpdesk/")


def test_reference_and_str(factories):
    ticket = factories.report_ticket(subject="Lampione spento")
    assert ticket.reference == ticket.short_code
    assert str(ticket) == f"{ticket.short_code} Lampione spento"
    assert ticket.is_open
