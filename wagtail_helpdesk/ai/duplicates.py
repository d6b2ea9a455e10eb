"""Likely duplicates: the similar tickets (:mod:`.similar`) that are probably
the same problem reported again, offered on the ticket page for a deliberate
"Collega come duplicato" (:mod:`wagtail_helpdesk.services.duplicates`).

A **report** is a likely duplicate of another report

* of the same problem type,
* within ``AI_DUPLICATE_RADIUS_M`` of it (both placed on the map; two reports
  without coordinates only with the same typed address),
* sent within ``AI_DUPLICATE_DAYS`` of it,
* open, or resolved at most ``AI_DUPLICATE_RESOLVED_DAYS`` ago,
* whose text is similar enough: the cosine of the two embeddings at least
  ``AI_DUPLICATE_MIN_COSINE`` (an absolute measure, calibrated on the
  labelled pairs of the evaluation); without vectors, at least
  ``AI_DUPLICATE_MIN_WORDS`` meaningful words in common.

Those that pass are ordered by the cosine of their texts (place and time
having passed the filter, the text is what tells a second pothole from a
broken drain cover next to it), else in the order of :mod:`.similar`. Its
fused score is not thresholded: it is a sum of reciprocal ranks, as high for
the best of bad candidates as for the best of good ones.

A **request** is personal: it is a likely duplicate only of a request of the
same citizen (or declared contact) about the same service, with similar text
— the same person asking twice, by web and by e-mail.

The citizens' report form orders its "already reported nearby" hint with the
same :func:`place_score` (:mod:`wagtail_helpdesk.citizen.nearby`).
"""

import dataclasses
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import Kind
from ..services.duplicates import same_person
from ..workflow import OPEN_STATUSES, Status
from .text import fold, stems

#: How many similar tickets are looked through for the likely duplicates.
SCAN = 20


def place_score(distance, days):
    """How close two reports of the same problem type are, 0.2–1: space
    weighs more than time (:func:`.similar.closeness`, the one ranking
    similar tickets)."""
    from .similar import closeness

    return closeness(distance, days)


def distance_between(a, b):
    """Metres between two placed tickets (None if either has no point)."""
    from ..citizen.nearby import distance_m

    if not (a.has_location and b.has_location):
        return None
    return distance_m(float(a.latitude), float(a.longitude),
                      float(b.latitude), float(b.longitude))


def _when(ticket):
    return ticket.submitted_at or ticket.created_at


def same_group(a, b):
    """Whether ``a`` and ``b`` are already linked (one the other's primary,
    or duplicates of the same primary)."""
    return (a.duplicate_of_id == b.pk or b.duplicate_of_id == a.pk
            or (a.duplicate_of_id is not None and a.duplicate_of_id == b.duplicate_of_id))


def shared_stems(a, b):
    """The meaningful word stems the subjects and descriptions share."""
    return set(stems(f"{a.subject} {a.description}")) & set(stems(f"{b.subject} {b.description}"))


def text_alike(match, ticket):
    """Whether the texts are similar enough for a duplicate."""
    if match.text_score is not None:
        key = ("AI_DUPLICATE_MIN_COSINE" if ticket.kind == Kind.REPORT
               else "AI_DUPLICATE_REQUEST_MIN_COSINE")
        return match.text_score >= float(get_setting(key))
    return len(shared_stems(ticket, match.ticket)) >= int(get_setting("AI_DUPLICATE_MIN_WORDS"))


def in_window(ticket, other, now):
    """Open, or resolved recently; sent within the period of ``ticket``."""
    if other.status == Status.RESOLVED:
        since = now - timedelta(days=int(get_setting("AI_DUPLICATE_RESOLVED_DAYS")))
        if other.resolved_at is None or other.resolved_at < since:
            return False
    elif other.status not in OPEN_STATUSES:
        return False
    return abs(_when(ticket) - _when(other)) <= timedelta(days=int(get_setting("AI_DUPLICATE_DAYS")))


def near(ticket, other):
    """Both placed within the radius, or both unplaced at the same address."""
    distance = distance_between(ticket, other)
    if distance is not None:
        return distance <= float(get_setting("AI_DUPLICATE_RADIUS_M"))
    if ticket.has_location or other.has_location:
        return False
    return bool(ticket.address.strip()) and fold(ticket.address).split() == fold(
        other.address).split()


def qualifies(ticket, match, now=None):
    """Whether ``match`` (a :class:`.similar.Match` of ``ticket``) is a
    likely duplicate of it (see the module's rules)."""
    other = match.ticket
    now = now or timezone.now()
    if other.pk == ticket.pk or other.kind != ticket.kind or same_group(ticket, other):
        return False
    if not in_window(ticket, other, now):
        return False
    if ticket.kind == Kind.REPORT:
        if other.report_category_id != ticket.report_category_id or not near(ticket, other):
            return False
    elif other.service_id != ticket.service_id or not same_person(ticket, other):
        return False
    return text_alike(match, ticket)


def likely_duplicates(ticket, user, *, limit=3, matches=None):
    """The tickets ``ticket`` is likely a duplicate of (or that duplicate it),
    best first: :class:`.similar.Match` objects ``user`` may see.

    ``matches``: the similar tickets already looked up for the same page
    (at least :data:`SCAN` of them), to save the lookup.
    """
    if ticket.status == Status.DRAFT:
        return []
    if matches is None:
        from .similar import similar_tickets

        matches = similar_tickets(ticket, user, limit=SCAN)
    now = timezone.now()
    found = []
    for match in matches:
        if not qualifies(ticket, match, now):
            continue
        reasons = list(match.reasons)
        if ticket.kind == Kind.REQUEST:
            reasons.insert(0, _("same citizen and service"))
        found.append(dataclasses.replace(match, reasons=reasons))
    # Place and time already passed the filter: the text decides the order
    # (the fused score would rank the nearest first, whatever it says).
    found.sort(key=lambda m: -(m.text_score if m.text_score is not None else -1.0))
    return found[:limit]
