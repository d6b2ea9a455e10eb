"""What the demo shows of labels: a small vocabulary (two global labels, a
few per office, the URP's open to new names) and labels on some of the open
demo tickets, put there through the services layer by the offices' operators
(so each has its "Etichette modificate" event)."""

import random

from django.db.models import Q

from .. import services
from ..models import EventKind, Label, Office, Ticket, TicketEvent, TicketLabel
from ..workflow import OPEN_STATUSES

#: (name, colour, office slug or None for a global label, description).
VOCABULARY = [
    ("Urgente", "red", None, "Da trattare prima delle altre."),
    ("Da richiamare", "orange", None, "Il cittadino aspetta una telefonata."),
    ("Manutenzione programmata", "teal", "lavori-pubblici",
     "Intervento già previsto nel piano delle manutenzioni."),
    ("Coinvolge la Polizia Locale", "blue", "lavori-pubblici",
     "Serve un sopralluogo o un'ordinanza della Polizia Locale."),
    ("Stampa/social", "purple", "urp", "Se ne parla sui giornali o sui social."),
    ("Reclamo", "brown", "urp", "Il cittadino lamenta un disservizio."),
    ("Sosta e viabilità", "olive", "polizia-locale-mobilita", ""),
    ("Potature", "green", "ambiente-verde", "Alberi e siepi da potare."),
    ("Rateizzazione", "pink", "tributi", "Richiesta di pagamento a rate."),
]

#: The office whose operators may type new labels.
OPEN_OFFICE = "urp"
#: Roughly one open ticket in this many gets labels.
EVERY = 3
SEED = 19


def ensure_vocabulary(world):
    """The demo's labels (existing ones kept); returns how many were created."""
    made = 0
    for name, colour, slug, description in VOCABULARY:
        office = world.offices.get(slug) if slug else None
        if slug and office is None:
            continue
        _label, new = Label.objects.get_or_create(
            name=name, office=office,
            defaults={"colour": colour, "description": description,
                      "created_by": world.admin})
        made += new
    Office.objects.filter(pk=getattr(world.offices.get(OPEN_OFFICE), "pk", None)).update(
        open_labels=True)
    return made


def _labeller(world, ticket):
    people = world.members.get(ticket.office_id) or []
    return ticket.assignee or (people[0] if people else world.admin)


def build(world, now):
    """Create the vocabulary and label some open demo tickets; return how many
    labels were created plus how many tickets were labelled."""
    made = ensure_vocabulary(world)
    rng = random.Random(SEED)
    labelled = 0
    offices = [office.pk for office in world.offices.values()]
    tickets = (Ticket.objects.filter(status__in=OPEN_STATUSES, office__in=offices)
               .select_related("office", "assignee").order_by("pk"))
    for ticket in tickets:
        if rng.randrange(EVERY):
            continue
        offered = list(Label.objects.filter(Q(office__isnull=True) | Q(office=ticket.office))
                       .order_by("name"))
        if not offered:
            continue
        chosen = rng.sample(offered, k=min(len(offered), rng.choice((1, 1, 2))))
        actor = _labeller(world, ticket)
        if actor is None:
            continue
        moment = ticket.last_activity_at
        changed = services.add_labels(ticket, actor, chosen)
        if changed.label_change:
            # Part of the ticket's dated history: labelled at its last interaction.
            _back_to(ticket, moment)
            labelled += 1
    return made + labelled


def _back_to(ticket, moment):
    """Date the labels just added, and their timeline entry, at ``moment``."""
    TicketEvent.objects.filter(ticket=ticket, kind=EventKind.LABELS_CHANGED).update(
        created_at=moment)
    TicketLabel.objects.filter(ticket=ticket).update(added_at=moment)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=moment)
