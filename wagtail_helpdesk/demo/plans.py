"""What the demo's tickets will be: kind, channel, final status, age, topic,
citizen and the twists of their story. Pure: no database, the same arguments
always give the same plans. :mod:`.story` plays them.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from ..models import Channel, Kind
from ..sla import is_working_day
from ..workflow import Status
from . import data

STATUS_WEIGHTS = {
    Status.RESOLVED: 45, Status.IN_PROGRESS: 22, Status.NEW: 14, Status.WAITING: 11,
    Status.DRAFT: 8,
}
#: How old (in days) a ticket with this final status may be.
AGE_DAYS = {
    Status.DRAFT: (0.05, 6), Status.NEW: (0.03, 5), Status.IN_PROGRESS: (0.5, 30),
    Status.WAITING: (1, 25), Status.RESOLVED: (1.5, 56),  # + a few days to a working day
}
CHANNEL_WEIGHTS = {
    Kind.REQUEST: {Channel.WEB: 45, Channel.PHONE: 20, Channel.DESK: 15, Channel.EMAIL: 15,
                   Channel.API: 5},
    Kind.REPORT: {Channel.WEB: 48, Channel.OPEN311: 15, Channel.PHONE: 15, Channel.EMAIL: 8,
                  Channel.DESK: 6, Channel.API: 8},
}
OPERATOR_CHANNELS = (Channel.PHONE, Channel.DESK)
#: The first tickets cover every channel, both kinds, every status, a transfer
#: and a reactivation: (kind, channel, status, transferred, reopened).
COVERAGE = [
    (Kind.REQUEST, Channel.PHONE, Status.DRAFT, False, False),
    (Kind.REPORT, Channel.OPEN311, Status.NEW, False, False),
    (Kind.REQUEST, Channel.WEB, Status.IN_PROGRESS, True, False),
    (Kind.REPORT, Channel.DESK, Status.WAITING, False, False),
    (Kind.REQUEST, Channel.EMAIL, Status.RESOLVED, False, True),
    (Kind.REPORT, Channel.API, Status.RESOLVED, False, False),
    (Kind.REPORT, Channel.WEB, Status.RESOLVED, False, False),
]
#: Daytime-heavy distribution of the hour citizens write at.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 6, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2]
#: Requests to these offices are more frequent (the others weigh 1).
REQUEST_OFFICE_WEIGHTS = {"urp": 3, "servizi-demografici": 2, "tributi": 2}
#: Share of tickets transferred to another office, by office (default: the "*" entry).
TRANSFER_RATES = {"urp": 0.3, "*": 0.08}




@dataclass(frozen=True)
class Plan:
    kind: str
    channel: str
    status: str
    created: datetime
    catalogue: int  # index into data.SERVICES or data.REPORT_CATEGORIES
    text: int
    citizen: int | None  # index into the demo citizens
    transfer: bool
    reopen: bool
    seed: int


def pick(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _creation_time(rng, status, channel, now):
    age = timedelta(days=rng.uniform(*AGE_DAYS[status]))
    latest = now - timedelta(minutes=30)
    local = timezone.localtime(now - age)
    if channel in OPERATOR_CHANNELS:
        day = local.date()
        while True:
            while not is_working_day(day):
                day -= timedelta(days=1)
            minutes = rng.randint(8 * 60 + 30, 17 * 60 + 30)
            at = datetime.combine(day, time(), tzinfo=local.tzinfo) + timedelta(minutes=minutes)
            if at <= latest:
                return at
            day -= timedelta(days=1)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    at = local.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
    return at if at <= latest else now - age


def plan_tickets(seed, count, now, citizens):
    """The demo's tickets, oldest first. Pure: the same arguments give the same plans.

    ``citizens`` are the citizens' specs (dicts with an ``email``).
    """
    rng = random.Random(f"{seed}-plans")
    with_email = [i for i, c in enumerate(citizens) if c["email"]]
    plans = []
    for n in range(count):
        if n < len(COVERAGE):
            kind, channel, status, transfer, reopen = COVERAGE[n]
        else:
            transfer = reopen = None
            kind = rng.choices([Kind.REQUEST, Kind.REPORT], weights=[45, 55])[0]
            status = pick(rng, STATUS_WEIGHTS)
            if status == Status.DRAFT:
                channel = rng.choice(OPERATOR_CHANNELS)
            else:
                channel = pick(rng, CHANNEL_WEIGHTS[kind])
        if kind == Kind.REQUEST:
            catalogue, office_column = data.SERVICES, 3
            weights = [REQUEST_OFFICE_WEIGHTS.get(row[3], 1) for row in catalogue]
        else:
            catalogue, office_column, weights = data.REPORT_CATEGORIES, 2, None
        index = rng.choices(range(len(catalogue)), weights=weights)[0]
        office = catalogue[index][office_column]
        if transfer is None:
            rate = TRANSFER_RATES.get(office, TRANSFER_RATES["*"])
            transfer = status != Status.DRAFT and rng.random() < rate
            reopen = status == Status.RESOLVED and rng.random() < 0.1
        pool = with_email if channel == Channel.EMAIL else range(len(citizens))
        # A few "regulars" write often; everybody else now and then.
        citizen = rng.choice(pool[:15] if rng.random() < 0.3 else pool)
        anonymous_ok = (kind == Kind.REPORT and channel in (Channel.WEB, Channel.OPEN311)
                        and status in (Status.NEW, Status.IN_PROGRESS, Status.RESOLVED))
        if anonymous_ok and rng.random() < 0.15:
            citizen = None
        plans.append(Plan(
            kind=kind, channel=channel, status=status,
            created=_creation_time(rng, status, channel, now),
            catalogue=index, text=rng.randrange(len(catalogue[index][-1])), citizen=citizen,
            transfer=transfer, reopen=reopen,
            seed=rng.getrandbits(32),
        ))
    plans.sort(key=lambda p: p.created)
    return plans
