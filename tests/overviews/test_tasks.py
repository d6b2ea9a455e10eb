"""Generating overviews in the background: idempotent, resumable, failing
cleanly; and the monthly e-mail, once per subscriber and month."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail as outbox_mail
from django.utils import timezone, translation

from wagtail_helpdesk.models import Notification, Overview, OverviewStatus, OverviewSubscription
from wagtail_helpdesk.notifications.schedules import PREFIX, wanted
from wagtail_helpdesk.overviews import mail, tasks

from .conftest import END, START

#: 2 March 2025, 9:00 in Rome: last month is February.
MARCH = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)


def make(user, offices, **kwargs):
    overview = Overview.objects.create(period_start=START, period_end=END, requested_by=user,
                                       **kwargs)
    overview.offices.set(offices)
    return overview


def test_generate_saves_both_files_and_progress(month, factories, django_capture_on_commit_callbacks):
    boss = factories.supervisor(month.anagrafe)
    with django_capture_on_commit_callbacks(execute=True):
        overview = tasks.request_overview(boss, START, END, [month.anagrafe])
    overview.refresh_from_db()  # the sync test broker ran the task on commit
    assert overview.status == OverviewStatus.DONE
    assert overview.progress == 100
    assert overview.started_at and overview.finished_at
    assert overview.pdf.name.startswith("helpdesk/overviews/")
    with overview.pdf.open("rb") as handle:
        assert handle.read(4) == b"%PDF"
    with overview.xlsx.open("rb") as handle:
        assert handle.read(2) == b"PK"


def test_a_done_overview_is_not_generated_again(month, factories):
    boss = factories.supervisor(month.anagrafe)
    overview = make(boss, [month.anagrafe])
    assert tasks.generate(overview.pk) is True
    overview.refresh_from_db()
    files = (overview.pdf.name, overview.xlsx.name, overview.finished_at)
    assert tasks.generate(overview.pk) is False
    overview.refresh_from_db()
    assert (overview.pdf.name, overview.xlsx.name, overview.finished_at) == files


def test_a_running_overview_is_left_alone_unless_stale(month, factories):
    boss = factories.supervisor(month.anagrafe)
    overview = make(boss, [month.anagrafe], status=OverviewStatus.RUNNING,
                    started_at=timezone.now() - timedelta(minutes=5))
    assert tasks.generate(overview.pk) is False  # another worker is on it
    Overview.objects.filter(pk=overview.pk).update(
        started_at=timezone.now() - tasks.STALE - timedelta(minutes=1))
    assert tasks.generate(overview.pk) is True  # its worker died: retried
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.DONE


def test_failure_is_recorded_without_traceback_and_can_be_retried(month, factories, monkeypatch):
    boss = factories.supervisor(month.anagrafe)
    overview = make(boss, [month.anagrafe])

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(tasks, "overview_xlsx", broken)
    assert tasks.generate(overview.pk) is False
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.FAILED
    # In the requester's language (Italian by default), whatever is compiled.
    with translation.override(tasks.language_for(overview)):
        assert overview.error == tasks.failure_message()
    assert "secret" not in overview.error and "Traceback" not in overview.error
    assert not overview.pdf and not overview.xlsx
    monkeypatch.undo()
    assert tasks.generate(overview.pk) is True
    overview.refresh_from_db()
    assert overview.status == OverviewStatus.DONE and overview.error == ""


def test_delete_removes_the_files(month, factories):
    boss = factories.supervisor(month.anagrafe)
    overview = make(boss, [month.anagrafe])
    tasks.generate(overview.pk)
    overview.refresh_from_db()
    storage, names = overview.pdf.storage, [overview.pdf.name, overview.xlsx.name]
    assert all(storage.exists(n) for n in names)
    tasks.delete_overview(overview)
    assert not any(storage.exists(n) for n in names)
    assert not Overview.objects.filter(pk=overview.pk).exists()


# --- the monthly e-mail ---------------------------------------------------------


@pytest.fixture
def subscriber(month, factories, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    boss = factories.supervisor(month.anagrafe)
    subscription = OverviewSubscription.objects.create(user=boss, all_offices=True,
                                                       last_month=date(2025, 1, 1))
    return subscription


def monthly_mails():
    return Notification.objects.filter(template=mail.TEMPLATE)


def test_the_monthly_job_is_scheduled():
    job = wanted()[f"{PREFIX}monthly overviews"]
    assert job["func"] == mail.MONTHLY


def test_monthly_job_generates_last_month_and_mails_a_link_once(subscriber, month,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert mail.monthly_overviews(MARCH) == 1
    overview = Overview.objects.get(subscription=subscriber)
    assert (overview.period_start, overview.period_end) == (START, END)
    assert overview.status == OverviewStatus.DONE
    assert list(overview.offices.all()) == [month.anagrafe]  # the supervisor's offices
    notification = monthly_mails().get()
    assert notification.recipient_user == subscriber.user
    assert notification.payload["link"].startswith("https://comune.example.it/admin/")
    assert notification.payload["link"].endswith(f"#overview-{overview.pk}")
    subscriber.refresh_from_db()
    assert subscriber.last_month == START
    # Run again (same day, or later in the month): nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        assert mail.monthly_overviews(MARCH) == 0
        assert mail.monthly_overviews(MARCH + timedelta(days=3)) == 0
    assert monthly_mails().count() == 1
    assert Overview.objects.filter(subscription=subscriber).count() == 1


def test_the_mail_is_delivered_with_the_link(subscriber, django_capture_on_commit_callbacks):
    from wagtail_helpdesk.notifications.tasks import deliver

    with django_capture_on_commit_callbacks(execute=True):
        mail.monthly_overviews(MARCH)
    notification = monthly_mails().get()
    deliver([notification.pk])
    message = next(m for m in outbox_mail.outbox if m.to == [subscriber.user.email])
    overview = Overview.objects.get(subscription=subscriber)
    assert f"#overview-{overview.pk}" in message.body
    assert "PK" not in message.body and not message.attachments  # a link, never the file


def test_a_crash_before_the_mail_is_caught_up_without_a_second_mail(
        subscriber, monkeypatch, django_capture_on_commit_callbacks):
    # The worker dies after generating, before queuing the e-mail.
    monkeypatch.setattr(mail, "send_link", lambda *a, **k: None)
    with django_capture_on_commit_callbacks(execute=True):
        mail.monthly_overviews(MARCH)
    assert Overview.objects.get(subscription=subscriber).status == OverviewStatus.DONE
    assert monthly_mails().count() == 0
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        mail.monthly_overviews(MARCH + timedelta(hours=24))
        mail.monthly_overviews(MARCH + timedelta(hours=48))
    assert monthly_mails().count() == 1
    assert Overview.objects.filter(subscription=subscriber).count() == 1


def test_a_crash_during_generation_is_retried(subscriber, monkeypatch,
                                              django_capture_on_commit_callbacks):
    monkeypatch.setattr(tasks, "overview_pdf", lambda *a: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        mail.monthly_overviews(MARCH)
    assert Overview.objects.get(subscription=subscriber).status == OverviewStatus.FAILED
    assert monthly_mails().count() == 0
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        mail.monthly_overviews(MARCH + timedelta(days=1))
    assert Overview.objects.get(subscription=subscriber).status == OverviewStatus.DONE
    assert monthly_mails().count() == 1


def test_send_link_twice_queues_one_mail(subscriber, month):
    overview = make(subscriber.user, [month.anagrafe], subscription=subscriber)
    tasks.generate(overview.pk)  # sends it
    assert mail.send_link(subscriber.pk, overview.pk) is None
    OverviewSubscription.objects.filter(pk=subscriber.pk).update(last_month=date(2025, 1, 1))
    assert mail.send_link(subscriber.pk, overview.pk) is None  # the outbox key holds
    assert monthly_mails().count() == 1


def test_inactive_subscriptions_and_lost_permissions_get_nothing(subscriber, month, factories):
    operator = factories.operator(month.anagrafe)
    OverviewSubscription.objects.create(user=operator, all_offices=True)
    OverviewSubscription.objects.filter(pk=subscriber.pk).update(active=False)
    assert mail.monthly_overviews(MARCH) == 0
    assert not Overview.objects.exists()


def test_subscribe_starts_with_the_current_month(db, factories):
    boss = factories.supervisor(factories.office())
    subscription = mail.subscribe(boss, True, all_offices=True, today=date(2025, 2, 17))
    assert subscription.last_month == date(2025, 1, 1)  # first e-mail: early March
    mail.subscribe(boss, False, all_offices=True, today=date(2025, 2, 18))
    subscription.refresh_from_db()
    assert not subscription.active
    assert mail.last_month(date(2025, 1, 15)) == (date(2024, 12, 1), date(2024, 12, 31))


def test_demo_builds_a_subscription_and_a_ready_overview(month, factories):
    from types import SimpleNamespace

    from wagtail_helpdesk.demo import overviews as demo

    boss = factories.supervisor(month.anagrafe)
    world = SimpleNamespace(supervisors={month.anagrafe.pk: [boss]},
                            members={month.anagrafe.pk: [boss]},
                            offices={"anagrafe": month.anagrafe, "tributi": month.tributi})
    assert demo.build(world, MARCH) == 2
    overview = Overview.objects.get(requested_by=boss)
    assert overview.status == OverviewStatus.DONE and overview.pdf and overview.xlsx
    assert list(overview.offices.all()) == [month.anagrafe]
    subscription = OverviewSubscription.objects.get(user=boss)
    assert subscription.active and subscription.last_month == START
    assert demo.build(world, MARCH) == 0  # run again: nothing new
    assert mail.monthly_overviews(MARCH) == 0  # the demo's month is not e-mailed
