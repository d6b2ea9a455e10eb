"""A live worker never sends a notification the sweeper took back from it.

A batch renews its lease once half of it has passed; rows the sweeper
released meanwhile (their lease ran out: the worker stalled) and another
worker claimed are dropped from the batch instead of being sent a second
time. Time is moved forward by hand: no sleeping."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from wagtail_helpdesk.models import Notification, NotificationChannel
from wagtail_helpdesk.notifications import outbox, tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(factories):
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person)
    Notification.objects.all().delete()
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(channel=NotificationChannel.EMAIL, ticket=ticket, event=ticket.events.first(),
                     template="citizen/ticket_received", address=f"c{n}@example.org",
                     language="it", dedup_key=f"lease-{n}", next_attempt_at=now,
                     payload={"reference": ticket.reference})
        for n in range(10))
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def clock(monkeypatch, settings):
    """The batch's clock, moved forward by hand; a 100 s lease, a long batch."""
    settings.WAGTAIL_HELPDESK_NOTIFY_LEASE_SECONDS = 100
    settings.WAGTAIL_HELPDESK_NOTIFY_BATCH_SECONDS = 1000
    now = [1000.0]
    monkeypatch.setattr(tasks, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def after_sending(monkeypatch, count, action):
    """Run ``action`` once the ``count``-th message of the batch is recorded sent."""
    original, done = outbox.sent, []

    def sent(notification, provider_id, now=None):
        original(notification, provider_id, now)
        done.append(notification.pk)
        if len(done) == count:
            action()

    monkeypatch.setattr(outbox, "sent", sent)
    return done


def test_rows_the_sweeper_took_back_from_a_stalled_worker_are_not_sent_again(
        rows, smtp, clock, monkeypatch):
    def stall_then_sweep():
        clock[0] += 120  # the worker stalled past its lease…
        Notification.objects.filter(status="sending").update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert outbox.release_expired() == 7  # …the sweeper took the rest back
        assert len(outbox.claim_many(rows)) == 7  # and another worker holds them now

    sent = after_sending(monkeypatch, 3, stall_then_sweep)
    assert tasks.deliver(rows) == 3
    assert sent == rows[:3]
    assert len(smtp.messages) == 3  # the other worker's seven were not sent by this one
    held = Notification.objects.filter(pk__in=rows[3:])
    assert set(held.values_list("status", flat=True)) == {"sending"}
    assert len(set(held.values_list("claim", flat=True))) == 1  # still the other worker's


def test_a_long_batch_renews_its_lease_and_goes_on(rows, smtp, clock, monkeypatch):
    def half_a_lease_later():
        clock[0] += 60

    after_sending(monkeypatch, 3, half_a_lease_later)
    leases = []
    original = outbox.renew
    monkeypatch.setattr(outbox, "renew", lambda rest, now=None: leases.append(
        len(rest)) or original(rest, now))
    assert tasks.deliver(rows) == 10
    assert leases == [7]  # once, for the seven not yet sent
    assert len(smtp.messages) == 10
    assert Notification.objects.filter(status="sent").count() == 10


def test_renew_extends_only_the_rows_the_claim_still_holds(rows):
    now = timezone.now()
    claimed = outbox.claim_many(rows, now=now)
    batch = list(Notification.objects.filter(pk__in=claimed).order_by("pk"))
    Notification.objects.filter(pk=rows[0]).update(claim="someone-else")
    Notification.objects.filter(pk=rows[1]).update(status="pending")
    later = now + timedelta(seconds=200)
    assert outbox.renew(batch, now=later) == set(rows[2:])
    lease = later + timedelta(seconds=300)
    assert set(Notification.objects.filter(pk__in=rows[2:])
               .values_list("next_attempt_at", flat=True)) == {lease}
    assert Notification.objects.get(pk=rows[0]).next_attempt_at < lease
