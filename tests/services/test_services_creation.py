"""Creating, editing, submitting and deleting tickets through the services layer."""

import pytest
from django.core.exceptions import PermissionDenied

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed, TransitionNotAllowed
from wagtail_helpdesk.models import (
    Channel,
    EventKind,
    Kind,
    Notification,
    Ticket,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor


def kinds(ticket):
    return list(ticket.events.order_by("pk").values_list("kind", flat=True))


def test_web_request_from_a_citizen(factories):
    office = factories.office(email="urp@comune.example.it")
    service = factories.service(office, sla_days=5)
    person = factories.citizen()
    ticket = services.create_ticket(
        CitizenActor(person), kind=Kind.REQUEST, channel=Channel.WEB, citizen=person,
        service=service, description="  Come rinnovo la carta d'identità?  ",
    )
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert ticket.office == office  # derived from the service
    assert ticket.subject == service.name  # requests default their subject to the service
    assert ticket.description == "Come rinnovo la carta d'identità?"
    assert ticket.submitted_at is not None and ticket.due_at > ticket.submitted_at
    assert ticket.last_citizen_activity_at == ticket.submitted_at
    assert ticket.created_by is None
    assert kinds(ticket) == [EventKind.CREATED, EventKind.SUBMITTED]
    submitted = ticket.events.get(kind=EventKind.SUBMITTED)
    assert submitted.visibility == Visibility.PUBLIC and submitted.by_citizen
    receipts = Notification.objects.filter(ticket=ticket).order_by("template")
    assert [(n.template, n.address) for n in receipts] == [
        ("citizen/ticket_received", person.email),
        ("office/new_ticket", "urp@comune.example.it"),
    ]
    # No personal data in the payload, only the reference.
    assert receipts[0].payload == {"reference": ticket.short_code, "event_id": submitted.pk,
                                   "kind": "request"}


def test_operator_creates_a_phone_ticket_with_a_private_note(factories):
    office = factories.office()
    op = factories.operator(office)
    ticket = services.create_ticket(
        op, kind=Kind.REQUEST, channel=Channel.PHONE, citizen=factories.citizen(),
        service=factories.service(office), description="Telefonata", note="Chiamava dal lavoro",
    )
    assert ticket.created_by == op
    note = ticket.events.get(kind=EventKind.NOTE)
    assert note.visibility == Visibility.INTERNAL and note.body == "Chiamava dal lavoro"
    assert note.actor == op


def test_only_operators_write_notes_at_creation(factories):
    person = factories.citizen()
    with pytest.raises(GuardFailed):
        services.create_ticket(
            CitizenActor(person), kind=Kind.REQUEST, channel=Channel.WEB, citizen=person,
            service=factories.service(), description="x", note="nota",
        )
    assert not Ticket.objects.exists()


def test_operator_cannot_create_for_another_office(factories):
    mine, other = factories.office(), factories.office()
    op = factories.operator(mine)
    with pytest.raises(PermissionDenied):
        services.create_ticket(op, kind=Kind.REQUEST, channel=Channel.DESK,
                               citizen=factories.citizen(), service=factories.service(other),
                               description="x")
    assert not Ticket.objects.exists()


def test_user_without_add_permission_cannot_create(factories):
    office = factories.office()
    nobody = factories.user(offices=[office], group=None)
    with pytest.raises(PermissionDenied):
        services.create_ticket(nobody, kind=Kind.REQUEST, channel=Channel.DESK,
                               citizen=factories.citizen(), service=factories.service(office),
                               description="x")


def test_citizen_cannot_open_a_ticket_in_someone_elses_name(factories):
    me, someone = factories.citizen(), factories.citizen()
    with pytest.raises(PermissionDenied):
        services.create_ticket(CitizenActor(me), kind=Kind.REQUEST, channel=Channel.WEB,
                               citizen=someone, service=factories.service(), description="x")


def test_anonymous_report_with_a_place(factories):
    category = factories.report_category(sla_days=None)
    ticket = factories.report_ticket(category=category, address="Via Roma 12")
    assert ticket.kind == "report" and ticket.citizen is None
    assert ticket.short_code.startswith("SEG-")
    assert ticket.due_at is None  # no SLA on this category
    assert ticket.has_location
    # Nobody to notify but the office (which has no mailbox here).
    assert not Notification.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": Kind.REQUEST, "report_category": "cat"}, "report_category"),
        ({"kind": Kind.REPORT, "service": "svc"}, "service"),
        ({"kind": "complaint"}, "kind"),
        ({"kind": Kind.REQUEST, "channel": "fax"}, "channel"),
    ],
)
def test_inconsistent_catalogue_is_refused(factories, kwargs, field):
    values = {"service": factories.service(), "report_category": factories.report_category()}
    for key in ("service", "report_category"):
        if kwargs.get(key) in ("svc", "cat"):
            kwargs[key] = values[key]
    kwargs.setdefault("channel", Channel.WEB)
    with pytest.raises(GuardFailed) as exc:
        services.create_ticket(SYSTEM, description="x", **kwargs)
    assert field in exc.value.field_errors
    assert not Ticket.objects.exists()


def test_inactive_service_is_refused(factories):
    with pytest.raises(GuardFailed) as exc:
        factories.request_ticket(service_=factories.service(active=False))
    assert "service" in exc.value.field_errors


