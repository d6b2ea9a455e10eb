"""Demo tickets: what each one will be (a :class:`Plan`) and how its history is
played (a :class:`Story`) through the services layer.

The services stamp every change with the current time. Once a story is played,
:meth:`Story.finish` moves the timestamps of that ticket, its events and its
notifications back to the moments the story planned, with queryset
``update()`` — the one documented place where the demo writes ticket fields
itself. Every change made by one service call gets the same moment, and
moments only grow along a story, so the order of the timeline is kept.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from .. import services
from ..models import Channel, Kind, Notification, Priority, Ticket, TicketEvent
from ..sla import add_working_days, is_working_day
from ..workflow import Status
from . import data

STATUS_WEIGHTS = {
    Status.RESOLVED: 45, Status.IN_PROGRESS: 22, Status.NEW: 14, Status.WAITING: 11,
    Status.DRAFT: 8,
}
#: How old (in days) a ticket with this final status may be.
AGE_DAYS = {
    Status.DRAFT: (0.05, 6), Status.NEW: (0.03, 5), Status.IN_PROGRESS: (0.5, 30),
    Status.WAITING: (1, 25), Status.RESOLVED: (1.5, 60),
}
CHANNEL_WEIGHTS = {
    Kind.REQUEST: {Channel.WEB: 45, Channel.PHONE: 20, Channel.DESK: 15, Channel.EMAIL: 15,
                   Channel.API: 5},
    Kind.REPORT: {Channel.WEB: 48, Channel.OPEN311: 15, Channel.PHONE: 15, Channel.EMAIL: 8,
                  Channel.DESK: 6, Channel.API: 8},
}
OPERATOR_CHANNELS = (Channel.PHONE, Channel.DESK)
#: The first tickets cover every channel, both kinds and every status.
COVERAGE = [
    (Kind.REQUEST, Channel.PHONE, Status.DRAFT),
    (Kind.REPORT, Channel.OPEN311, Status.NEW),
    (Kind.REQUEST, Channel.WEB, Status.IN_PROGRESS),
    (Kind.REPORT, Channel.DESK, Status.WAITING),
    (Kind.REQUEST, Channel.EMAIL, Status.RESOLVED),
    (Kind.REPORT, Channel.API, Status.RESOLVED),
    (Kind.REPORT, Channel.WEB, Status.RESOLVED),
]
#: Daytime-heavy distribution of the hour citizens write at.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 7, 6, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2]
RESOLUTION_WEIGHTS = {"risolta": 76, "non-di-competenza": 8, "duplicata": 6, "respinta": 5,
                      "annullata-su-richiesta": 5}
#: Hours before a ticket is taken in charge, by priority.
CHARGE_HOURS = {Priority.URGENT: 0.5, Priority.HIGH: 3, Priority.NORMAL: 14, Priority.LOW: 30}


@dataclass(frozen=True)
class Plan:
    kind: str
    channel: str
    status: str
    created: datetime
    catalogue: int  # index into data.SERVICES or data.REPORT_CATEGORIES
    text: int
    citizen: int | None  # index into the demo citizens
    reopen: bool
    seed: int


def _pick(rng, weights):
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
            kind, channel, status = COVERAGE[n]
        else:
            kind = rng.choices([Kind.REQUEST, Kind.REPORT], weights=[45, 55])[0]
            status = _pick(rng, STATUS_WEIGHTS)
            if status == Status.DRAFT:
                channel = rng.choice(OPERATOR_CHANNELS)
            else:
                channel = _pick(rng, CHANNEL_WEIGHTS[kind])
        catalogue = data.SERVICES if kind == Kind.REQUEST else data.REPORT_CATEGORIES
        index = rng.randrange(len(catalogue))
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
            reopen=status == Status.RESOLVED and rng.random() < 0.1,
            seed=rng.getrandbits(32),
        ))
    plans.sort(key=lambda p: p.created)
    return plans


def office_time(at, rng):
    """``at`` if it falls in office hours, else the next working morning."""
    local = timezone.localtime(at)
    day = local.date()
    if is_working_day(day) and 8 <= local.hour < 18:
        return at
    if local.hour >= 8 or not is_working_day(day):
        day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    start = datetime.combine(day, time(8, 0), tzinfo=local.tzinfo)
    return start + timedelta(minutes=rng.randint(15, 150))


class Story:
    """Plays one planned ticket through the services, then dates it."""

    def __init__(self, world, plan, now):
        self.w, self.p = world, plan
        self.rng = random.Random(plan.seed)
        self.at = plan.created
        self.limit = now - timedelta(minutes=2)
        self.moments = {}  # real timestamp of a service call → its planned moment
        self.t = None
        self.citizen = world.citizens[plan.citizen] if plan.citizen is not None else None

    # -- bookkeeping ---------------------------------------------------------

    def _when(self, hours, office):
        if self.t is None:
            return self.at
        at = self.at + timedelta(hours=hours * self.rng.uniform(0.5, 1.5))
        if office:
            at = office_time(at, self.rng)
        if at >= self.limit:  # squeeze what is left of the story before "now"
            at = self.at + (self.limit - self.at) * self.rng.uniform(0.1, 0.4)
        self.at = max(at, self.at + timedelta(seconds=1))
        return self.at

    def do(self, hours, action, *args, office=True, **kwargs):
        """Call a service ``hours`` (roughly) after the previous step."""
        when = self._when(hours, office)
        self.t = action(*args, **kwargs)
        self.moments[self.t.updated_at] = when
        return self.t

    def _moment(self, value):
        if value is None:
            return None
        try:
            return self.moments[value]
        except KeyError:
            raise RuntimeError(
                f"Demo ticket {self.t.pk}: a timestamp ({value}) that no service call of its "
                "story produced; the services layer changed how it stamps tickets."
            ) from None

    def finish(self):
        """Move the ticket, its events and its notifications to the planned moments."""
        t = self.t
        submitted = self._moment(t.submitted_at)
        if t.service_id:
            sla = self.w.sla["service", t.service_id]
        else:
            sla = self.w.sla["category", t.report_category_id]
        Ticket.objects.filter(pk=t.pk).update(
            created_at=self._moment(t.created_at),
            updated_at=self._moment(t.updated_at),
            last_activity_at=self._moment(t.last_activity_at),
            submitted_at=submitted,
            first_response_at=self._moment(t.first_response_at),
            resolved_at=self._moment(t.resolved_at),
            last_citizen_activity_at=self._moment(t.last_citizen_activity_at),
            due_at=add_working_days(submitted, sla) if t.due_at and submitted else None,
        )
        self._move(TicketEvent.objects.filter(ticket_id=t.pk), ["created_at"])
        self._move(Notification.objects.filter(ticket_id=t.pk),
                   ["created_at", "next_attempt_at"])
        return t

    def _move(self, queryset, fields):
        groups = defaultdict(list)
        for pk, at in queryset.values_list("pk", fields[0]):
            groups[self._moment(at)].append(pk)
        for moment, pks in groups.items():
            queryset.model.objects.filter(pk__in=pks).update(**dict.fromkeys(fields, moment))

    # -- people --------------------------------------------------------------

    def member(self, exclude=None, office_id=None):
        """An operator of the ticket's office (or of ``office_id``)."""
        people = self.w.members.get(office_id or self.t.office_id) or [self.w.admin]
        others = [u for u in people if u != exclude] or people
        return self.rng.choice(others)

    def supervisor(self):
        return self.rng.choice(self.w.supervisors.get(self.t.office_id) or [self.w.admin])

    def worker(self):
        """Whoever has the ticket, or somebody of its office."""
        user = self.w.users.get(self.t.assignee_id)
        return user if user is not None else self.member()

    def operator(self, user):
        """``user`` opens the ticket: the citizen's messages count as read."""
        if self.t.unread_count:
            services.mark_read(self.t, user)
        return user

    def citizen_says(self, hours, texts):
        actor = services.CitizenActor(self.citizen)
        return self.do(hours, services.add_citizen_message, self.t, actor,
                       self.rng.choice(texts), office=False)

    # -- the story -----------------------------------------------------------

    def play(self):
        p = self.p
        self._create()
        if p.status != Status.DRAFT:
            self._early()
        if p.status not in (Status.DRAFT, Status.NEW):
            self._charge()
            self._work()
            if p.status == Status.WAITING:
                self._ask(answered=False)
            elif p.status == Status.IN_PROGRESS:
                self._in_progress_end()
            else:
                self._resolve()
        return self.finish()

    def _ticket_data(self):
        p, rng = self.p, self.rng
        fields = {"kind": p.kind, "channel": p.channel, "citizen": self.citizen}
        if p.kind == Kind.REQUEST:
            service, texts = self.w.services[p.catalogue]
            subject, description = texts[p.text]
            fields["service"] = service
        else:
            category, texts = self.w.categories[p.catalogue]
            street, lat, lng = rng.choice(self.w.streets)
            number = rng.randint(1, 140)
            words = {"strada": street[0].lower() + street[1:], "civico": number,
                     "luogo": f"{street[0].lower() + street[1:]} {number}"}
            subject, description = (s.format(**words) for s in texts[p.text])
            fields.update(
                report_category=category, address=f"{street}, {number}",
                latitude=Decimal(f"{lat + rng.uniform(-0.002, 0.002):.6f}"),
                longitude=Decimal(f"{lng + rng.uniform(-0.002, 0.002):.6f}"),
            )
        fields.update(subject=subject, description=description)
        return fields

    def _create(self):
        p, rng = self.p, self.rng
        fields = self._ticket_data()
        if p.channel in OPERATOR_CHANNELS:
            catalogue = fields.get("service") or fields["report_category"]
            actor = self.member(office_id=catalogue.office_id)
            draft = p.status == Status.DRAFT or rng.random() < 0.3
            note = rng.choice(data.NOTES) if rng.random() < 0.25 else ""
            self.do(0, services.create_ticket, actor, draft=draft, note=note, **fields)
            if p.status == Status.DRAFT:
                if rng.random() < 0.3:
                    self._priority(actor)
            elif draft:
                self.do(0.1, services.submit_ticket, self.t, actor)
            return
        if p.channel == Channel.WEB and self.citizen is not None:
            actor = services.CitizenActor(self.citizen)
        else:
            actor = services.SYSTEM  # inbound mailbox, API and Open311 clients
        self.do(0, services.create_ticket, actor, **fields)

    def _early(self):
        rng = self.rng
        if self.citizen is not None and rng.random() < 0.15:
            self.citizen_says(rng.uniform(2, 30), data.CITIZEN_FOLLOWUPS)
        if rng.random() < 0.2:
            self._priority(self.member())
        office_slug = self.w.office_slug[self.t.office_id]
        if rng.random() < (0.3 if office_slug == "urp" else 0.08):
            target = self.w.offices[rng.choice(data.TRANSFER_TARGETS[office_slug])]
            note = rng.choice(data.TRANSFER_NOTES).format(ufficio=target.name)
            self.do(rng.uniform(1, 20), services.transfer, self.t,
                    self.operator(self.worker()), target, note=note)

    def _priority(self, actor):
        current = self.t.priority
        weights = {Priority.LOW: 2, Priority.NORMAL: 2, Priority.HIGH: 5, Priority.URGENT: 2}
        weights.pop(current, None)
        self.do(self.rng.uniform(0.1, 6), services.set_priority, self.t,
                self.operator(actor), _pick(self.rng, weights))

    def _reply_text(self):
        texts = data.REQUEST_REPLIES if self.p.kind == Kind.REQUEST else data.REPORT_REPLIES
        return self.rng.choice(texts)

    def _charge(self):
        rng = self.rng
        hours = CHARGE_HOURS[Priority(self.t.priority)]
        roll = rng.random()
        if roll < 0.3:
            boss = self.supervisor()
            assignee = self.member(exclude=boss)
            if assignee != boss:
                self.do(hours, services.assign, self.t, self.operator(boss), assignee)
                return
        if roll < 0.75:
            self.do(hours, services.take_charge, self.t, self.operator(self.member()))
        else:  # replying to a pending ticket takes it in charge
            self.do(hours, services.reply, self.t, self.operator(self.member()),
                    self._reply_text())

    def _work(self):
        rng = self.rng
        rounds = rng.choices([0, 1, 2, 3], weights=[25, 40, 25, 10])[0]
        for _round in range(rounds):
            step = _pick(rng, {"reply": 35, "note": 25, "ask": 20 if self.citizen else 0,
                               "priority": 10, "reassign": 10})
            if step == "reply":
                self.do(rng.uniform(1, 30), services.reply, self.t,
                        self.operator(self.worker()), self._reply_text())
            elif step == "note":
                self.do(rng.uniform(0.2, 8), services.add_note, self.t,
                        self.operator(self.worker()), rng.choice(data.NOTES))
            elif step == "ask":
                self._ask(answered=True)
            elif step == "priority":
                self._priority(self.worker())
            else:
                current = self.worker()
                other = self.member(exclude=current)
                if other != current and other.pk != self.t.assignee_id:
                    self.do(rng.uniform(1, 24), services.assign, self.t,
                            self.operator(self.supervisor()), other)

    def _ask(self, answered):
        rng = self.rng
        self.do(rng.uniform(1, 24), services.mark_waiting, self.t,
                self.operator(self.worker()), message=rng.choice(data.WAITING_QUESTIONS))
        if answered:
            self.citizen_says(rng.uniform(2, 72), data.CITIZEN_ANSWERS)

    def _in_progress_end(self):
        rng = self.rng
        roll = rng.random()
        if self.citizen is not None and roll < 0.12:
            self._resolve_once("risolta")  # …and the citizen is not satisfied
            self.citizen_says(rng.uniform(6, 96), data.CITIZEN_REOPENS)
        elif self.citizen is not None and roll < 0.25:
            self.citizen_says(rng.uniform(2, 48), data.CITIZEN_FOLLOWUPS)

    def _resolve_once(self, slug):
        rng = self.rng
        key = f"risolta/{self.p.kind}" if slug == "risolta" else slug
        hours = rng.uniform(4, 120) if self.p.kind == Kind.REPORT else rng.uniform(2, 72)
        self.do(hours, services.resolve, self.t, self.operator(self.worker()),
                self.w.resolutions[slug], rng.choice(data.RESOLUTIONS[key]))

    def _resolve(self):
        rng = self.rng
        slug = _pick(rng, RESOLUTION_WEIGHTS)
        if slug == "annullata-su-richiesta":
            if self.citizen is None:
                slug = "risolta"
            else:
                self.citizen_says(rng.uniform(2, 48), data.CITIZEN_CANCELS)
        if self.p.reopen:
            slug = "risolta"
        self._resolve_once(slug)
        if not self.p.reopen:
            return
        if self.citizen is not None and rng.random() < 0.6:
            self.citizen_says(rng.uniform(12, 120), data.CITIZEN_REOPENS)
        else:
            self.do(rng.uniform(4, 72), services.reopen, self.t,
                    self.operator(self.supervisor()), reason=rng.choice(data.OPERATOR_REOPENS))
        self.do(rng.uniform(1, 24), services.reply, self.t, self.operator(self.worker()),
                self._reply_text())
        self._resolve_once("risolta")
