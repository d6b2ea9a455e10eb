"""Boundaries of the services layer found in review: drafts, citizens, outbox,
validation, and concurrent changes."""


import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from wagtail.permissions import policy_registry

from tests.support.concurrency import race
from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    Channel,
    Citizen,
    EventKind,
    Kind,
    Notification,
    Priority,
    Ticket,
    Visibility,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor


@pytest.fixture
def office(factories):
    return factories.office(email="urp@comune.example.it")


def test_citizen_cannot_touch_an_operators_draft_about_them(factories, office):
    op = factories.operator(office)
    person = factories.citizen()
    draft = services.create_ticket(op, kind=Kind.REQUEST, channel=Channel.PHONE, draft=True,
                                   citizen=person, service=factories.service(office),
                                   description="Telefonata", note="nota interna")
    me = CitizenActor(person)
    for call in (lambda: services.update_draft(draft, me, description="cambiata"),
                 lambda: services.submit_ticket(draft, me),
                 lambda: services.delete_draft(draft, me)):
        with pytest.raises(PermissionDenied):
            call()
    draft.refresh_from_db()
    assert draft.description == "Telefonata" and draft.status == "draft"


def test_operators_do_not_see_or_touch_a_citizens_unsent_draft(factories, office):
    op = factories.operator(office)
    admin = factories.administrator()
    person = factories.citizen()
    draft = services.create_ticket(CitizenActor(person), kind=Kind.REQUEST, channel=Channel.WEB,
                                   draft=True, citizen=person, service=factories.service(office),
                                   description="Ancora da rileggere")
    policy = policy_registry.get_by_type(Ticket)
    for user in (op, admin):
        assert draft not in policy.instances_user_has_any_permission_for(user, ["view"])
        assert not policy.user_has_permission_for_instance(user, "view", draft)
        with pytest.raises(PermissionDenied):
            services.delete_draft(draft, user)
    assert not policy.users_with_any_permission_for_instance(["change"], draft).exists()
    # Once submitted, it is the office's.
    ticket = services.submit_ticket(draft, CitizenActor(person))
    assert policy.user_has_permission_for_instance(op, "change", ticket)


def test_citizens_do_not_choose_office_priority_or_channel(factories, office):
    person = factories.citizen()
    other = factories.office()
    ticket = services.create_ticket(
        CitizenActor(person), kind=Kind.REQUEST, channel=Channel.PHONE, citizen=person,
        service=factories.service(office), description="x", office=other,
        priority=Priority.URGENT,
    )
    assert (ticket.office, ticket.priority, ticket.channel) == (office, Priority.NORMAL, "web")
    assert ticket.opened_by_citizen
    draft = services.create_ticket(CitizenActor(person), kind=Kind.REQUEST, channel=Channel.WEB,
                                   draft=True, citizen=person)
    for field, value in (("priority", Priority.URGENT), ("office", other), ("channel", "phone")):
        with pytest.raises(GuardFailed):
            services.update_draft(draft, CitizenActor(person), **{field: value})


def test_an_unsaved_citizen_owns_nothing(factories):
    anonymous_report = factories.report_ticket()
    assert anonymous_report.citizen_id is None
    nobody = CitizenActor(Citizen())
    with pytest.raises(PermissionDenied):
        services.add_citizen_message(anonymous_report, nobody, "non è mio")
    with pytest.raises(PermissionDenied):
        services.create_ticket(nobody, kind=Kind.REPORT, channel=Channel.WEB, subject="x",
                               report_category=factories.report_category(), description="x",
                               address="Via Po 1")