def test_incomplete_submission_is_refused_and_nothing_is_written(factories):
    with pytest.raises(GuardFailed) as exc:
        services.create_ticket(SYSTEM, kind=Kind.REPORT, channel=Channel.OPEN311,
                               report_category=factories.report_category(), description="")
    assert set(exc.value.field_errors) == {"subject", "description", "location"}
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()


def test_draft_lifecycle(factories):
    office = factories.office()
    op = factories.operator(office)
    draft = services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True,
                                   description="Lampione spento")
    assert draft.status == "draft" and draft.short_code is None and draft.office is None
    assert not Notification.objects.exists()
    # Another operator of no office cannot see or touch a draft without office.
    stranger = factories.operator(factories.office())
    with pytest.raises(PermissionDenied):
        services.update_draft(draft, stranger, subject="x")
    # Submitting an incomplete draft is refused, with the missing fields.
    with pytest.raises(GuardFailed) as exc:
        services.submit_ticket(draft, op)
    assert {"report_category", "office", "subject", "location"} <= set(exc.value.field_errors)
    category = factories.report_category(office)
    draft = services.update_draft(draft, op, report_category=category, subject="Lampione",
                                  address="Piazza Castello")
    assert draft.office == office and draft.version == 2
    ticket = services.submit_ticket(draft, op)
    assert ticket.status == "new" and ticket.short_code.startswith("SEG-")
    assert kinds(ticket) == [EventKind.CREATED, EventKind.DRAFT_UPDATED, EventKind.SUBMITTED]
    with pytest.raises(TransitionNotAllowed):
        services.update_draft(ticket, op, subject="changed")
    with pytest.raises(TransitionNotAllowed):
        services.delete_draft(ticket, op)


def test_update_draft_refuses_unknown_fields(factories):
    op = factories.operator(factories.office())
    draft = services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True)
    with pytest.raises(GuardFailed):
        services.update_draft(draft, op, status="resolved")
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_delete_draft_removes_ticket_and_files(factories, jpeg_upload,
                                               django_capture_on_commit_callbacks):
    office = factories.office()
    op = factories.operator(office)
    draft = services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True,
                                   report_category=factories.report_category(office),
                                   attachments=[jpeg_upload()])
    attachment = draft.attachments.get()
    storage, name = attachment.file.storage, attachment.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_draft(draft, op)
    assert not Ticket.objects.filter(pk=draft.pk).exists()
    assert not storage.exists(name)


def test_draft_files_survive_when_the_deletion_rolls_back(factories, jpeg_upload):
    from django.db import transaction

    office = factories.office()
    op = factories.operator(office)
    draft = services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True,
                                   attachments=[jpeg_upload()])
    attachment = draft.attachments.get()
    with pytest.raises(RuntimeError), transaction.atomic():  # e.g. ATOMIC_REQUESTS
        services.delete_draft(draft, op)
        raise RuntimeError("the request failed after the deletion")
    assert Ticket.objects.filter(pk=draft.pk).exists()
    assert attachment.file.storage.exists(attachment.file.name)


def test_citizen_draft_is_theirs(factories):
    person = factories.citizen()
    draft = services.create_ticket(CitizenActor(person), kind=Kind.REQUEST, channel=Channel.WEB,
                                   citizen=person, draft=True)
    other = CitizenActor(factories.citizen())
    with pytest.raises(PermissionDenied):
        services.submit_ticket(draft, other)
    draft = services.update_draft(draft, CitizenActor(person), service=factories.service(),
                                  description="Domanda")
    assert services.submit_ticket(draft, CitizenActor(person)).status == "new"


def test_crea_ticket_completing_a_draft_is_all_or_nothing(factories, jpeg_upload,
                                                          private_media):
    """save_operator_ticket: a refused submission leaves the draft as it was —
    no new citizen, no note, no file (not even on the storage)."""
    from wagtail_helpdesk.models import Citizen

    office = factories.office()
    op = factories.operator(office)
    draft = services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True,
                                   report_category=factories.report_category(office))
    with pytest.raises(GuardFailed) as exc:  # no subject: the submission is refused
        services.save_operator_ticket(
            op, draft=draft, new_citizen={"given_name": "Mario", "family_name": "Rossi"},
            note="Richiamare", attachments=[jpeg_upload()], submit=True,
            expected_version=draft.version, channel=Channel.DESK, subject="",
            description="Lampione spento", address="Via Roma 1")
    assert "subject" in exc.value.field_errors
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.citizen is None and draft.description == ""
    assert kinds(draft) == [EventKind.CREATED] and not draft.attachments.exists()
    assert not Citizen.objects.exists()
    assert not [p for p in private_media.rglob("*") if p.is_file()]


def test_crea_ticket_new_and_submitted_in_one_call(factories):
    office = factories.office()
    op = factories.operator(office)
    ticket = services.save_operator_ticket(
        op, kind=Kind.REPORT, new_citizen={"given_name": "Mario", "family_name": "Rossi"},
        note="Segnalata al telefono", submit=True, channel=Channel.PHONE,
        report_category=factories.report_category(office), subject="Buca",
        description="Davanti al civico 3", address="Via Roma 3")
    assert ticket.status == "new" and ticket.citizen.family_name == "Rossi"
    assert kinds(ticket) == [EventKind.CREATED, EventKind.NOTE, EventKind.SUBMITTED]
