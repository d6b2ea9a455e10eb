"""How a planned demo ticket (see :mod:`.plans`) lives: a :class:`Story` plays
its history through the services layer, with the right people at plausible times.

The services stamp every change with the current time. Once a story is played,
:meth:`Story.finish` moves the timestamps of that ticket, its events and its
notifications back to the moments the story planned, with queryset
``update()`` — the one documented place where the demo writes ticket fields
itself. Every change made by one service call gets the same moment, and
moments only grow along a story, so the order of the timeline is kept.
"""

import random
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from .. import services
from ..models import Channel, Kind, Notification, Priority, Ticket, TicketEvent
from ..sla import add_working_days, is_working_day
from ..workflow import Status
from . import data, texts
from .plans import OPERATOR_CHANNELS, pick

RESOLUTION_WEIGHTS = {"risolta": 76, "non-di-competenza": 8, "duplicata": 6, "respinta": 5,
                      "annullata-su-richiesta": 5}
#: Hours before a ticket is taken in charge, by priority.
CHARGE_HOURS = {Priority.URGENT: 0.5, Priority.HIGH: 3, Priority.NORMAL: 14, Priority.LOW: 30}


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
        self.used = set()  # texts already written in this ticket
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
        when = self._when(hours, office).astimezone(UTC)  # as the services' timezone.now()
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

    def text(self, options):
        """One of ``options``, not yet used in this ticket if possible."""
        choice = self.rng.choice([o for o in options if o not in self.used] or options)
        self.used.add(choice)
        return choice

    # -- people --------------------------------------------------------------

    def member(self, exclude=None, office_id=None):
        """An operator of the ticket's office (or of ``office_id``)."""
        people = self.w.members.get(office_id or self.t.office_id) or [self.w.admin]
        if people == [None]:
            raise RuntimeError("Nobody can work on this office's demo tickets.")
        others = [u for u in people if u != exclude] or people
        return self.rng.choice(others)

    def supervisor(self):
        bosses = self.w.supervisors.get(self.t.office_id)
        return self.rng.choice(bosses) if bosses else self.w.admin or self.member()

    def worker(self):
        """Whoever has the ticket, or somebody of its office."""
        user = self.w.users.get(self.t.assignee_id)
        return user if user is not None else self.member()

    def operator(self, user):
        """``user`` opens the ticket: the citizen's messages count as read."""
        if self.t.unread_count:
            services.mark_read(self.t, user)
        return user

    def citizen_says(self, hours, options):
        actor = services.CitizenActor(self.citizen)
        return self.do(hours, services.add_citizen_message, self.t, actor,
                       self.text(options), office=False)

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
            note = self.text(texts.NOTES) if rng.random() < 0.25 else ""
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
            self.citizen_says(rng.uniform(2, 30), texts.CITIZEN_FOLLOWUPS)
        if rng.random() < 0.2:
            self._priority(self.member())
        if self.p.transfer:
            office_slug = self.w.office_slug[self.t.office_id]
            target = self.w.offices[rng.choice(data.TRANSFER_TARGETS[office_slug])]
            note = self.text(texts.TRANSFER_NOTES).format(ufficio=target.name)
            self.do(rng.uniform(1, 20), services.transfer, self.t,
                    self.operator(self.worker()), target, note=note)

    def _priority(self, actor):
        current = self.t.priority
        weights = {Priority.LOW: 2, Priority.NORMAL: 2, Priority.HIGH: 5, Priority.URGENT: 2}
        weights.pop(current, None)
        self.do(self.rng.uniform(0.1, 6), services.set_priority, self.t,
                self.operator(actor), pick(self.rng, weights))

    def _reply_text(self):
        request = self.p.kind == Kind.REQUEST
        return self.text(texts.REQUEST_REPLIES if request else texts.REPORT_REPLIES)

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
        step = None
        for _round in range(rounds):
            step = pick(rng, {"reply": 0 if step == "reply" else 35, "note": 25,
                               "ask": 20 if self.citizen else 0, "priority": 10, "reassign": 10})
            if step == "reply":
                self.do(rng.uniform(1, 30), services.reply, self.t,
                        self.operator(self.worker()), self._reply_text())
            elif step == "note":
                self.do(rng.uniform(0.2, 8), services.add_note, self.t,
                        self.operator(self.worker()), self.text(texts.NOTES))
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
        question, answer = self.text(texts.WAITING[self.p.kind])
        self.do(rng.uniform(1, 24), services.mark_waiting, self.t,
                self.operator(self.worker()), message=question)
        if answered:
            self.citizen_says(rng.uniform(2, 72), [answer])

    def _in_progress_end(self):
        rng = self.rng
        roll = rng.random()
        if self.citizen is not None and roll < 0.12:
            self._resolve_once("risolta")  # …and the citizen is not satisfied
            self.citizen_says(rng.uniform(6, 96), texts.CITIZEN_REOPENS)
        elif self.citizen is not None and roll < 0.25:
            self.citizen_says(rng.uniform(2, 48), texts.CITIZEN_FOLLOWUPS)

    def _resolve_once(self, slug):
        rng = self.rng
        key = f"risolta/{self.p.kind}" if slug == "risolta" else slug
        hours = rng.uniform(4, 120) if self.p.kind == Kind.REPORT else rng.uniform(2, 72)
        self.do(hours, services.resolve, self.t, self.operator(self.worker()),
                self.w.resolutions[slug], self.text(texts.RESOLUTIONS[key]))

    def _resolve(self):
        rng = self.rng
        slug = pick(rng, RESOLUTION_WEIGHTS)
        if slug == "annullata-su-richiesta":
            if self.citizen is None:
                slug = "risolta"
            else:
                self.citizen_says(rng.uniform(2, 48), texts.CITIZEN_CANCELS)
        if self.p.reopen:
            slug = "risolta"
        self._resolve_once(slug)
        if not self.p.reopen:
            return
        if self.citizen is not None and rng.random() < 0.6:
            self.citizen_says(rng.uniform(12, 120), texts.CITIZEN_REOPENS)
        else:
            self.do(rng.uniform(4, 72), services.reopen, self.t,
                    self.operator(self.supervisor()), reason=self.text(texts.OPERATOR_REOPENS))
        self.do(rng.uniform(1, 24), services.reply, self.t, self.operator(self.worker()),
                self._reply_text())
        self._resolve_once("risolta")
