"""The embeddings' background jobs: queued on commit, idempotent, switched
off by the administrator, swept, and gone with an erased citizen."""

import pytest
from django.db import transaction

from wagtail_helpdesk import services
from wagtail_helpdesk.ai import tasks
from wagtail_helpdesk.ai.embedder import get_embedder
from wagtail_helpdesk.models import AssistSettings, Ticket, TicketEmbedding
from wagtail_helpdesk.services.actors import CitizenActor

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(factories):
    return factories.office(name="Strade")


def new_report(factories, office, **kwargs):
    kwargs.setdefault("subject", "Buca in via Roma")
    kwargs.setdefault("description", "Buca profonda davanti al civico 12.")
    return factories.report_ticket(category=factories.report_category(office), **kwargs)


def embedding_callbacks(callbacks):
    return [c for c in callbacks if getattr(c, "helpdesk_embedding", None)]


def test_a_new_ticket_is_embedded_once_committed(factories, office, fake_embedder,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket = new_report(factories, office)
    # Created and submitted in one transaction: one task.
    assert len(embedding_callbacks(callbacks)) == 1
    stored = TicketEmbedding.objects.get(ticket=ticket)
    assert stored.model == "fake-trigrams" and len(bytes(stored.vector)) == 2 * fake_embedder.dim
    assert fake_embedder.embedded == [tasks.stored_text(ticket, [])]
    assert "Buca in via Roma" in fake_embedder.embedded[0]


def test_nothing_is_queued_for_a_draft_or_a_rolled_back_change(
        factories, office, fake_embedder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        draft = new_report(factories, office, draft=True)
        try:
            with transaction.atomic():
                new_report(factories, office)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert embedding_callbacks(callbacks) == []
    assert not TicketEmbedding.objects.exists() and fake_embedder.embedded == []
    assert draft.status == "draft"


def test_an_unchanged_text_is_not_computed_again(factories, office, fake_embedder):
    ticket = new_report(factories, office)
    assert tasks.embed_ticket(ticket.pk) is True
    first = TicketEmbedding.objects.get(ticket=ticket)
    assert tasks.embed_ticket(ticket.pk) is False  # the digest says nothing changed
    assert len(fake_embedder.embedded) == 1
    services.take_charge(ticket, factories.operator(office))  # not the text either
    assert tasks.embed_ticket(ticket.pk) is False
    assert TicketEmbedding.objects.get(ticket=ticket).updated_at == first.updated_at


def test_the_citizen_writing_recomputes_it(factories, office, fake_embedder,
                                           django_capture_on_commit_callbacks):
    person = factories.citizen()
    me = CitizenActor(person)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_report(factories, office, actor=me, citizen=person)
    before = TicketEmbedding.objects.get(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.add_citizen_message(ticket, me, "Ora la buca è ancora più grande.")
    assert len(embedding_callbacks(callbacks)) == 1
    after = TicketEmbedding.objects.get(ticket=ticket)
    assert after.digest != before.digest and bytes(after.vector) != bytes(before.vector)
    assert "ancora più grande" in fake_embedder.embedded[-1]


def test_nothing_is_computed_when_the_administrator_switched_it_off(
        factories, office, fake_embedder, django_capture_on_commit_callbacks):
    AssistSettings.objects.create(site=factories.default_site(), similar_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_report(factories, office)
    assert tasks.embed_ticket(ticket.pk) is False
    assert tasks.embed_missing() == 0
    assert not TicketEmbedding.objects.exists() and fake_embedder.embedded == []


def test_nothing_is_queued_without_a_model(factories, office, no_embedder,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket = new_report(factories, office)
    assert embedding_callbacks(callbacks) == []
    assert tasks.embed_ticket(ticket.pk) is False and tasks.embed_missing() == 0


def test_the_sweep_embeds_what_is_missing_or_from_another_model(factories, office,
                                                                fake_embedder):
    tickets = [new_report(factories, office, subject=f"Buca {i}") for i in range(3)]
    assert tasks.embed_missing(batch=2) == 2  # the most recent first
    assert set(TicketEmbedding.objects.values_list("ticket_id", flat=True)) == {
        tickets[2].pk, tickets[1].pk}
    assert tasks.embed_missing(batch=2) == 1
    assert tasks.embed_missing() == 0
    TicketEmbedding.objects.filter(ticket=tickets[0]).update(model="old-model")
    assert tasks.embed_missing() == 1
    assert TicketEmbedding.objects.get(ticket=tickets[0]).model == "fake-trigrams"


def test_the_sweep_is_scheduled():
    from django_q.models import Schedule

    from wagtail_helpdesk.notifications.schedules import PREFIX, ensure_schedules, wanted

    job = wanted()[f"{PREFIX}ai embeddings"]
    assert job["func"] == tasks.SWEEP and job["minutes"] == 5
    ensure_schedules()
    assert Schedule.objects.get(name=f"{PREFIX}ai embeddings").func == tasks.SWEEP


def test_erasure_removes_the_embeddings_and_they_come_back_anonymised(
        factories, fake_embedder, django_capture_on_commit_callbacks):
    office = factories.office(name="Lavori pubblici")
    operator = factories.operator(office)
    person = factories.citizen(given_name="Gianfranco", family_name="Esposito",
                               email="gianfranco.esposito@example.org")
    me = CitizenActor(person)
    words = {"subject": "Buca davanti a casa di Gianfranco Esposito",
             "description": "Sono Gianfranco Esposito: buca profonda davanti al civico 12."}
    category = factories.report_category(office)
    with django_capture_on_commit_callbacks(execute=True):
        open_report = services.take_charge(
            factories.report_ticket(me, category=category, citizen=person, **words), operator)
        request = factories.request_ticket(me, service_=factories.service(office),
                                           citizen_=person, **words)
        services.add_citizen_message(request, me, "Scrivete a gianfranco.esposito@example.org")
        other = factories.report_ticket(category=category, **words)  # not theirs
    assert TicketEmbedding.objects.count() == 3

    fake_embedder.embedded.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.erase_citizen(factories.administrator(), person)
    # The erasure removes them at once, and queues their anonymised texts.
    assert list(TicketEmbedding.objects.values_list("ticket_id", flat=True)) == [other.pk]
    for callback in callbacks:
        callback()
    assert tasks.embed_missing() == 0  # the erasure's own task did it
    assert len(fake_embedder.embedded) == 2
    for text in fake_embedder.embedded:
        assert "Gianfranco" not in text and "Esposito" not in text and "@" not in text
        assert "personal data erased" not in text  # the placeholder is not embedded
    assert any("buca profonda davanti al civico 12" in t for t in fake_embedder.embedded)
    assert TicketEmbedding.objects.filter(ticket__in=[open_report, request]).count() == 2


def test_a_queued_task_for_a_deleted_ticket_does_nothing(fake_embedder):
    assert get_embedder() is fake_embedder
    assert tasks.embed_ticket(987654) is False


def test_the_switches_read_the_default_sites_settings(factories, django_assert_num_queries):
    from wagtail_helpdesk.ai import switches

    with django_assert_num_queries(1):  # no settings saved yet: the defaults
        assert switches.enabled("similar")
    assert not switches.enabled("generative")
    saved = AssistSettings.objects.create(site=factories.default_site(), summary_enabled=False)
    with django_assert_num_queries(1):
        settings = switches.assist_settings()
    assert settings.pk == saved.pk
    with django_assert_num_queries(0):
        assert not switches.enabled("summary", settings)
        assert switches.enabled("readability", settings)
    with pytest.raises(ValueError):
        switches.enabled("telepathy", settings)


def test_tickets_changed_in_one_transaction_are_embedded_by_one_task(
        factories, office, fake_embedder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            made = [new_report(factories, office, subject=f"Buca {n}") for n in range(3)]
    found = embedding_callbacks(callbacks)
    assert len(found) == 1 and found[0].helpdesk_embedding == {t.pk for t in made}
    assert TicketEmbedding.objects.filter(ticket__in=made).count() == 3
    assert len(fake_embedder.embedded) == 3


def test_a_ticket_changed_while_the_model_ran_keeps_no_vector_of_its_old_text(
        factories, office, fake_embedder):
    ticket = Ticket.objects.select_related("service", "report_category").get(
        pk=new_report(factories, office).pk)
    TicketEmbedding.objects.all().delete()
    Ticket.objects.filter(pk=ticket.pk).update(version=ticket.version + 1)  # e.g. an erasure
    assert tasks.embed_tickets([ticket], fake_embedder) == 0
    assert not TicketEmbedding.objects.exists()
