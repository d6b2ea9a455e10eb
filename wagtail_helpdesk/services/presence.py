"""Operators' presence: what the system infers from activity, what the
operator chose, and the resulting status others see.

- Automatic (nothing chosen): *available* while the operator works in the
  admin, *away* after ``PRESENCE_AWAY_AFTER`` seconds without activity,
  *offline* after ``PRESENCE_OFFLINE_AFTER``.
- Chosen (busy, do not disturb…): kept while the operator is active; an
  operator gone for ``PRESENCE_OFFLINE_AFTER`` is offline whatever they chose.

"Last seen" comes from a heartbeat every admin page sends once a minute while
it is open (``presence.js``), from logging in and from choosing a status; page
views themselves write nothing.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..conf import get_setting
from ..formats import person_name
from ..models import OperatorPresence, Presence

HEARTBEAT_EVERY = 60  # seconds between two heartbeats of an open admin page


def _thresholds(now):
    away = now - timedelta(seconds=get_setting("PRESENCE_AWAY_AFTER"))
    offline = now - timedelta(seconds=get_setting("PRESENCE_OFFLINE_AFTER"))
    return away, offline


def effective(row, now=None):
    """The presence others see for an :class:`OperatorPresence` row (or None)."""
    if row is None or row.last_seen_at is None:
        return Presence.OFFLINE
    now = now or timezone.now()
    away, offline = _thresholds(now)
    if row.chosen == Presence.OFFLINE or row.last_seen_at < offline:
        return Presence.OFFLINE
    if row.chosen:
        return Presence(row.chosen)
    return Presence.AVAILABLE if row.last_seen_at >= away else Presence.AWAY


def of(user, now=None):
    row = OperatorPresence.objects.filter(user=user).first()
    return effective(row, now)


def for_users(user_ids, now=None):
    """``{user_id: Presence}`` for many operators, in one query."""
    now = now or timezone.now()
    rows = {row.user_id: row for row in OperatorPresence.objects.filter(user_id__in=user_ids)}
    return {pk: effective(rows.get(pk), now) for pk in user_ids}


def name_and_status(users, now=None):
    """A labeller for choice lists: "Name — Available" (one query for all ``users``)."""
    statuses = for_users([u.pk for u in users], now)
    return lambda user: f"{person_name(user)} — {statuses[user.pk].label}"


def available_q(prefix="", now=None):
    """A filter on users (through ``prefix``) that are available right now."""
    now = now or timezone.now()
    away, offline = _thresholds(now)
    p = f"{prefix}helpdesk_presence__"
    return (
        Q(**{f"{p}chosen": Presence.AVAILABLE, f"{p}last_seen_at__gte": offline})
        | Q(**{f"{p}chosen": "", f"{p}last_seen_at__gte": away})
    )


def touch(user, now=None):
    """Note that ``user`` is active in the admin."""
    if not getattr(user, "is_authenticated", False):
        return
    now = now or timezone.now()
    updated = OperatorPresence.objects.filter(user=user).update(last_seen_at=now)
    if not updated:
        OperatorPresence.objects.get_or_create(user=user, defaults={"last_seen_at": now})


def choose(user, status, now=None):
    """The operator chose a status ("" = automatic again). Going offline hands
    their live conversations back to the queues at once; becoming available
    lets automatic queues hand them some (:mod:`.chatrouting`)."""
    if status and status not in Presence.values:
        raise ValueError(status)
    now = now or timezone.now()
    OperatorPresence.objects.update_or_create(
        user=user, defaults={"chosen": status, "changed_at": now, "last_seen_at": now}
    )
    from .chatrouting import after_presence_change

    after_presence_change(user, status)