def test_citizens_cannot_do_operator_work_on_their_own_ticket(factories):
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person)
    me = CitizenActor(person)
    calls = [
        lambda: services.take_charge(ticket, me),
        lambda: services.reply(ticket, me, "x"),
        lambda: services.add_note(ticket, me, "x"),
        lambda: services.set_priority(ticket, me, Priority.URGENT),
        lambda: services.mark_waiting(ticket, me),
        lambda: services.resolve(ticket, me, factories.resolution_type(), "x"),
        lambda: services.transfer(ticket, me, factories.office()),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


def test_operator_cannot_move_a_draft_to_another_office(factories, office):
    op = factories.operator(office)
    elsewhere = factories.service(factories.office())
    draft = services.create_ticket(op, kind=Kind.REQUEST, channel=Channel.DESK, draft=True,
                                   service=factories.service(office))
    with pytest.raises(PermissionDenied):
        services.update_draft(draft, op, service=elsewhere)
    with pytest.raises(GuardFailed):
        services.update_draft(draft, op, report_category=factories.report_category(office))
    draft.refresh_from_db()
    assert draft.office == office and draft.report_category is None


def test_office_less_draft_belongs_to_its_author_only(factories, office):
    author, colleague = factories.operator(office), factories.operator(office)
    draft = services.create_ticket(author, kind=Kind.REPORT, channel=Channel.DESK, draft=True)
    policy = policy_registry.get_by_type(Ticket)
    assert draft in policy.instances_user_has_any_permission_for(author, ["view"])
    assert draft not in policy.instances_user_has_any_permission_for(colleague, ["view"])
    users = set(policy.users_with_any_permission_for_instance(["change"], draft))
    office_less = factories.operator()  # an operator of no office must not match either
    assert author in users and colleague not in users and office_less not in users


def test_submitting_a_draft_whose_service_was_retired_is_refused(factories, office):
    op = factories.operator(office)
    service = factories.service(office)
    draft = services.create_ticket(op, kind=Kind.REQUEST, channel=Channel.DESK, draft=True,
                                   service=service, citizen=factories.citizen(), description="x")
    service.active = False
    service.save()
    with pytest.raises(GuardFailed) as exc:
        services.submit_ticket(draft, op)
    assert "service" in exc.value.field_errors


@pytest.mark.parametrize("kwargs", [{"priority": 99}, {"office": "inactive"}])
def test_creation_validates_priority_and_office(factories, office, kwargs):
    if kwargs.get("office") == "inactive":
        kwargs["office"] = factories.office(active=False)
    with pytest.raises(GuardFailed):
        factories.request_ticket(factories.administrator(), channel=Channel.PHONE, **kwargs)
    assert not Ticket.objects.exists()


def test_attachment_visibility_and_waiting_without_message(factories, office, jpeg_upload):
    op = factories.operator(office)
    ticket = factories.request_ticket(service_=factories.service(office))
    with pytest.raises(GuardFailed):
        services.add_attachment(ticket, op, jpeg_upload(), visibility="everyone")
    ticket = services.take_charge(ticket, op)
    assert services.mark_waiting(ticket, op, message=None).status == "waiting"


def test_message_on_an_unassigned_ticket_alerts_the_office(factories, office):
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    services.add_citizen_message(ticket, CitizenActor(person), "Aggiungo una cosa")
    assert Notification.objects.filter(ticket=ticket, template="office/citizen_message",
                                       address="urp@comune.example.it").exists()


def test_no_notifications_to_erased_citizens_or_inactive_operators(factories, office):
    from django.utils import timezone

    person = factories.citizen(erased_at=timezone.now())
    ticket = factories.request_ticket(citizen_=person, service_=factories.service(office))
    assert not Notification.objects.filter(ticket=ticket, recipient_citizen=person).exists()
    op, colleague, gone = (factories.operator(office) for _ in range(3))
    gone.is_active = False
    gone.save()
    ticket = services.take_charge(ticket, op)
    with pytest.raises(GuardFailed):  # an inactive user cannot be assigned at all
        services.assign(ticket, op, gone)
    services.assign(ticket, SYSTEM, colleague)
    assert Notification.objects.filter(ticket=ticket, recipient_user=colleague).exists()
    assert not Notification.objects.filter(recipient_user=gone).exists()


def test_long_addresses_fit_and_stay_out_of_the_dedup_key(factories, office):
    long_email = "a" * 180 + "@comune.example.it"  # 198 characters, a valid address
    person = factories.citizen(email=long_email)
    ticket = factories.request_ticket(citizen_=person, service_=factories.service(office))
    notification = Notification.objects.get(ticket=ticket, recipient_citizen=person)
    assert notification.address == long_email
    assert len(notification.dedup_key) == 64 and "comune" not in notification.dedup_key


def test_citizen_validation_normalises_before_checking(factories):
    factories.citizen(fiscal_code="RSSMRA85T10A562S")
    twin = Citizen(given_name="Mario", family_name="Rossi", fiscal_code="tinit-rssmra85t10a562s")
    with pytest.raises(ValidationError) as exc:
        twin.full_clean()
    assert list(exc.value.message_dict) == ["fiscal_code"]  # unique, not "too long"
    fresh = Citizen(given_name="Laura", family_name="Bianchi", fiscal_code="TINIT-bnclra90a41h501f")
    fresh.full_clean()
    assert fresh.fiscal_code == "BNCLRA90A41H501F"


def test_image_with_too_many_pixels_is_refused_before_decoding(settings, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from tests.support.images import png_bytes
    from wagtail_helpdesk.attachments import check_upload

    settings.WAGTAIL_HELPDESK_IMAGE_MAX_PIXELS = 10_000
    big, small = png_bytes(size=(200, 200)), png_bytes(size=(50, 50))
    loaded = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loaded.append(1) or original_load(self))
    with pytest.raises(ValidationError) as exc:
        check_upload(SimpleUploadedFile("bomba.png", big))
    assert exc.value.code == "too_many_pixels" and loaded == []
    assert check_upload(SimpleUploadedFile("ok.png", small)).size > 0 and loaded


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_changes_are_serialised_by_the_row_lock(factories):
    """Ten operators writing notes at once: ten versions, ten events, none lost."""
    office = factories.office()
    ops = [factories.operator(office) for _ in range(10)]
    ticket = factories.request_ticket(service_=factories.service(office))
    race([lambda op=op: services.add_note(Ticket.objects.get(pk=ticket.pk), op,
                                          f"nota di {op.username}") for op in ops])
    ticket.refresh_from_db()
    assert ticket.version == 11
    assert ticket.events.filter(kind=EventKind.NOTE, visibility=Visibility.INTERNAL).count() == 10
