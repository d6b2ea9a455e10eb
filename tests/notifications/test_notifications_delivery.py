"""Outbox delivery by e-mail through Django's SMTP backend to a real SMTP
server on loopback: what arrives (headers included), retries that lose
nothing and send nothing twice, permanent failures, dead workers."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.support.images import png_bytes
from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Notification, NotificationStatus
from wagtail_helpdesk.notifications import email as mail
from wagtail_helpdesk.notifications import outbox, tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(factories, django_capture_on_commit_callbacks):
    """A citizen's request, its receipt queued (not yet delivered)."""
    office = factories.office(name="Anagrafe")
    person = factories.citizen(given_name="Giulia", family_name="Bianchi",
                               email="giulia@example.org", language="it")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                          service_=factories.service(office, name="Residenza"))
    notification = Notification.objects.get(template="citizen/ticket_received")
    return type("R", (), {"ticket": ticket, "notification": notification, "person": person,
                          "callbacks": callbacks, "office": office})


def attempt(received):
    """One delivery attempt of the receipt; the row afterwards."""
    tasks.deliver([received.notification.pk])
    return Notification.objects.get(pk=received.notification.pk)


def rcpt_answers(smtp, reply):
    async def answer(server, session, envelope, address, options):
        return reply

    smtp.handle_RCPT = answer


def pending_ids():
    return list(Notification.objects.filter(status="pending").values_list("pk", flat=True))


def test_the_receipt_arrives_threaded_signed_and_in_italian(received, smtp, settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_REPLY_TO = "assistenza+{token}@comune.example.it"
    settings.DEFAULT_FROM_EMAIL = "Comune di Esempio <noreply@comune.example.it>"
    assert tasks.deliver([received.notification.pk]) == 1
    (message,) = smtp.messages
    ticket = received.ticket
    assert message["Subject"] == f"[{ticket.short_code}] Richiesta ricevuta"
    assert "Giulia" not in message["Subject"] and "Bianchi" not in message["Subject"]
    assert message["To"] == "giulia@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(rf"<hd\.{ticket.pk}\.{received.notification.pk}\.[0-9a-f]{{10}}"
                        r"@comune\.example\.it>", message["Message-ID"])
    root = mail.message_id(ticket.pk, 0)
    assert message["In-Reply-To"] == root and message["References"] == root
    token = message["Reply-To"].split("+", 1)[1].split("@")[0]
    assert token == mail.reply_token(ticket.pk) and token.startswith(f"{ticket.pk}.")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Abbiamo ricevuto la tua richiesta" in text and ticket.short_code in text
    assert "<html" in html and ticket.short_code in html
    row = Notification.objects.get(pk=received.notification.pk)
    assert (row.status, row.attempts, row.provider_message_id) == (
        "sent", 1, message["Message-ID"])
    event = ticket.events.get(kind=EventKind.NOTIFICATION_SENT)
    assert event.data["notification"] == row.pk


def test_english_speakers_get_english(received, smtp):
    received.person.language = "en"
    received.person.save()
    Notification.objects.filter(pk=received.notification.pk).update(language="en")
    tasks.deliver([received.notification.pk])
    assert smtp.messages[0]["Subject"] == f"[{received.ticket.short_code}] Request received"


def test_delivery_is_enqueued_on_commit_and_runs_once(received, smtp):
    assert len(received.callbacks) >= 1  # nothing ran inside the transaction
    assert smtp.messages == []
    for callback in received.callbacks:
        callback()  # the commit: django-q2 (sync in tests) delivers
    for callback in received.callbacks:
        callback()  # a replayed task: the rows are no longer pending
    tasks.deliver(pending_ids() + [received.notification.pk])
    subjects = [m["Subject"] for m in smtp.messages]
    assert subjects.count(f"[{received.ticket.short_code}] Richiesta ricevuta") == 1


