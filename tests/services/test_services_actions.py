"""The operators' and citizens' actions on a ticket, their refusals and rollback."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed, StaleTicket, TransitionNotAllowed
from wagtail_helpdesk.models import (
    Attachment,
    EventKind,
    Notification,
    Priority,
    Ticket,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor


@pytest.fixture
def desk(make_desk):
    """An office with two operators (Anna and Bruno) and a fresh request from a citizen."""
    desk = make_desk(office={"email": "urp@comune.example.it"}, colleague=True, ticket=True)
    desk.anna, desk.bruno = desk.me, desk.colleague
    return desk


def templates(ticket):
    return sorted(Notification.objects.filter(ticket=ticket).values_list("template", flat=True))


def test_take_charge_and_take_over(desk):
    t = services.take_charge(desk.ticket, desk.anna)
    assert (t.status, t.assignee, t.version) == ("in_progress", desk.anna, 2)
    assert "citizen/taken_in_charge" in templates(t)
    with pytest.raises(GuardFailed):
        services.take_charge(t, desk.anna)
    t = services.take_charge(t, desk.bruno)  # "Assegna a me" from a colleague
    assert t.assignee == desk.bruno
    assigned = t.events.get(kind=EventKind.ASSIGNED)
    assert assigned.data == {"from": desk.anna.pk, "to": desk.bruno.pk}
    # The citizen was told once, not at the take-over.
    assert templates(t).count("citizen/taken_in_charge") == 1


def test_assign_to_a_colleague_notifies_them(desk):
    t = services.assign(desk.ticket, desk.anna, desk.bruno)
    assert (t.status, t.assignee) == ("in_progress", desk.bruno)
    note = Notification.objects.get(ticket=t, template="operator/assigned")
    assert note.address == desk.bruno.email and note.recipient_user == desk.bruno


def test_assign_refuses_an_operator_of_another_office(desk):
    outsider = desk.factories.operator(desk.factories.office())
    with pytest.raises(GuardFailed) as exc:
        services.assign(desk.ticket, desk.anna, outsider)
    assert "assignee" in exc.value.field_errors
    desk.ticket.refresh_from_db()
    assert desk.ticket.assignee is None and desk.ticket.status == "new"


def test_transfer_goes_back_to_the_new_office_queue(desk):
    other = desk.factories.office(email="lavori@comune.example.it")
    t = services.take_charge(desk.ticket, desk.anna)
    t = services.transfer(t, desk.anna, other, note="Competenza dei lavori pubblici")
    assert (t.status, t.office, t.assignee) == ("new", other, None)
    event = t.events.get(kind=EventKind.TRANSFERRED)
    assert event.visibility == Visibility.INTERNAL and event.body.startswith("Competenza")
    assert Notification.objects.filter(ticket=t, template="office/transferred_in",
                                       address="lavori@comune.example.it").exists()
    # Anna no longer works on it: it belongs to another office now.
    with pytest.raises(PermissionDenied):
        services.add_note(t, desk.anna, "ancora io")


def test_transfer_to_an_inactive_office_is_refused(desk):
    closed = desk.factories.office(active=False)
    with pytest.raises(GuardFailed):
        services.transfer(desk.ticket, desk.anna, closed)
    desk.ticket.refresh_from_db()
    assert desk.ticket.office == desk.office


def test_reply_claims_pending_ticket_and_records_first_response(desk, jpeg_upload):
    t = services.reply(desk.ticket, desk.anna, "Buongiorno, ecco il modulo.",
                       attachments=[jpeg_upload("modulo.jpg")])
    assert (t.status, t.assignee) == ("in_progress", desk.anna)
    assert t.first_response_at is not None
    reply = t.events.get(kind=EventKind.REPLY)
    assert reply.visibility == Visibility.PUBLIC and reply.body == "Buongiorno, ecco il modulo."
    assert reply.attachments.get().original_name == "modulo.jpg"
    assert "citizen/reply" in templates(t)
    first = t.first_response_at
    t = services.reply(t, desk.bruno, "Altro")
    assert t.first_response_at == first and t.assignee == desk.anna


def test_empty_reply_is_refused(desk):
    with pytest.raises(GuardFailed) as exc:
        services.reply(desk.ticket, desk.anna, "   ")
    assert "body" in exc.value.field_errors
    assert not desk.ticket.events.filter(kind=EventKind.REPLY).exists()


def test_citizen_answers_a_waiting_ticket(desk):
    t = services.take_charge(desk.ticket, desk.anna)
    t = services.mark_waiting(t, desk.anna, message="Ci manda il numero di pratica?")
    assert t.status == "waiting" and "citizen/waiting" in templates(t)
    t = services.add_citizen_message(t, CitizenActor(desk.citizen), "Il numero è 1234")
    assert t.status == "in_progress" and t.unread_count == 1
    assert Notification.objects.filter(ticket=t, template="operator/citizen_message",
                                       recipient_user=desk.anna).exists()
    t = services.mark_read(t, desk.anna)
    t.refresh_from_db()
    assert t.unread_count == 0


def test_operators_cannot_write_as_the_citizen(desk):
    with pytest.raises(PermissionDenied):
        services.add_citizen_message(desk.ticket, desk.anna, "finto")
    with pytest.raises(PermissionDenied):
        services.add_citizen_message(desk.ticket, CitizenActor(desk.factories.citizen()), "altro")


def resolved(desk):
    t = services.take_charge(desk.ticket, desk.anna)
    return services.resolve(t, desk.anna, desk.factories.resolution_type(), "Pratica conclusa.")


def test_resolve(desk):
    t = resolved(desk)
    assert t.status == "resolved" and t.resolved_at is not None
    assert t.resolution_type.slug == "risolta"
    event = t.events.get(kind=EventKind.RESOLVED)
    assert event.visibility == Visibility.PUBLIC and event.body == "Pratica conclusa."
    assert "citizen/resolved" in templates(t)


@pytest.mark.parametrize("missing", ["type", "text"])
def test_resolve_without_type_or_text_changes_nothing(desk, missing):
    t = services.take_charge(desk.ticket, desk.anna)
    rtype = None if missing == "type" else desk.factories.resolution_type()
    text = "" if missing == "text" else "Fatto"
    with pytest.raises(GuardFailed) as exc:
        services.resolve(t, desk.anna, rtype, text)
    assert {"type": "resolution_type", "text": "resolution_text"}[missing] in exc.value.field_errors
    t.refresh_from_db()
    assert (t.status, t.resolution_type, t.resolution_text, t.version) == ("in_progress", None, "", 2)


def test_resolve_refuses_inactive_resolution_type(desk):
    rtype = desk.factories.resolution_type("duplicata")
    rtype.active = False
    rtype.save()
    t = services.take_charge(desk.ticket, desk.anna)
    with pytest.raises(GuardFailed):
        services.resolve(t, desk.anna, rtype, "Duplicata")


def test_reopen_clears_the_resolution(desk):
    t = services.reopen(resolved(desk), desk.bruno, reason="Il cittadino ha richiamato")
    assert (t.status, t.resolution_type, t.resolution_text, t.resolved_at) == (
        "in_progress", None, "", None)
    assert "citizen/reopened" in templates(t)
    with pytest.raises(TransitionNotAllowed):
        services.reopen(t, desk.bruno)


def test_citizen_reply_reopens_within_the_window_only(desk):
    t = resolved(desk)
    t = services.add_citizen_message(t, CitizenActor(desk.citizen), "Non ha funzionato")
    assert t.status == "in_progress" and t.resolved_at is None
    assert t.events.filter(kind=EventKind.REOPENED, by_citizen=True).exists()
    t = services.resolve(t, desk.anna, desk.factories.resolution_type(), "Ora sì")
    Ticket.objects.filter(pk=t.pk).update(resolved_at=timezone.now() - timedelta(days=31))
    with pytest.raises(GuardFailed):
        services.add_citizen_message(t, CitizenActor(desk.citizen), "Ancora io")
    t.refresh_from_db()
    assert t.status == "resolved"


def test_reopen_window_comes_from_the_site_setting(desk):
    desk.factories.settings(reopen_window_days=0)
    with pytest.raises(GuardFailed):
        services.add_citizen_message(resolved(desk), CitizenActor(desk.citizen), "Ciao")


def test_priority(desk):
    t = services.set_priority(desk.ticket, desk.anna, Priority.URGENT)
    assert t.priority == Priority.URGENT
    assert t.events.get(kind=EventKind.PRIORITY_CHANGED).data == {"from": 2, "to": 4}
    with pytest.raises(GuardFailed):
        services.set_priority(t, desk.anna, Priority.URGENT)
    with pytest.raises(GuardFailed):
        services.set_priority(t, desk.anna, 99)


def test_private_note_is_internal_and_needs_text(desk):
    t = services.add_note(desk.ticket, desk.anna, "Verificare con l'anagrafe")
    note = t.events.get(kind=EventKind.NOTE)
    assert note.visibility == Visibility.INTERNAL and note.actor == desk.anna
    with pytest.raises(GuardFailed):
        services.add_note(t, desk.anna, "")


def test_stale_version_is_refused(desk):
    seen = desk.ticket.version
    services.add_note(desk.ticket, desk.bruno, "cambio di Bruno")
    with pytest.raises(StaleTicket):
        services.reply(desk.ticket, desk.anna, "risposta", expected_version=seen)
    assert not desk.ticket.events.filter(kind=EventKind.REPLY).exists()
    fresh = Ticket.objects.get(pk=desk.ticket.pk)
    assert services.reply(fresh, desk.anna, "ok", expected_version=fresh.version)


def test_operators_of_another_office_are_refused_everywhere(desk, jpeg_upload):
    outsider = desk.factories.operator(desk.factories.office())
    t = desk.ticket
    rtype = desk.factories.resolution_type()
    calls = [
        lambda: services.take_charge(t, outsider),
        lambda: services.assign(t, outsider, desk.anna),
        lambda: services.transfer(t, outsider, desk.factories.office()),
        lambda: services.reply(t, outsider, "x"),
        lambda: services.add_note(t, outsider, "x"),
        lambda: services.set_priority(t, outsider, Priority.HIGH),
        lambda: services.mark_waiting(t, outsider),
        lambda: services.resolve(t, outsider, rtype, "x"),
        lambda: services.reopen(t, outsider),
        lambda: services.add_attachment(t, outsider, jpeg_upload()),
        lambda: services.mark_read(t, outsider),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    t.refresh_from_db()
    assert t.version == 1 and t.events.count() == 2


def test_administrator_works_on_every_office(desk):
    admin = desk.factories.administrator()
    t = services.take_charge(desk.ticket, admin)
    assert t.assignee == admin


def test_system_actor_and_missing_actor(desk):
    assert services.add_citizen_message(desk.ticket, SYSTEM, "via e-mail").unread_count == 1
    relayed = desk.ticket.events.get(kind=EventKind.CITIZEN_MESSAGE)
    assert relayed.by_citizen and relayed.actor is None  # the citizen's words, relayed
    with pytest.raises(PermissionDenied):
        services.add_note(desk.ticket, None, "chi sono?")


def test_add_attachment_strips_exif_and_stays_private(desk, jpeg_upload, settings, private_media):
    from PIL import Image

    attachment = services.add_attachment(desk.ticket, desk.anna, jpeg_upload(),
                                         visibility=Visibility.INTERNAL)
    assert attachment.visibility == Visibility.INTERNAL
    with attachment.file.open("rb") as fh:
        img = Image.open(fh)
        assert img.getexif() == {}  # no GPS, no camera make
    assert attachment.file.path.startswith(str(private_media))
    assert not attachment.file.path.startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018
    # A citizen's attachment is always visible to them.
    mine = services.add_attachment(desk.ticket, CitizenActor(desk.citizen), jpeg_upload(),
                                   visibility=Visibility.INTERNAL)
    assert mine.visibility == Visibility.PUBLIC and mine.by_citizen


def test_failure_half_way_rolls_everything_back(desk, jpeg_upload):
    """An error after the ticket, event and file were written leaves nothing behind."""
    before = (TicketEvent.objects.count(), Notification.objects.count(), Attachment.objects.count())
    storage = Attachment._meta.get_field("file").storage
    with mock.patch("wagtail_helpdesk.services.notify._queue", side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            services.reply(desk.ticket, desk.anna, "con allegato", attachments=[jpeg_upload()])
    t = Ticket.objects.get(pk=desk.ticket.pk)
    assert (t.status, t.assignee, t.version, t.first_response_at) == ("new", None, 1, None)
    after = (TicketEvent.objects.count(), Notification.objects.count(), Attachment.objects.count())
    assert after == before
    month = f"helpdesk/{timezone.now():%Y/%m}"
    assert storage.listdir(month)[1] == []  # the file was written, then removed


def test_failed_creation_leaves_no_ticket_and_no_file(factories, jpeg_upload):
    storage = Attachment._meta.get_field("file").storage
    with mock.patch("wagtail_helpdesk.services.creation.assign_short_code",
                    side_effect=RuntimeError("boom")):
        with pytest.raises(RuntimeError):
            factories.report_ticket(attachments=[jpeg_upload()])
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    month = f"helpdesk/{timezone.now():%Y/%m}"
    assert storage.listdir(month)[1] == []  # the file was written, then removed


def test_bad_attachment_refuses_the_whole_reply(desk, jpeg_upload):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("virus.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    with pytest.raises(GuardFailed) as exc:
        services.reply(desk.ticket, desk.anna, "testo", attachments=[jpeg_upload(), bad])
    assert "attachments" in exc.value.field_errors
    assert not desk.ticket.events.filter(kind=EventKind.REPLY).exists()
    assert not Attachment.objects.exists()


def test_system_can_assign_but_not_take_charge(desk):
    """Background jobs (automatic assignment) act as SYSTEM."""
    with pytest.raises(PermissionDenied):
        services.take_charge(desk.ticket, SYSTEM)
    t = services.assign(desk.ticket, SYSTEM, desk.anna)
    assert t.assignee == desk.anna
    assert Notification.objects.filter(ticket=t, template="operator/assigned").exists()
    assert t.events.get(kind=EventKind.ASSIGNED).actor is None


def test_system_reply_does_not_claim_the_ticket(factories):
    ticket = factories.request_ticket()
    t = services.reply(ticket, SYSTEM, "Abbiamo ricevuto la sua richiesta.")
    assert t.assignee is None and t.status == "in_progress"


def test_too_many_attachments_at_once(desk, jpeg_upload, settings):
    settings.WAGTAIL_HELPDESK_ATTACHMENT_MAX_COUNT = 2
    with pytest.raises(GuardFailed) as exc:
        services.reply(desk.ticket, desk.anna, "tre file",
                       attachments=[jpeg_upload(), jpeg_upload(), jpeg_upload()])
    assert "2" in exc.value.field_errors["attachments"]
    assert not Attachment.objects.exists()


def test_mark_read_checks_the_ticket_as_it_is_now(desk):
    stale = Ticket.objects.get(pk=desk.ticket.pk)
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), "ci sono novità?")
    services.transfer(desk.ticket, desk.anna, desk.factories.office())
    with pytest.raises(PermissionDenied):
        services.mark_read(stale, desk.anna)  # her copy still says it is her office's
    assert Ticket.objects.get(pk=desk.ticket.pk).unread_count == 1
