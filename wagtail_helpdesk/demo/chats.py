"""The demo's live chats: a few conversations built through the chat's
services, so the operators' workspace has something in each state when the
demo starts (one waiting in the URP queue, one active with "operatore", one
closed with its transcript on the ticket and the citizen's rating).

The people are declared identities (a name and an e-mail typed in the chat
widget), as most chats are; the texts are the demo's Italian.
"""

from ..services import conversations

OPERATOR = "operatore"
RESOLUTION = "risolta"

#: (service slug, person, [(author, text)…], what happens next). The first
#: text is the citizen's opening message; "active": an operator accepted it;
#: "closed": then ended, resolved and rated by the citizen.
CHATS = [
    ("informazioni-generali",
     {"given_name": "Chiara", "family_name": "Galli", "email": "chiara.galli@example.org"},
     [("citizen", "Buongiorno, l'ufficio anagrafe è aperto anche il sabato mattina?")],
     "waiting"),
    ("passo-carrabile",
     {"given_name": "Roberto", "family_name": "Gallo", "email": "roberto.gallo@example.org"},
     [("citizen", "Buongiorno, ho chiesto il passo carrabile tre settimane fa: a che punto è "
                  "la pratica?"),
      ("operator", "Buongiorno, sono Giulia dell'ufficio Lavori pubblici. Controllo subito: "
                   "mi dice il numero di protocollo?"),
      ("citizen", "Certo, è il 2025/4471."),
      ("operator", "Grazie. La pratica è in istruttoria: il sopralluogo dei tecnici è previsto "
                   "la prossima settimana.")],
     "active"),
    ("biblioteca-eventi",
     {"given_name": "Elisa", "family_name": "Conti", "email": "elisa.conti@example.org"},
     [("citizen", "Buongiorno, la biblioteca civica resta aperta durante le vacanze di Natale?"),
      ("operator", "Buongiorno Elisa, sì: dal 27 al 30 dicembre è aperta dalle 9 alle 13, "
                   "chiusa nei giorni festivi."),
      ("citizen", "Perfetto, grazie mille!")],
     "closed"),
]
CLOSING_TEXT = ("Informazioni sugli orari della biblioteca nei giorni di festa date in chat.")
RATING = (5, "Risposta veloce e chiara.")


def build(world):
    """Start the demo's chats (in the caller's transaction); the number built.
    Skipped when the demo's operator or one of the services is missing."""
    operator = next((u for u in world.users.values() if u.username == OPERATOR), None)
    services = {service.slug: service for service, _samples in world.services}
    resolution = world.resolutions.get(RESOLUTION)
    if operator is None or resolution is None \
            or any(slug not in services for slug, *_rest in CHATS):
        return 0
    for n, (slug, person, lines, outcome) in enumerate(CHATS, start=1):
        (_author, opening), replies = lines[0], lines[1:]
        c = conversations.start(service=services[slug], body=opening, person=dict(person),
                                client_id=f"demo-{n}-0",
                                user_agent="Mozilla/5.0 (Android 14; Mobile; rv:133.0) "
                                           "Gecko/133.0 Firefox/133.0")
        token = c.token
        if outcome == "waiting":
            continue
        c = conversations.accept(c, operator)
        citizen = conversations.citizen_actor(c)
        for i, (author, text) in enumerate(replies, start=1):
            actor = citizen if author == "citizen" else operator
            conversations.send(c, actor, text, f"demo-{n}-{i}")
        if outcome == "closed":
            conversations.end(c, operator)
            c = conversations.close(c, operator, resolution, CLOSING_TEXT)
            rate = getattr(conversations, "rate", None)  # the citizen's rating, once
            if rate is not None:
                rate(conversations.by_token(token), citizen, *RATING)
    return len(CHATS)