def test_a_rolled_back_change_notifies_nobody(factories, smtp,
                                              django_capture_on_commit_callbacks):
    from django.db import transaction

    person = factories.citizen()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            factories.request_ticket(CitizenActor(person), citizen_=person)
            raise RuntimeError("rolled back")
    assert callbacks == [] and smtp.messages == []
    assert not Notification.objects.exists()


def test_a_temporary_refusal_is_retried_with_backoff_and_delivered_once(received, smtp):
    smtp.refuse = True
    tasks.deliver([received.notification.pk])
    row = Notification.objects.get(pk=received.notification.pk)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert tasks.sweep() == 0  # not due yet: nothing sent
    smtp.refuse = False
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert tasks.sweep() == 1
    assert len(smtp.messages) == 1
    assert Notification.objects.get(pk=row.pk).status == "sent"


def test_with_the_server_down_nothing_is_lost_and_all_arrive_once_back(
        received, smtp, factories):
    for n in range(4):
        person = factories.citizen(email=f"c{n}@example.org")
        factories.request_ticket(CitizenActor(person), citizen_=person)
    ids = pending_ids()
    smtp.stop()
    assert tasks.deliver(ids) == 0
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    # An outage spends no attempts: however long it lasts, nothing fails.
    assert set(Notification.objects.values_list("attempts", flat=True)) == {0}
    assert Notification.objects.filter(next_attempt_at__lte=timezone.now()).count() == 0
    for _ in range(int(outbox.get_setting("NOTIFY_MAX_ATTEMPTS")) + 1):
        Notification.objects.update(next_attempt_at=timezone.now())
        assert tasks.deliver(ids) == 0
    assert set(Notification.objects.values_list("status", "attempts")) == {("pending", 0)}
    smtp.start()  # the same port again
    Notification.objects.update(next_attempt_at=timezone.now())
    assert tasks.sweep() == len(ids)
    mail_ids = [m["Message-ID"] for m in smtp.messages]
    assert len(mail_ids) == len(ids) == len(set(mail_ids))


def test_a_refused_login_is_an_outage_not_a_failure(received, smtp, monkeypatch):
    import smtplib

    from django.core.mail.backends.smtp import EmailBackend

    def refuse(self):
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed")

    monkeypatch.setattr(EmailBackend, "open", refuse)
    row = attempt(received)
    assert (row.status, row.attempts) == ("pending", 0) and "535" in row.last_error
    assert smtp.messages == []


