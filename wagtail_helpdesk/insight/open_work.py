"""The dashboard's figures about open work, from one scan of the open tickets.

:func:`wagtail_helpdesk.admin.metrics.backlog`, ``by_office`` and
``operator_load`` each walk the open tickets (and ``today`` and ``by_office``
the day's resolutions). Here the open tickets are grouped once by office,
assignee and status, reading only the columns of the partial index
``helpdesk_t_open_work`` (an index-only scan on PostgreSQL), and today's
tickets once by office; the three figures are added up from those rows.
The dashboard's tests hold them equal to the separate queries.

A supervisor's scope is "my offices' tickets, or my own without an office":
an ``OR`` no index range can serve, so PostgreSQL would read every office's
open tickets and filter them. :func:`parts` splits it into ranges of the
index (the offices' tickets; the few without an office only when there are
some), each counted on its own and the rows put together.
"""

from datetime import timedelta

from django.db.models import Count, Min, Q, Sum

from ..workflow import OPEN_STATUSES, Status

_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)


def _submitted(tickets):
    return tickets.exclude(status=Status.DRAFT)


def parts(tickets, offices, officeless=True):
    """``tickets`` as disjoint querysets whose union it is, each an index
    range: with ``offices`` (ids; ``None``: every office, no split) the
    offices' tickets and, if ``officeless``, those without an office.
    ``tickets`` must hold no ticket of another office (the dashboard's scope:
    :class:`~wagtail_helpdesk.admin.metrics.History`)."""
    if offices is None:
        return [tickets]
    split = [tickets.filter(office_id__in=sorted(offices))]
    if officeless:
        split.append(tickets.filter(office__isnull=True))
    return split


def open_groups(parts, now):
    """``[{office_id, office__name, assignee_id, status, n, overdue, unread,
    oldest}]``: the open tickets of ``parts`` (:func:`parts`) per office,
    assignee and status. One query per part; the parts' groups are disjoint
    (they differ by office)."""
    groups = []
    for part in parts:
        groups += (
            _submitted(part).filter(status__in=OPEN_STATUSES)
            .values("office_id", "office__name", "assignee_id", "status")
            .annotate(n=Count("*"), overdue=Count("due_at", filter=Q(due_at__lt=now)),
                      unread=Sum("unread_count"), oldest=Min("submitted_at"))
            .order_by()
        )
    return groups


def today_by_office(tickets, since):
    """Tickets submitted and resolved since ``since``, per office. One query."""
    resolved = Q(status=Status.RESOLVED, resolved_at__gte=since)
    return list(
        _submitted(tickets).filter(Q(submitted_at__gte=since) | Q(resolved_at__gte=since))
        .values("office_id", "office__name")
        .annotate(opened=Count("pk", filter=Q(submitted_at__gte=since)),
                  resolved=Count("pk", filter=resolved),
                  solved=Count("pk", filter=resolved & Q(
                      resolution_type__counts_as_solved=True)))
        .order_by()
    )


def backlog(groups):
    """As :func:`~wagtail_helpdesk.admin.metrics.backlog`, from :func:`open_groups`."""
    figures = {"open": 0, "new": 0, "in_progress": 0, "waiting": 0, "unassigned": 0,
               "overdue": 0, "unread": 0}
    for g in groups:
        figures["open"] += g["n"]
        figures[g["status"]] += g["n"]
        figures["overdue"] += g["overdue"]
        figures["unread"] += g["unread"] or 0
        if g["status"] == Status.NEW and g["assignee_id"] is None:
            figures["unassigned"] += g["n"]
    return figures


def today(rows):
    """As :func:`~wagtail_helpdesk.admin.metrics.today`, from :func:`today_by_office`."""
    return {key: sum(row[key] for row in rows) for key in ("opened", "resolved", "solved")}


def by_office(groups, rows, now):
    """As :func:`~wagtail_helpdesk.admin.metrics.by_office`."""
    offices = {}

    def office(pk, name):
        return offices.setdefault(pk, {
            "office_id": pk, "name": name, "new": 0, "in_progress": 0, "waiting": 0,
            "open": 0, "unassigned": 0, "overdue": 0, "resolved_today": 0, "oldest": None})

    for g in groups:
        row = office(g["office_id"], g["office__name"])
        row[g["status"]] += g["n"]
        row["open"] += g["n"]
        row["overdue"] += g["overdue"]
        if g["status"] == Status.NEW and g["assignee_id"] is None:
            row["unassigned"] += g["n"]
            row["oldest"] = g["oldest"]
    for r in rows:
        if r["resolved"]:
            office(r["office_id"], r["office__name"])["resolved_today"] += r["resolved"]
    result = []
    for row in offices.values():
        oldest = row.pop("oldest")
        row["oldest_unassigned_wait"] = max(now - oldest, timedelta(0)) if oldest else None
        result.append(row)
    # By name, the row of the tickets without an office last on every
    # database (as :func:`~wagtail_helpdesk.admin.metrics.by_office`).
    result.sort(key=lambda r: (r["office_id"] is None, r["name"] or "", r["office_id"] or 0))
    return result


def load(groups):
    """The per-assignee figures of :func:`~wagtail_helpdesk.admin.metrics.operator_load`."""
    result = {}
    for g in groups:
        if g["assignee_id"] is None:
            continue
        row = result.setdefault(g["assignee_id"], {
            "open": 0, "in_progress": 0, "waiting": 0, "overdue": 0, "unread": 0})
        row["open"] += g["n"]
        if g["status"] in (Status.IN_PROGRESS, Status.WAITING):
            row[g["status"]] += g["n"]
        row["overdue"] += g["overdue"]
        row["unread"] += g["unread"] or 0
    return result
