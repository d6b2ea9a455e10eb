"""What the demo shows of the AI assist: citizens reporting the same problems
in their own words (for "Possibile duplicato" and the grouped reports) and one
long request (for the summary and the suggested replies).

The tickets are created through the services layer like every other demo
ticket, in the last days before ``now``; the embeddings are computed by
:func:`embed_all` with the model installed on the demo machine.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .. import services
from ..models import Channel, Kind, ReportCategory, Service, Ticket, TicketEvent

#: (category slug, street, reports: (channel, subject, description, metres
#: east and north of the street's point, days ago, street number)).
CLUSTERS = [
    ("buche-stradali", "Corso Garibaldi", [
        (Channel.WEB, "Buca profonda in corso Garibaldi",
         "Davanti al civico 41 di corso Garibaldi c'è una buca profonda almeno dieci "
         "centimetri. Stamattina un ragazzo in motorino ha rischiato di cadere.", 0, 0, 6, 41),
        (Channel.PHONE, "Voragine sull'asfalto",
         "La cittadina telefona per un grosso avvallamento dell'asfalto all'altezza del 43 di "
         "corso Garibaldi, vicino alla farmacia: le auto lo evitano invadendo l'altra corsia.",
         25, 10, 4, 43),
        (Channel.EMAIL, "buca corso garibaldi",
         "salve c'e una buca enorme in corso garibaldi vicino alla farmacia, con la pioggia non "
         "si vede e ci si finisce dentro. mettete almeno un cartello", -15, 20, 3, 43),
        (Channel.OPEN311, "Dissesto stradale",
         "Asfalto sfondato in corso Garibaldi nei pressi del civico 39, pericolo per ciclisti e "
         "motociclisti.", -30, -10, 2, 39),
        (Channel.WEB, "Ancora la buca in corso Garibaldi",
         "Segnalo di nuovo la buca davanti alla farmacia di corso Garibaldi: è diventata più "
         "grande e stasera una macchina ci ha bucato una gomma.", 10, 5, 1, 41),
    ]),
    ("illuminazione-pubblica", "Via Vittorio Emanuele II", [
        (Channel.WEB, "Lampioni spenti in via Vittorio Emanuele",
         "Da tre sere i lampioni di via Vittorio Emanuele tra la piazza e la scuola sono "
         "spenti: si cammina al buio.", 0, 0, 5, 10),
        (Channel.PHONE, "Strada al buio",
         "Il cittadino segnala che in via Vittorio Emanuele, all'altezza della scuola media, "
         "l'illuminazione pubblica non funziona e di sera non si vede nulla.", 40, -20, 3, 14),
        (Channel.API, "Illuminazione guasta",
         "via vittorio emanuele completamente al buio la sera, i pali della luce non si "
         "accendono piu", -20, 30, 1, 12),
    ]),
]

#: One long request: (who, text) in order; "citizen", "operator" (reply),
#: "note", "waiting" (a question that waits for the citizen).
LONG_REQUEST = ("tari", "Rimborso TARI pagata due volte", (
    "Buongiorno, a marzo ho pagato due volte la prima rata della TARI 2026 per l'appartamento "
    "di via Roma 12: una volta con il modello F24 arrivato a casa e una volta con l'avviso "
    "pagoPA che mi avete mandato per e-mail. Vorrei sapere come avere indietro la somma "
    "pagata in più, che è di 142 euro."
), [
    ("operator", "Buongiorno, abbiamo preso in carico la sua richiesta. Stiamo verificando "
                 "i due pagamenti nel sistema dei tributi."),
    ("note", "Sul gestionale risultano entrambi i versamenti del 14 e del 16 marzo."),
    ("waiting", "Per avviare il rimborso ci serve l'IBAN del conto su cui accreditare la "
                "somma, intestato a chi ha pagato: può inviarcelo rispondendo a questo "
                "messaggio?"),
    ("citizen", "Vi ho mandato l'IBAN nel modulo allegato. Il conto è cointestato con mia "
                "moglie, spero non sia un problema."),
    ("operator", "Grazie. Un conto cointestato va bene. La pratica di rimborso è stata "
                 "avviata: riceverà l'accredito entro 90 giorni."),
    ("citizen", "Grazie mille. Posso invece compensare la somma con la seconda rata, così "
                "non aspetto tre mesi? Non ho capito se è possibile."),
    ("note", "Compensazione possibile solo con domanda scritta entro la scadenza della rata."),
])


#: How many tickets :func:`build` makes.
EXAMPLES = sum(len(reports) for _slug, _street, reports in CLUSTERS) + 1


def _point(lat, lng, east_m, north_m):
    dlat = north_m / 111_320
    dlng = east_m / (111_320 * 0.707)  # cos(45°)
    return Decimal(f"{lat + dlat:.6f}"), Decimal(f"{lng + dlng:.6f}")


def _streets(world):
    return {name: (lat, lng) for name, lat, lng in world.streets}


def build(world, now):
    """Create the demo's duplicate reports and its long request; return how
    many tickets were made."""
    made = 0
    places = _streets(world)
    citizens = iter(world.citizens[40:])
    for slug, street, reports in CLUSTERS:
        category = ReportCategory.objects.get(slug=slug)
        lat, lng = places.get(street) or next(iter(places.values()))
        for channel, subject, description, east, north, days, number in reports:
            citizen = next(citizens)
            actor = (services.CitizenActor(citizen) if channel == Channel.WEB
                     else services.SYSTEM)
            if channel == Channel.PHONE:
                actor = world.members[category.office_id][0]
            latitude, longitude = _point(lat, lng, east, north)
            ticket = services.create_ticket(
                actor, kind=Kind.REPORT, channel=channel, citizen=citizen,
                report_category=category, subject=subject, description=description,
                latitude=latitude, longitude=longitude, address=f"{street}, {number}",
            )
            moment = now - timedelta(days=days, hours=3)
            _backdate(ticket, moment, moment)
            made += 1
    made += _long_request(world, now)
    return made


def _long_request(world, now):
    slug, subject, description, steps = LONG_REQUEST
    service = Service.objects.get(slug=slug)
    citizen = world.citizens[3]
    as_citizen = services.CitizenActor(citizen)
    operator = world.members[service.office_id][0]
    ticket = services.create_ticket(as_citizen, kind=Kind.REQUEST, channel=Channel.WEB,
                                    citizen=citizen, service=service, subject=subject,
                                    description=description)
    for who, text in steps:
        if who == "citizen":
            ticket = services.add_citizen_message(ticket, as_citizen, text)
        elif who == "operator":
            ticket = services.reply(ticket, operator, text)
        elif who == "note":
            ticket = services.add_note(ticket, operator, text)
        else:
            ticket = services.mark_waiting(ticket, operator, message=text)
    _backdate(ticket, now - timedelta(days=9), now - timedelta(hours=5))
    return 1


def _backdate(ticket, start, end=None):
    """Move the ticket's history (stamped "now" by the services) to between
    ``start`` and ``end`` (default: two hours ago), keeping its order: every
    moment a service call stamped gets its own time, and the ticket's dates,
    deadline and notifications follow their events."""
    from ..models import Notification
    from ..sla import add_working_days

    end = end or timezone.now() - timedelta(hours=2)
    events = list(TicketEvent.objects.filter(ticket_id=ticket.pk).order_by("pk")
                  .values_list("pk", "created_at"))
    moments = sorted({at for _pk, at in events})
    step = (end - start) / max(1, len(moments) - 1)
    moved = {at: start + step * index for index, at in enumerate(moments)}
    notifications = list(Notification.objects.filter(ticket_id=ticket.pk).values_list(
        "pk", "event__created_at"))
    for pk, at in events:
        TicketEvent.objects.filter(pk=pk).update(created_at=moved[at])
    for pk, at in notifications:
        if at in moved:
            Notification.objects.filter(pk=pk).update(created_at=moved[at],
                                                      next_attempt_at=moved[at])
    ticket = Ticket.objects.select_related("service", "report_category").get(pk=ticket.pk)
    changes = {name: moved.get(getattr(ticket, name), getattr(ticket, name))
               for name in ("created_at", "submitted_at", "updated_at", "last_activity_at",
                            "first_response_at", "resolved_at", "last_citizen_activity_at")
               if getattr(ticket, name) is not None}
    sla = (ticket.service or ticket.report_category).sla_days
    if ticket.due_at and changes.get("submitted_at") and sla:
        changes["due_at"] = add_working_days(changes["submitted_at"], sla)
    Ticket.objects.filter(pk=ticket.pk).update(**changes)