def test_a_connection_dropped_mid_batch_is_reopened_once(received, smtp, factories,
                                                         monkeypatch):
    import smtplib

    from django.core.mail.backends.smtp import EmailBackend

    for n in range(2):
        person = factories.citizen(email=f"d{n}@example.org")
        factories.request_ticket(CitizenActor(person), citizen_=person)
    real, calls = EmailBackend.send_messages, []

    def drop_the_second(self, messages):
        calls.append(1)
        if len(calls) == 2:  # the relay closed the idle connection
            self.connection = None
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", drop_the_second)
    ids = pending_ids()
    assert tasks.deliver(ids) == 3
    assert len(smtp.messages) == 3 and len(calls) == 4
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_batch_out_of_time_gives_the_rest_back_untried(received, smtp, settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_BATCH_SECONDS = 0
    row = attempt(received)
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.next_attempt_at <= timezone.now() and smtp.messages == []


def test_one_transaction_is_one_delivery_task_in_batches(
        factories, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.WAGTAIL_HELPDESK_NOTIFY_BATCH_SIZE = 3
    queued = []
    monkeypatch.setattr(tasks, "_enqueue_now", queued.append)
    with django_capture_on_commit_callbacks(execute=True):  # the transaction's commit
        for n in range(7):
            person = factories.citizen(email=f"b{n}@example.org")
            factories.request_ticket(CitizenActor(person), citizen_=person)
        assert queued == []  # nothing before the commit
    ids = pending_ids()  # receipts and office mailbox messages
    assert len(ids) >= 7 and [len(batch) for batch in queued] == (
        [3] * (len(ids) // 3) + ([len(ids) % 3] if len(ids) % 3 else []))
    assert sorted(pk for batch in queued for pk in batch) == pending_ids()


def test_the_sweeper_queues_batches_and_sends_nothing_itself(received, settings, monkeypatch):
    settings.WAGTAIL_HELPDESK_NOTIFY_BATCH_SIZE = 2
    settings.WAGTAIL_HELPDESK_NOTIFY_SWEEP_BATCHES = 2
    Notification.objects.filter(pk=received.notification.pk).delete()
    for n in range(5):
        Notification.objects.create(channel="email", template="citizen/ticket_received",
                                    address=f"x{n}@example.org", dedup_key=f"k{n}")
    queued = []
    monkeypatch.setattr(tasks, "_enqueue_now", queued.append)
    monkeypatch.setattr(tasks, "queued_tasks", lambda: len(queued))  # nothing taken yet
    assert tasks.sweep() == 4  # two batches of two this run…
    assert [len(batch) for batch in queued] == [2, 2]
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    assert tasks.sweep() == 0 and len(queued) == 2  # …none while the workers are behind
    queued.clear()  # the workers took the tasks (the rows are still due: not yet sent)
    assert tasks.sweep() == 4 and len(queued) == 2


def test_attempts_are_limited_then_the_row_fails_visibly(received, smtp, settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_MAX_ATTEMPTS = 2
    smtp.refuse = True
    for _ in range(2):
        Notification.objects.filter(pk=received.notification.pk).update(
            next_attempt_at=timezone.now())
        tasks.deliver([received.notification.pk])
    row = Notification.objects.get(pk=received.notification.pk)
    assert (row.status, row.attempts) == ("failed", 2)
    failed = received.ticket.events.get(kind=EventKind.NOTIFICATION_FAILED)
    assert failed.data["status"] == "failed" and "451" in failed.data["error"]
    # An administrator's retry sends it once the server is back.
    smtp.refuse = False
    assert outbox.retry(row)
    assert tasks.sweep() == 1 and len(smtp.messages) == 1


def test_a_refused_recipient_fails_at_once(received, smtp):
    rcpt_answers(smtp, "550 No such user")
    row = attempt(received)
    assert (row.status, row.attempts) == ("failed", 1) and "550" in row.last_error


def test_a_row_left_sending_by_a_dead_worker_is_delivered_by_the_sweeper(received, smtp):
    assert outbox.claim(received.notification.pk)  # the worker died right after claiming
    assert tasks.sweep() == 0  # its lease still runs: nobody else touches it
    Notification.objects.filter(pk=received.notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 1
    assert len(smtp.messages) == 1


def test_two_workers_never_both_claim_a_row(received):
    assert outbox.claim(received.notification.pk)
    assert not outbox.claim(received.notification.pk)


def test_replies_carry_the_operators_message_and_public_files(received, smtp, factories):
    operator = factories.operator(received.office)
    services.take_charge(received.ticket, operator)
    services.reply(received.ticket, operator, "Il certificato è pronto, lo trova allegato.",
                   attachments=[SimpleUploadedFile("certificato.png", png_bytes(), "image/png")])
    reply = Notification.objects.get(template="citizen/reply")
    tasks.deliver([reply.pk])
    (message,) = smtp.messages
    assert "Il certificato è pronto" in message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "certificato.png"
    assert attachment.get_content_type() == "image/png"


def test_operators_get_a_link_to_the_ticket_in_the_admin(received, smtp, factories, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    operator = factories.operator(received.office)
    services.assign(received.ticket, factories.supervisor(received.office), operator)
    assigned = Notification.objects.get(template="operator/assigned")
    tasks.deliver([assigned.pk])
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert f"https://comune.example.it/admin/helpdesk/tickets/{received.ticket.pk}/" in text


def test_operators_read_their_mail_in_the_language_of_their_account(received, smtp, factories):
    from wagtail.users.models import UserProfile

    operator = factories.operator(received.office)
    profile = UserProfile.get_for_user(operator)
    profile.preferred_language = "en"
    profile.save()
    services.assign(received.ticket, factories.supervisor(received.office), operator)
    assigned = Notification.objects.get(template="operator/assigned")
    assert assigned.language == "en"
    tasks.deliver([assigned.pk])
    assert smtp.messages[0]["Subject"].endswith("] Assigned to you")
    # Without a choice: the site's default language.
    colleague = factories.operator(received.office)
    services.assign(received.ticket, factories.supervisor(received.office), colleague)
    assert Notification.objects.get(template="operator/assigned",
                                    recipient_user=colleague).language == "it"


def test_only_our_own_addresses_are_links_in_the_html_part(received, smtp, factories,
                                                           settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    operator = factories.operator(received.office)
    services.take_charge(received.ticket, operator)
    services.reply(received.ticket, operator, "Vedete https://phish.example/login <b>qui</b>")
    row = Notification.objects.get(template="citizen/reply")
    tasks.deliver([row.pk])
    html = smtp.messages[-1].get_body(("html",)).get_content()
    assert "https://phish.example/login" in html and 'href="https://phish.example' not in html
    assert "&lt;b&gt;qui&lt;/b&gt;" in html
    assert 'href="https://comune.example.it/helpdesk/pratica/' in html  # the ticket's link


def test_the_sweeper_schedule_is_created_on_migrate():
    from django_q.models import Schedule

    from wagtail_helpdesk.notifications.schedules import ensure_schedules

    schedule = Schedule.objects.get(name="wagtail_helpdesk: outbox sweeper")
    assert schedule.func == tasks.SWEEP and schedule.repeats == -1
    ensure_schedules()  # idempotent
    assert Schedule.objects.filter(name="wagtail_helpdesk: outbox sweeper").count() == 1


def test_unknown_templates_fail_permanently_without_retrying(received, smtp):
    Notification.objects.filter(pk=received.notification.pk).update(template="citizen/nope")
    row = attempt(received)
    assert row.status == NotificationStatus.FAILED and "TemplateDoesNotExist" in row.last_error


def test_a_busy_mailbox_4xx_is_retried_not_failed(received, smtp):
    rcpt_answers(smtp, "450 Mailbox busy")
    row = attempt(received)
    assert (row.status, row.attempts) == ("pending", 1) and "450" in row.last_error


def test_a_rejected_message_5xx_fails_at_once(received, smtp):
    async def reject(server, session, envelope):
        return "554 Message rejected"

    smtp.handle_DATA = reject
    row = attempt(received)
    assert row.status == "failed" and "554" in row.last_error


def test_a_late_worker_changes_nothing_once_its_row_was_taken_back(received, smtp):
    from wagtail_helpdesk.models import Notification as N

    assert outbox.claim(received.notification.pk)
    late = N.objects.get(pk=received.notification.pk)  # the slow worker's copy
    N.objects.filter(pk=late.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.sweep() == 1  # released and sent by another worker
    outbox.failed(late, "late failure", permanent=True)
    outbox.sent(late, "<late@example>")
    row = N.objects.get(pk=late.pk)
    assert row.status == "sent" and row.provider_message_id != "<late@example>"
    assert received.ticket.events.filter(kind=EventKind.NOTIFICATION_SENT).count() == 1
    assert len(smtp.messages) == 1


def test_a_row_that_keeps_killing_its_worker_is_given_up(received, settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_MAX_ATTEMPTS = 2
    for _ in range(2):
        assert outbox.claim(received.notification.pk)
        Notification.objects.filter(pk=received.notification.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))
        outbox.release_expired()
    row = Notification.objects.get(pk=received.notification.pk)
    assert (row.status, row.attempts) == ("failed", 2)
