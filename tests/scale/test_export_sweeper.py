"""Background exports never stay queued or running for ever: the task has
its own timeout, a worker that lost its claim changes nothing and leaves no
file, and the scheduled sweeper queues again, fails or deletes exports."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.exceptions import TimeoutException
from django_q.signals import pre_enqueue

from tests.support.exports import said
from wagtail_helpdesk.exports import tasks
from wagtail_helpdesk.models import ExportStatus, TicketExport
from wagtail_helpdesk.notifications.schedules import PREFIX, wanted


@pytest.fixture
def desk(factories):
    office = factories.office()
    op = factories.operator(office)
    service = factories.service(office)
    for i in range(3):
        factories.request_ticket(service_=service, subject=f"Pratica {i}")
    return op


def files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def queued(user, **fields):
    """An export asked for but never handed to a worker."""
    export = TicketExport.objects.create(requested_by=user, format="csv", query="queue=all")
    if fields:
        TicketExport.objects.filter(pk=export.pk).update(**fields)
    return export


def test_the_task_is_queued_with_its_own_longer_timeout(desk, settings,
                                                        django_capture_on_commit_callbacks):
    seen = []

    def listen(sender, task, **kwargs):
        seen.append(task)

    pre_enqueue.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            export = tasks.request_export(desk, "csv", "queue=all")
    finally:
        pre_enqueue.disconnect(listen)
    (task,) = [t for t in seen if t["func"] == tasks.GENERATE]
    assert task["args"] == (export.pk,)
    assert task["timeout"] == int(tasks.TASK_TIMEOUT.total_seconds())
    assert task["timeout"] > settings.Q_CLUSTER["timeout"]
    assert tasks.STALE > tasks.TASK_TIMEOUT


def test_a_timed_out_export_fails_and_leaves_no_file(desk, monkeypatch, private_media):
    export = tasks.request_export(desk, "csv", "queue=all")
    real_write = tasks.write

    def slow(view, export, handle):
        real_write(view, export, handle)
        raise TimeoutException("Task exceeded maximum timeout value (1200 seconds)")

    monkeypatch.setattr(tasks, "write", slow)
    with pytest.raises(TimeoutException):  # django-q2 still sees its timeout
        tasks.generate(export.pk)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.error == said(export, tasks.too_long_message)
    assert files(private_media) == []


def test_a_worker_that_lost_its_claim_changes_nothing_and_deletes_its_file(
        desk, monkeypatch, private_media):
    export = tasks.request_export(desk, "csv", "queue=all")
    real_write = tasks.write

    def taken_over(view, export, handle):
        rows = real_write(view, export, handle)
        # meanwhile the sweeper thought this worker dead and another one claimed it
        TicketExport.objects.filter(pk=export.pk).update(claim_token="another", progress=42)
        return rows

    monkeypatch.setattr(tasks, "write", taken_over)
    assert tasks.generate(export.pk) is False
    export.refresh_from_db()
    assert (export.status, export.progress, export.file.name) == (ExportStatus.RUNNING, 42, "")
    assert files(private_media) == []


def test_an_export_deleted_while_being_prepared_leaves_no_file(desk, monkeypatch,
                                                               private_media):
    export = tasks.request_export(desk, "csv", "queue=all")
    real_write = tasks.write

    def deleted(view, export, handle):
        rows = real_write(view, export, handle)
        TicketExport.objects.filter(pk=export.pk).delete()
        return rows

    monkeypatch.setattr(tasks, "write", deleted)
    assert tasks.generate(export.pk) is False
    assert files(private_media) == []


def test_the_sweeper_queues_again_exports_no_worker_started(desk):
    now = timezone.now()
    lost = queued(desk, queued_at=now - tasks.QUEUED_STALE - timedelta(minutes=1))
    waiting = queued(desk, queued_at=now - timedelta(minutes=1))
    counts = tasks.sweep()
    assert counts["requeued"] == 1
    lost.refresh_from_db()
    waiting.refresh_from_db()
    # the tests' cluster is synchronous: queued again means prepared now
    assert lost.status == ExportStatus.DONE and lost.rows == 3
    assert waiting.status == ExportStatus.QUEUED


def test_the_sweeper_gives_up_exports_queued_for_too_long(desk):
    now = timezone.now()
    old = queued(desk, created_at=now - tasks.GIVE_UP - timedelta(minutes=1),
                 queued_at=now - tasks.QUEUED_STALE - timedelta(minutes=1))
    assert tasks.sweep()["failed"] == 1
    old.refresh_from_db()
    assert old.status == ExportStatus.FAILED and old.error == said(old, tasks.failure_message)


def test_the_sweeper_retries_then_fails_exports_left_running(desk):
    long_ago = timezone.now() - tasks.STALE - timedelta(minutes=1)
    dead = queued(desk, status=ExportStatus.RUNNING, started_at=long_ago, attempts=1,
                  claim_token="dead")
    hopeless = queued(desk, status=ExportStatus.RUNNING, started_at=long_ago,
                      attempts=tasks.MAX_ATTEMPTS, claim_token="dead")
    alive = queued(desk, status=ExportStatus.RUNNING, started_at=timezone.now(), attempts=1,
                   claim_token="alive")
    counts = tasks.sweep()
    assert (counts["requeued"], counts["failed"]) == (1, 1)
    for export in (dead, hopeless, alive):
        export.refresh_from_db()
    assert dead.status == ExportStatus.DONE and dead.attempts == 2
    assert hopeless.status == ExportStatus.FAILED
    assert hopeless.error == said(hopeless, tasks.too_long_message) and hopeless.claim_token == ""
    assert alive.status == ExportStatus.RUNNING and alive.claim_token == "alive"


def test_a_dead_workers_export_is_not_claimed_again_past_its_attempts(desk):
    long_ago = timezone.now() - tasks.STALE - timedelta(minutes=1)
    export = queued(desk, status=ExportStatus.RUNNING, started_at=long_ago,
                    attempts=tasks.MAX_ATTEMPTS)
    assert tasks.claim(export.pk) == ""
    TicketExport.objects.filter(pk=export.pk).update(attempts=tasks.MAX_ATTEMPTS - 1)
    assert tasks.claim(export.pk) != ""


def test_the_sweeper_deletes_old_exports_and_their_files(desk, factories,
                                                         django_capture_on_commit_callbacks):
    old = tasks.request_export(desk, "csv", "queue=all")
    tasks.generate(old.pk)
    old.refresh_from_db()
    storage, name = old.file.storage, old.file.name
    recent = tasks.request_export(factories.operator(), "csv", "queue=all")
    TicketExport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - tasks.KEPT - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep()["deleted"] == 1
    assert not TicketExport.objects.filter(pk=old.pk).exists() and not storage.exists(name)
    assert TicketExport.objects.filter(pk=recent.pk).exists()


def test_the_sweeper_is_scheduled():
    from django.utils.module_loading import import_string

    job = wanted()[f"{PREFIX}ticket exports sweeper"]
    assert job["func"] == tasks.SWEEP and import_string(job["func"]) is tasks.sweep
    assert job["repeats"] == -1 and job["minutes"] * 60 < tasks.QUEUED_STALE.total_seconds()
